"""The error a template, a cloud assembly or a value in them raises: it names the file and the field.

A field is written as CloudFormation's own JSON path into the template, so a user finds it at once:

    cdk.out/app.template.json: Resources.Hook.Properties.Environment.Variables.URL.Fn::GetAtt:
    AWS::ElasticLoadBalancingV2::LoadBalancer has no attribute DnsName (it has CanonicalHostedZoneID, ...)

A value that failed to resolve while another one needed it says so (``needed by Outputs.Url.Value``):
the field at fault comes first, then what led there.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ecs_bg.deploy.errors import DefinitionError

# A field's place in a template: ("Resources", "Hook", "Properties", "Layers", 0).
FieldPath = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """("Resources", "Fn", "Properties", "Layers", 0) -> Resources.Fn.Properties.Layers[0]."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


class TemplateError(DefinitionError):
    """A template, or a value in it, that ecs-bg cannot use: ``file`` and ``path`` say where."""

    def __init__(self, file: Path | str, path: Sequence[str | int], reason: str) -> None:
        super().__init__(reason)
        self.file = Path(file)
        self.path: FieldPath = tuple(path)
        self.reason = reason
        self.needed_by: list[str] = []

    def needed(self, file: Path | str, path: Sequence[str | int]) -> None:
        """Records that the value at ``path`` needed the one that failed (once per place)."""
        where = format_path(path) if Path(file) == self.file else f"{file}: {format_path(path)}"
        if where != format_path(self.path) and where not in self.needed_by:
            self.needed_by.append(where)

    def __str__(self) -> str:
        where = f"{self.file}: {format_path(self.path)}: " if self.path else f"{self.file}: "
        needed = f" (needed by {', then '.join(self.needed_by)})" if self.needed_by else ""
        return where + self.reason + needed
