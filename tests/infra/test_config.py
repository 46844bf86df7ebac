"""Context parsing and the combinations the stack refuses (fast: no synthesis)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_bg.deploy.environments import DEFAULT_STACK_NAME
from lib.config import StackConfig

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/example"


def _config(**context: Any) -> StackConfig:
    import aws_cdk as cdk  # its import starts the jsii kernel (node, 1.2 s of CPU): here, not to collect

    return StackConfig.from_context(cdk.App(context=context).node)


def test_defaults_follow_the_seed() -> None:
    config = _config()
    assert (config.stack_name, config.env, config.name("before-install")) == (
        DEFAULT_STACK_NAME,
        "dev",
        "ecs-bg-before-install-dev",
    )
    assert config.pipeline is None


def test_each_environment_has_its_own_stack_and_cluster() -> None:
    names = {
        env: (_config(env=env).stack_name, _config(env=env).cluster_name) for env in ("dev", "stg", "prod")
    }
    assert names == {
        "dev": ("zenn-ecs-cdk-ecspresso", "ecs-bg-dev"),
        "stg": ("zenn-ecs-cdk-ecspresso-stg", "ecs-bg-stg"),
        "prod": ("zenn-ecs-cdk-ecspresso-prod", "ecs-bg-prod"),
    }
    assert _config(env="stg", stackName="my-stack").stack_name == "my-stack"


def test_cli_strings_are_parsed() -> None:
    config = _config(
        env="prod",
        internalAlb="true",
        egress="endpoints",
        productionCidrs="10.0.0.0/8, 192.168.0.0/16",
        hookChecks='{"before_install": ["approval"]}',
        taskCpuArchitecture="x86_64",
    )
    assert config.env == "prod"
    assert config.internal_alb is True
    assert config.production_cidrs == ("10.0.0.0/8", "192.168.0.0/16")
    assert config.hook_checks == {"before_install": ("approval",)}
    assert config.task_cpu_architecture == "X86_64"
    assert (
        _config(hooksInVpc="false", containerPort="9000", alarmLatencyP95Seconds="0.5").hooks_in_vpc is False
    )
    assert _config(containerPort="9000").container_port == 9000
    assert _config(alarmLatencyP95Seconds="0.5").alarm_latency_p95_seconds == 0.5
    assert _config(powertoolsLayerVersion="").powertools_layer_version is None


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"env": "qa"}, "env must be"),
        ({"pipeline": True}, "needs connectionArn"),
        ({"egress": "endpoints"}, "needs internalAlb=true"),
        ({"taskCpuArchitecture": "riscv"}, "taskCpuArchitecture"),
        ({"logRetention": "FOREVER_AND_A_DAY"}, "logRetention"),
        ({"certificateArn": CERTIFICATE}, "certificateArn needs productionHostname"),
        (
            {"certificateArn": CERTIFICATE, "hookDetails": {"after-allow-traffic": {"smokeTest": {}}}},
            r"hookDetails\.after-allow-traffic\.smokeTest\.url",
        ),
        ({"hookDetails": '{"after-allow-traffic": []}'}, "must be a JSON object"),
        # -c values arrive as strings: read only when they spell the type, else named
        (
            {"containerPort": "abc"},
            "^CDK context: containerPort must be an integer from 1 to 65535, got 'abc'$",
        ),
        ({"hooksInVpc": "ture"}, "^CDK context: hooksInVpc must be true or false, got 'ture'$"),
        ({"natGateways": "1.5"}, "natGateways must be an integer of at least 0, got '1.5'"),
        (
            {"hookChecks": '{"before_install": "approval"}'},
            r"hookChecks\.before_install must be a list of strings",
        ),
        (
            {"hookDetails": "{after-allow-traffic"},
            r"hookDetails must be a JSON object, got .* \(not valid JSON",
        ),
        ({"egress": "vpc-endpoints"}, "egress must be nat or endpoints, got 'vpc-endpoints'"),
        ({"hooksInVPC": "false"}, "unknown key 'hooksInVPC'; did you mean 'hooksInVpc'"),
    ],
)
def test_refused_combinations(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _config(**context)


def test_a_certificate_takes_a_hostname_or_an_explicit_smoke_test_url() -> None:
    assert _config(certificateArn=CERTIFICATE, productionHostname="app.example.com").production_hostname == (
        "app.example.com"
    )
    url = {"after-allow-traffic": {"smokeTest": {"url": "https://app.example.com/version"}}}
    assert _config(certificateArn=CERTIFICATE, hookDetails=json.dumps(url)).hook_details == url
    # Without a certificate nothing changes: production stays plain HTTP on the ALB's name.
    assert _config().production_hostname is None
