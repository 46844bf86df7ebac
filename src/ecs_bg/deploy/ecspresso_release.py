"""The ecspresso release this project requires and the pipeline installs: one constant for both.

Why 2.8.6 (kayac/ecspresso CHANGELOG.md, read 2026-09):
- v2.6.0 (#861) first passes deploymentController/deploymentConfiguration to UpdateService; v2.6.1,
  the old pin, is built on an ECS SDK without ``targetType``/``timeoutConfiguration`` (PAUSE hooks,
  AWS 2026-05), so its strict decoder warns "unknown field" and drops them (ecspresso.go
  ``unmarshalJSON``: DisallowUnknownFields, then a lax retry).
- v2.8.5 (#1030) bumps aws-sdk-go-v2/service/ecs after the PAUSE launch; v2.8.6 (#1063/#1064,
  #1068/#1069) adds ``--wait-until ecs:<STAGE>`` and reads PAUSE hooks to warn when one blocks the
  wait, so its SDK certainly carries ``targetType`` and ``timeoutConfiguration``.
- ``hookDetails`` survives no release: the SDK types it as ``document.Interface``
  (service/ecs/internal/document/document.go: an interface with an unexported method and no
  json.Unmarshaler), and ecspresso loads the service definition with encoding/json, which cannot
  decode a JSON object into it. Configure hooks through the stack's ``hookDetails`` context instead
  (the functions' ECS_BG_HOOK_DETAILS).
"""

from __future__ import annotations

from typing import Final

ECSPRESSO_RELEASE: Final = "2.8.6"
# The same release as a comparable tuple, for required_version checks.
ECSPRESSO_MINIMUM: Final = tuple(int(part) for part in ECSPRESSO_RELEASE.split("."))
