"""Where a user's files are, found from the working directory the way ecspresso finds its config.

- the ecspresso config: ``--config``, else ``ecspresso.yml`` in the working directory, else
  ``ecspresso/ecspresso.yml`` (ecspresso's own default is ``ecspresso.yml``; the second is this
  project's layout);
- ``simulation.yml``: beside the config;
- the CDK app (its ``cdk.json``): what ``simulation.yml`` names (``cdkApp:``, a folder), else
  ``cdk.json`` in the working directory, else ``infrastructure/cdk.json``.

Nothing is ever looked for beside ecs-bg's own code: an installed ecs-bg reads only the user's files.
Standard library only: ``ecs-bg --help`` imports this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from ecs_bg.deploy.errors import DefinitionError

CONFIGS: Final = ("ecspresso.yml", "ecspresso/ecspresso.yml")
CDK_JSONS: Final = ("cdk.json", "infrastructure/cdk.json")
SIMULATION_YML: Final = "simulation.yml"


def find_config(given: Path | None, cwd: Path | None = None) -> Path:
    """The ecspresso config; a DefinitionError says where it was looked for."""
    if given is not None:
        return given
    here = cwd or Path.cwd()
    for candidate in CONFIGS:
        if (here / candidate).is_file():
            return here / candidate
    raise DefinitionError(
        f"no ecspresso config: give --config, or run where {' or '.join(CONFIGS)} is (looked in {here})"
    )


def simulation_file(config: Path) -> Path | None:
    """``simulation.yml`` beside the config, if there is one."""
    path = config.parent / SIMULATION_YML
    return path if path.is_file() else None


def find_cdk_json(given: Path | None, cwd: Path | None = None) -> Path | None:
    """The CDK app's cdk.json: ``given`` (a cdk.json, or the app's folder), else one of CDK_JSONS in
    the working directory; None when there is none."""
    if given is not None:
        return given / "cdk.json" if given.is_dir() else given
    here = cwd or Path.cwd()
    return next((here / name for name in CDK_JSONS if (here / name).is_file()), None)
