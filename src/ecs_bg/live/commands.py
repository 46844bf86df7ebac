"""Commands printed for a person to paste: each carries every option it needs to reach the same place.

A watch given ``--endpoint-url`` (the simulator's local endpoint) or ``--profile`` must print an
``ecs-bg approve`` that goes there too, not to the default account; cluster, service and region are
spelled out so the command works from any directory, with or without the ecspresso config.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ecs_bg.live.aws import Connection


@dataclass(frozen=True)
class Where:
    """The service a command acts on, and how to reach its AWS."""

    cluster: str
    service: str
    connection: Connection

    def ecs_bg(self, command: str, *args: str) -> str:
        """``ecs-bg COMMAND ARGS --cluster C --service S`` and the region, profile and endpoint options."""
        where = ["--cluster", self.cluster, "--service", self.service]
        return shlex.join(["ecs-bg", command, *args, *where, *self._aws()])

    def aws(self, *args: str) -> str:
        """The AWS CLI with the same region, profile and endpoint."""
        return shlex.join(["aws", *args, *self._aws()])

    def _aws(self) -> list[str]:
        connection = self.connection
        return [
            *(["--region", connection.region] if connection.region else []),
            *(["--profile", connection.profile] if connection.profile else []),
            *(["--endpoint-url", connection.endpoint_url] if connection.endpoint_url else []),
        ]
