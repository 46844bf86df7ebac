"""The repository's own files that the simulator and the CLI's defaults name.

Standard library only: ``ecs-bg --help`` shows these defaults before any command imports the simulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

# Found from this source tree (src/ecs_bg/deploy/paths.py -> the repository), not the working directory.
REPOSITORY_ROOT: Final = Path(__file__).resolve().parents[3]
# The seed's entry files.
INFRASTRUCTURE: Final = REPOSITORY_ROOT / "infrastructure"
# The CDK app's settings: its hookDetails context reaches each function as ECS_BG_HOOK_DETAILS.
CDK_JSON: Final = INFRASTRUCTURE / "cdk.json"
ECSPRESSO_CONFIG: Final = REPOSITORY_ROOT / "ecspresso" / "ecspresso.yml"
