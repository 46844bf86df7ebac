"""Synthesizes the CDK app in-process: no CDK CLI, no AWS credentials, no Docker.

Each configuration is synthesized once per test session, in a folder the xdist workers share. Synthesis
runs cdk-nag's AwsSolutions checks as CDK does for `cdk synth`; a finding makes synth raise, so the
fixture keeps the report and `test_lint.py` shows the findings instead of every test erroring.
A synthesis takes seconds: every test that asks for one is marked ``slow`` here, whether or not its
module says so.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ecs_bg.deploy.environments import DEFAULT_STACK_NAME
from tests.e2e.installed import once

INFRASTRUCTURE = Path(__file__).resolve().parents[2] / "infrastructure"
sys.path.insert(0, str(INFRASTRUCTURE))

if TYPE_CHECKING:  # imported by what synthesizes: the stack and cdk-nag take seconds to load
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from lib.config import StackConfig

STACK_NAME = DEFAULT_STACK_NAME  # dev's, the seed's

# Context that changes a lot of the stack but nothing the listener rules depend on: the test for
# aws-cdk#36649 compares the rules of this synthesis with the default one.
VARIANT_CONTEXT: dict[str, Any] = {
    "pipeline": True,
    "connectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/example",
    "repository": "example-org/example-app",
    "branch": "release",
    "hookChecks": {"before_install": ["approval"], "after_allow_traffic": ["migration"]},
    "approvalBucket": "example-approvals",
    "alarm5xxThreshold": 20,
    "logRetention": "THREE_MONTHS",
    "powertoolsLayerVersion": 27,
}

# The pipeline in another environment: its stack, cluster and build name the environment's own.
STG_PIPELINE_CONTEXT: dict[str, Any] = {
    "env": "stg",
    "pipeline": True,
    "connectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/example",
    "repository": "example-org/example-app",
    "taskCpuArchitecture": "X86_64",
}

# An internal ALB with HTTPS, no NAT (VPC endpoints): the other network shape the stack supports.
PRIVATE_CONTEXT: dict[str, Any] = {
    "env": "prod",
    "internalAlb": True,
    "egress": "endpoints",
    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/example",
    "productionHostname": "app.example.com",
    "hookDetails": {"after-allow-traffic": {"smokeTest": {"path": "/version"}}},
    "productionCidrs": "10.0.0.0/8",
    "testCidrs": "10.9.0.0/16",
    "taskCpuArchitecture": "X86_64",
}


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    template_file: Path
    template: dict[str, Any]
    nag_findings: list[str]
    config: StackConfig

    @property
    def assertions(self) -> Template:
        from aws_cdk.assertions import Template

        return Template.from_json(self.template)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}

    def resource(self, logical_id: str) -> dict[str, Any]:
        return self.template["Resources"][logical_id]  # type: ignore[no-any-return]

    def logical_id(self, path: str) -> str:
        """The logical id of the resource at construct path ``path`` (below the stack)."""
        [logical_id] = [
            k
            for k, v in self.template["Resources"].items()
            if v.get("Metadata", {}).get("aws:cdk:path") == f"{self.config.stack_name}/{path}"
        ]
        return logical_id

    def outputs(self) -> dict[str, Any]:
        return self.template["Outputs"]  # type: ignore[no-any-return]


def sample_app(outdir: Path, context: dict[str, Any]) -> tuple[cdk.App, StackConfig]:
    """The app as `cdk synth` builds it, before it synthesizes: cdk.json's context, overridden by
    ``context``."""
    import aws_cdk as cdk

    from lib.config import StackConfig
    from lib.stack import EcsBlueGreenStack

    app = cdk.App(outdir=str(outdir), context=_app_context(context))
    config = StackConfig.from_context(app.node)
    EcsBlueGreenStack(app, config.stack_name, config=config)
    return app, config


def synthesize(outdir: Path, context: dict[str, Any]) -> Synthesized:
    """The app as `cdk synth` builds it, with cdk-nag's checks, synthesized."""
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    app, config = sample_app(outdir, context)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
    return _synthesized(outdir, config)


def shared_synthesis(
    tmp_path_factory: pytest.TempPathFactory, name: str, context: dict[str, Any]
) -> Synthesized:
    """``synthesize`` once per test session, in a folder every xdist worker reads (``once``): each
    synthesis takes seconds of CPU, in each worker that would make its own. Tests only read it."""
    import aws_cdk as cdk

    from lib.config import StackConfig

    outdir = once(tmp_path_factory, name, lambda folder: synthesize(folder, context))
    return _synthesized(outdir, StackConfig.from_context(cdk.App(context=_app_context(context)).node))


def _app_context(context: dict[str, Any]) -> dict[str, Any]:
    """cdk.json's context, overridden by ``context``; the CLI adds construct paths as resource
    metadata by default, and tests find resources by them."""
    cdk_json = json.loads((INFRASTRUCTURE / "cdk.json").read_text())
    return {"aws:cdk:enable-path-metadata": True, **cdk_json.get("context", {}), **context}


def _synthesized(outdir: Path, config: StackConfig) -> Synthesized:
    template_file = outdir / f"{config.stack_name}.template.json"
    return Synthesized(
        outdir=outdir,
        template_file=template_file,
        template=json.loads(template_file.read_text()),
        nag_findings=_nag_findings(outdir / "validation-report.json"),
        config=config,
    )


def _nag_findings(report: Path) -> list[str]:
    if not report.exists():
        return []
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in json.loads(report.read_text())["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


SYNTHESES = frozenset({"default_app", "variant_app", "stg_pipeline_app", "private_app", "any_app"})
# The tests that run the CDK in this process, on one xdist worker under `--dist loadgroup`: the CDK's
# jsii kernel (a node process per Python process) loads aws-cdk-lib's modules as a synthesis first
# uses them, about 7 s of CPU in each worker that synthesizes, while a later synthesis in the same
# kernel costs about 1 s. tests/infra alone used 62 s of CPU on three workers and 32 s on one.
CDK_GROUP = "cdk"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects, and before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if SYNTHESES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group(CDK_GROUP))


@pytest.fixture(scope="session")
def default_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return shared_synthesis(tmp_path_factory, "cdk-default", {})


@pytest.fixture(scope="session")
def variant_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return shared_synthesis(tmp_path_factory, "cdk-variant", VARIANT_CONTEXT)


@pytest.fixture(scope="session")
def stg_pipeline_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return shared_synthesis(tmp_path_factory, "cdk-stg-pipeline", STG_PIPELINE_CONTEXT)


@pytest.fixture(scope="session")
def private_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return shared_synthesis(tmp_path_factory, "cdk-private", PRIVATE_CONTEXT)


@pytest.fixture(params=["default_app", "variant_app", "private_app"])
def any_app(request: pytest.FixtureRequest) -> Synthesized:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]
