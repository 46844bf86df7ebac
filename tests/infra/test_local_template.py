"""The local world's reading of synthesized templates: this repository's stack is one template among
others (ecs_bg.local.cloudformation), and another team's CDK app reads the same way.

What the extraction finds is held to what infrastructure/ declares: load_balancer.py's target groups,
listeners and rules, hooks.py's functions and their staged code, alarms.py's two gate alarms; and every
output of the synthesized template resolves to a plain string.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.cloudformation.cloud import PublicParameters
from ecs_bg.local.cloudformation.extract import extract
from ecs_bg.local.cloudformation.model import (
    Action,
    Dimension,
    HealthCheck,
    Metric,
    MetricDataQuery,
    MetricStat,
    RuleCondition,
    StackResources,
    WeightedTargetGroup,
)
from ecs_bg.local.cloudformation.template import read_templates
from tests.cloudformation.helpers import by_logical_id

from .conftest import Synthesized

pytestmark = pytest.mark.slow
REGION = "ap-northeast-1"


def _read(synthesized: Synthesized) -> StackResources:
    (stack,) = read_templates(
        synthesized.outdir, region=REGION, ssm_parameters=PublicParameters(REGION)
    ).stacks
    assert stack.name == synthesized.config.stack_name
    return extract(stack)


@pytest.fixture(scope="module")
def sample(default_app: Synthesized) -> StackResources:
    return _read(default_app)


def _target_group(sample: StackResources, app: Synthesized, name: str) -> Any:
    return by_logical_id(sample.target_groups, app.logical_id(f"LoadBalancer/{name}/Resource"))


def test_the_two_target_groups_with_the_health_checks_load_balancer_py_sets(
    sample: StackResources, default_app: Synthesized
) -> None:
    config = default_app.config
    (alb,) = sample.load_balancers
    for name in ("BlueTargetGroup", "GreenTargetGroup"):
        group = _target_group(sample, default_app, name)
        assert (group.protocol, group.port, group.target_type) == ("HTTP", config.container_port, "ip")
        assert group.health_check == HealthCheck(
            enabled=True,
            protocol="HTTP",
            port="traffic-port",
            path=config.health_check_path,
            interval_seconds=15,
            timeout_seconds=5,  # not set: ALB's default
            healthy_threshold=2,
            unhealthy_threshold=3,
            matcher="200",
        )
        assert group.deregistration_delay_seconds == 30
        assert len(group.name) <= 32
        assert group.load_balancer_arns == (alb.arn,)
    assert len(sample.target_groups) == 2


def test_the_production_and_test_listeners_and_their_forward_only_rules(
    sample: StackResources, default_app: Synthesized
) -> None:
    blue = _target_group(sample, default_app, "BlueTargetGroup")
    green = _target_group(sample, default_app, "GreenTargetGroup")
    (alb,) = sample.load_balancers
    listeners = {listener.port: listener for listener in sample.listeners}
    assert sorted(listeners) == [80, default_app.config.test_listener_port]
    for listener in listeners.values():
        assert (listener.load_balancer_arn, listener.protocol) == (alb.arn, "HTTP")
        (not_found,) = listener.default_actions
        assert (not_found.type, not_found.fixed_response and not_found.fixed_response.status_code) == (
            "fixed-response",
            "404",
        )
    rules = {rule.listener_arn: rule for rule in sample.listener_rules}
    for port, group in ((80, blue), (default_app.config.test_listener_port, green)):
        rule = rules[listeners[port].arn]
        assert rule.priority == 1
        assert rule.conditions == (RuleCondition("path-pattern", ("/*",)),)
        assert rule.actions == (Action("forward", target_groups=(WeightedTargetGroup(group.arn, 1),)),)


def test_the_hook_functions_with_their_staged_code_and_environment(
    sample: StackResources, default_app: Synthesized
) -> None:
    (alb,) = sample.load_balancers
    (topic,) = sample.topics
    expected = {function.name: function for function in default_app.config.hook_functions}
    functions = {function.name: function for function in sample.functions}
    assert set(functions) == set(expected)
    for name, function in functions.items():
        declared = expected[name]
        assert (function.handler, function.runtime) == (declared.handler, "python3.13")
        assert (function.timeout_seconds, function.memory_mb) == (
            declared.timeout_seconds,
            declared.memory_mb,
        )
        assert function.architecture == "arm64"
        assert function.log_group == f"/aws/lambda/{name}"
        # CDK staged the code folder into the cloud assembly: the entry files are there
        assert function.code is not None
        assert function.code.is_relative_to(default_app.outdir)
        assert (function.code / f"{declared.module}.py").is_file()
        assert {path.name for path in function.code.glob("*_hook.py")} == {
            f"{f.module}.py" for f in default_app.config.hook_functions
        }
        environment = function.environment
        assert environment["ECS_BG_PRODUCTION_URL"] == f"http://{alb.dns_name}"
        assert (
            environment["ECS_BG_TEST_URL"] == f"http://{alb.dns_name}:{default_app.config.test_listener_port}"
        )
        assert environment["ECS_BG_ALARM_NAMES"] == ",".join(alarm.name for alarm in sample.alarms)
        assert environment["ECS_BG_SNS_TOPIC_ARN"] == topic.arn
        assert (
            environment["ECS_BG_SLACK_WEBHOOK_SECRET_ARN"]
            == by_logical_id(
                sample.secrets, default_app.logical_id("Notifications/SlackWebhookSecret/Resource")
            ).arn
        )
        assert environment["POWERTOOLS_SERVICE_NAME"] == declared.hook
    before_allow = functions[default_app.config.name("before-allow-traffic")]
    hook_details = json.loads(before_allow.environment["ECS_BG_HOOK_DETAILS"])
    assert hook_details == default_app.config.hook_details["before-allow-traffic"]


def test_the_5xx_alarm_is_metric_math_over_both_target_groups_and_the_load_balancer(
    sample: StackResources, default_app: Synthesized
) -> None:
    (alb,) = sample.load_balancers
    alarm = by_logical_id(sample.alarms, default_app.logical_id("GateAlarms/Http5xx/Resource"))

    def count(metric_name: str, *dimensions: Dimension) -> MetricStat:
        return MetricStat(Metric("AWS/ApplicationELB", metric_name, dimensions), 60, "Sum")

    def target_5xx(name: str) -> MetricStat:
        group = _target_group(sample, default_app, name).full_name
        return count(
            "HTTPCode_Target_5XX_Count",
            Dimension("LoadBalancer", alb.full_name),
            Dimension("TargetGroup", group),
        )

    assert alarm.name == "ecs-bg-http-5xx-dev"
    assert alarm.metrics == (
        MetricDataQuery("expr_1", expression="FILL(e0, 0) + FILL(e1, 0) + FILL(elb, 0)", label="5xx"),
        MetricDataQuery("e0", metric_stat=target_5xx("BlueTargetGroup"), return_data=False),
        MetricDataQuery("e1", metric_stat=target_5xx("GreenTargetGroup"), return_data=False),
        MetricDataQuery(
            "elb",
            metric_stat=count("HTTPCode_ELB_5XX_Count", Dimension("LoadBalancer", alb.full_name)),
            return_data=False,
        ),
    )
    # 5xx >= 5 in each of 2 one-minute periods; a minute without data is not a breach
    assert (alarm.threshold, alarm.comparison_operator) == (5.0, "GreaterThanOrEqualToThreshold")
    assert (alarm.evaluation_periods, alarm.datapoints_to_alarm) == (2, 2)
    assert alarm.treat_missing_data == "notBreaching"
    assert alarm.metric is None
    (topic,) = sample.topics
    assert alarm.alarm_actions == alarm.ok_actions == (topic.arn,)


def test_the_latency_alarm_is_the_slower_target_groups_p95(
    sample: StackResources, default_app: Synthesized
) -> None:
    alarm = by_logical_id(sample.alarms, default_app.logical_id("GateAlarms/Latency/Resource"))
    (expression, *queries) = alarm.metrics
    assert (expression.expression, expression.return_data) == ("MAX([l0, l1])", True)
    assert {query.metric_stat.stat for query in queries if query.metric_stat} == {"p95"}
    groups = {
        dimension.value
        for query in queries
        if query.metric_stat
        for dimension in query.metric_stat.metric.dimensions
        if dimension.name == "TargetGroup"
    }
    assert groups == {group.full_name for group in sample.target_groups}
    assert (alarm.threshold, alarm.comparison_operator) == (1.0, "GreaterThanThreshold")
    assert (alarm.evaluation_periods, alarm.datapoints_to_alarm) == (3, 2)


def test_every_output_of_the_synthesized_template_resolves(any_app: Synthesized) -> None:
    resources = _read(any_app)
    assert set(resources.outputs) == set(any_app.outputs())
    for key, value in resources.outputs.items():
        assert isinstance(value, str), key
        assert "Fn::" not in value, (key, value)
        assert "${" not in value, (key, value)
    by_name = {function.name: function.arn for function in resources.functions}
    for function in any_app.config.hook_functions:
        assert resources.outputs[function.output_key or ""] == by_name[function.name]
    assert resources.outputs["ClusterName"] == any_app.config.cluster_name
    assert resources.outputs["Http5xxAlarmName"] == any_app.config.name("http-5xx")
    rules = {rule.arn for rule in resources.listener_rules}
    assert {resources.outputs["ProductionListenerRuleArn"], resources.outputs["TestListenerRuleArn"]} == rules
    groups = {group.arn for group in resources.target_groups}
    assert {resources.outputs["BlueTargetGroupArn"], resources.outputs["GreenTargetGroupArn"]} == groups


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, StackResources]:
    from . import other_app  # here, not at collection: importing the CDK starts its kernel

    outdir = other_app.synthesize(tmp_path_factory.mktemp("cdk-orders"))
    (stack,) = read_templates(outdir, region=REGION, ssm_parameters=PublicParameters(REGION)).stacks
    return outdir, extract(stack)


def test_another_teams_cdk_app_reads_the_same_way(orders: tuple[Path, StackResources]) -> None:
    from . import other_app

    outdir, resources = orders
    assert resources.stack_name == other_app.STACK_NAME
    assert sorted(resources.outputs) == [
        "AuditFunction",
        "EdgeSubnet0",
        "EdgeSubnet1",
        "EdgeUrl",
        "ErrorsAlarmName",
        "GateFunctionArn",
        "HookInvokerArn",
        "LiveRuleArn",
        "PreviewRuleArn",
        "PrimaryGroup",
        "SecondaryGroup",
        "SlowAlarmName",
        "TasksSecurityGroup",
        "TrafficShifterArn",
    ]
    (alb,) = resources.load_balancers
    primary, secondary = sorted(resources.target_groups, key=lambda group: group.logical_id)
    assert resources.exports == {"orders-edge-url": f"http://{alb.dns_name}:8080"}

    for group in (primary, secondary):
        assert group.health_check == HealthCheck(
            True, "HTTP", "traffic-port", "/healthz", 20, 5, 4, 2, "200,204"
        )
        assert group.port == 3000
    live = next(listener for listener in resources.listeners if listener.port == 8080)
    assert live.default_actions == (
        Action(
            "forward",
            target_groups=(WeightedTargetGroup(primary.arn, 100), WeightedTargetGroup(secondary.arn, 0)),
        ),
    )
    rules = {rule.arn: rule for rule in resources.listener_rules}
    assert set(rules) == {resources.outputs["PreviewRuleArn"], resources.outputs["LiveRuleArn"]}
    preview = rules[resources.outputs["PreviewRuleArn"]]
    assert preview.conditions == (RuleCondition("http-header", ("1",), http_header_name="x-preview"),)

    functions = {function.handler: function for function in resources.functions}
    assert set(functions) == {"gate.check", "audit.record"}
    gate, audit = functions["gate.check"], functions["audit.record"]
    assert resources.outputs["GateFunctionArn"] == gate.arn
    assert gate.name == "orders-qa-traffic-gate"
    assert resources.outputs["AuditFunction"] == audit.name
    assert audit.name.startswith(f"{other_app.STACK_NAME}-Audit")
    assert gate.environment == {
        "PREVIEW_URL": f"http://{alb.dns_name}:9090",
        "CANDIDATE_GROUP": secondary.full_name,
    }
    assert (gate.timeout_seconds, audit.timeout_seconds, audit.memory_mb) == (45, 3, 128)
    for function, files in ((gate, ["gate.py"]), (audit, ["audit.py", "requirements.txt"])):
        # found through the aws:asset:path metadata the CDK CLI writes
        assert function.code is not None
        assert function.code.parent == outdir
        assert sorted(path.name for path in function.code.iterdir()) == files

    alarms = {alarm.name: alarm for alarm in resources.alarms}
    assert set(alarms) == {resources.outputs["ErrorsAlarmName"], resources.outputs["SlowAlarmName"]}
    alarm = alarms[resources.outputs["ErrorsAlarmName"]]
    expression, *counts = alarm.metrics
    assert (expression.expression, expression.return_data) == ("FILL(p, 0) + FILL(s, 0) + FILL(e, 0)", True)
    assert {
        dimension.value
        for query in counts
        if query.metric_stat
        for dimension in query.metric_stat.metric.dimensions
        if dimension.name == "TargetGroup"
    } == {primary.full_name, secondary.full_name}
    assert (alarm.threshold, alarm.evaluation_periods, alarm.datapoints_to_alarm) == (10.0, 3, 2)
    assert alarm.treat_missing_data == "missing"
