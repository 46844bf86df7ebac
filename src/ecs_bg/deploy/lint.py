"""Lint = the API model's findings plus ECS's rules, in a stable order."""

from __future__ import annotations

from ecs_bg.deploy.definitions import Definitions
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.findings import Finding
from ecs_bg.deploy.model import model_findings
from ecs_bg.deploy.rules import LintOptions, rule_findings

# docker's platform names (linux/arm64) and the names ECS uses (ARM64) for the same thing.
_DOCKER_ARCHITECTURES = {"arm64": "ARM64", "aarch64": "ARM64", "amd64": "X86_64", "x86_64": "X86_64"}


def image_architectures(platforms: list[str]) -> frozenset[str]:
    """`linux/arm64,linux/amd64` (as given to docker buildx --platform) -> {"ARM64", "X86_64"}."""
    names = [p.strip().split("/")[-1].lower() for item in platforms for p in item.split(",") if p.strip()]
    unknown = [
        n for n in names if n not in _DOCKER_ARCHITECTURES and n.upper() not in _DOCKER_ARCHITECTURES.values()
    ]
    if unknown:
        raise DefinitionError(
            f"unknown image platform(s): {', '.join(unknown)} (use linux/arm64 or linux/amd64)"
        )
    return frozenset(_DOCKER_ARCHITECTURES.get(n, n.upper()) for n in names)


def lint(definitions: Definitions, options: LintOptions | None = None) -> list[Finding]:
    findings = model_findings(definitions) + rule_findings(definitions, options or LintOptions())
    return sorted(findings, key=lambda f: (f.file, f.severity != "error", f.path, f.rule))


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
