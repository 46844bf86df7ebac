"""Typed extraction from another team's stack (``other-app``): nothing of ecs-bg's sample is assumed.

Its own stack name, output keys, function names and handlers, a target group on ``/healthz`` and one
left at every default, weighted forwards, an alarm of metric math over both target groups and one on
a single metric; and every way such a resource can be wrong, each an error naming file and field.
"""

from __future__ import annotations

import json
import re
import string
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.cloudformation.errors import TemplateError
from ecs_bg.local.cloudformation.extract import extract
from ecs_bg.local.cloudformation.model import (
    Action,
    Dimension,
    FixedResponse,
    HealthCheck,
    Metric,
    MetricDataQuery,
    MetricStat,
    Redirect,
    RuleCondition,
    StackResources,
    WeightedTargetGroup,
)
from ecs_bg.local.cloudformation.names import generated_name
from ecs_bg.local.cloudformation.template import Assembly, read_templates
from tests.cloudformation.helpers import ACCOUNT, FIXTURES, REGION, by_logical_id, fixture, stack_of

OTHER_APP = FIXTURES / "other-app"
STACK = "payments-api-staging"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"


@pytest.fixture(scope="module")
def payments() -> StackResources:
    return extract(read_templates(OTHER_APP, region=REGION, account=ACCOUNT).stack(STACK))


def test_the_load_balancer(payments: StackResources) -> None:
    (alb,) = payments.load_balancers
    assert (alb.logical_id, alb.name, alb.type, alb.scheme) == (
        "Alb",
        "payments-staging",
        "application",
        "internal",
    )
    assert re.fullmatch(rf"{ELB}loadbalancer/app/payments-staging/[0-9a-f]{{16}}", alb.arn)
    assert alb.full_name == alb.arn.split(":loadbalancer/")[1]
    assert re.fullmatch(r"internal-payments-staging-\d{10}\.eu-west-1\.elb\.amazonaws\.com", alb.dns_name)
    assert alb.attributes == {"idle_timeout.timeout_seconds": "30"}


def test_target_groups_with_their_health_checks_and_the_documented_defaults(payments: StackResources) -> None:
    blue = by_logical_id(payments.target_groups, "BlueTargetGroup")
    green = by_logical_id(payments.target_groups, "GreenTargetGroup")
    (alb,) = payments.load_balancers

    assert (blue.name, blue.protocol, blue.port, blue.target_type) == ("payments-blue", "HTTP", 9090, "ip")
    assert blue.health_check == HealthCheck(
        enabled=True,
        protocol="HTTP",
        port="traffic-port",
        path="/healthz",
        interval_seconds=10,
        timeout_seconds=4,
        healthy_threshold=3,
        unhealthy_threshold=4,
        matcher="200-299",
    )
    assert blue.deregistration_delay_seconds == 15
    # No name, no health check settings: a generated name within the 32 characters target group names
    # may have, and ALB's defaults.
    assert green.name == generated_name(STACK, "GreenTargetGroup", 32)
    assert len(green.name) <= 32
    assert green.health_check == HealthCheck(True, "HTTP", "traffic-port", "/", 30, 5, 5, 2, "200")
    assert green.deregistration_delay_seconds == 300
    for group in (blue, green):
        assert re.fullmatch(rf"{ELB}targetgroup/{group.name}/[0-9a-f]{{16}}", group.arn)
        assert group.full_name == f"targetgroup/{group.name}/{group.arn.rsplit('/', 1)[1]}"
        assert group.load_balancer_arns == (alb.arn,)


def test_listeners_with_weighted_forwards_and_fixed_responses(payments: StackResources) -> None:
    blue = by_logical_id(payments.target_groups, "BlueTargetGroup").arn
    green = by_logical_id(payments.target_groups, "GreenTargetGroup").arn
    (alb,) = payments.load_balancers
    live = by_logical_id(payments.listeners, "LiveListener")
    canary = by_logical_id(payments.listeners, "CanaryListener")

    assert (live.port, live.protocol, live.load_balancer_arn) == (8443, "HTTP", alb.arn)
    assert live.arn.startswith(alb.arn.replace(":loadbalancer/", ":listener/") + "/")
    assert live.default_actions == (
        Action("forward", target_groups=(WeightedTargetGroup(blue, 100), WeightedTargetGroup(green, 0))),
    )
    assert canary.port == 9000  # "9000" in the template: CloudFormation takes a string that spells an integer
    assert canary.default_actions == (Action("fixed-response", fixed_response=FixedResponse("503")),)


def test_listener_rules_with_their_conditions_and_actions(payments: StackResources) -> None:
    blue = by_logical_id(payments.target_groups, "BlueTargetGroup").arn
    green = by_logical_id(payments.target_groups, "GreenTargetGroup").arn
    live_listener = by_logical_id(payments.listeners, "LiveListener").arn
    live = by_logical_id(payments.listener_rules, "LiveRule")
    canary = by_logical_id(payments.listener_rules, "CanaryRule")
    legacy = by_logical_id(payments.listener_rules, "LegacyRule")

    assert (live.listener_arn, live.priority) == (live_listener, 10)
    assert live.arn.startswith(live_listener.replace(":listener/", ":listener-rule/") + "/")
    assert live.conditions == (
        RuleCondition("host-header", ("pay.example.com",)),
        RuleCondition("http-header", ("off",), http_header_name="X-Canary"),
    )
    assert live.actions == (
        Action(
            "forward",
            target_groups=(WeightedTargetGroup(blue, 90), WeightedTargetGroup(green, 10)),
            stickiness_seconds=60,
        ),
    )
    assert canary.priority == 5
    assert canary.conditions == (
        RuleCondition("path-pattern", ("/api/*",)),  # the older Values form
        RuleCondition("query-string", ("canary=1", "beta")),
    )
    # Actions in the order they run: ascending Order
    assert [action.type for action in canary.actions] == ["authenticate-oidc", "forward"]
    assert canary.actions[1].target_groups == (WeightedTargetGroup(green, 1),)
    assert legacy.actions == (Action("redirect", redirect=Redirect("HTTP_301", path="/new/#{path}")),)


def test_functions_with_their_code_handler_environment_and_settings(payments: StackResources) -> None:
    pre_traffic = by_logical_id(payments.functions, "PreTraffic")
    smoke = by_logical_id(payments.functions, "Smoke")
    blue = by_logical_id(payments.target_groups, "BlueTargetGroup")
    secret = by_logical_id(payments.secrets, "DbSecret")
    shared_vpc = (
        read_templates(OTHER_APP, region=REGION, account=ACCOUNT).stack("SharedNetwork").output("VpcId")
    )

    assert pre_traffic.name == "payments-staging-pre-traffic"
    assert pre_traffic.arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments-staging-pre-traffic"
    # Code.S3Key is the object key of an asset in the assembly's asset manifest
    assert pre_traffic.code == OTHER_APP / "asset.6f1c0a"
    assert sorted(path.name for path in pre_traffic.code.iterdir()) == ["checks.py", "requirements.txt"]
    assert (pre_traffic.inline_code, pre_traffic.inline_file) == (None, None)
    assert (pre_traffic.handler, pre_traffic.runtime) == ("checks.main", "python3.12")
    assert pre_traffic.environment == {
        "LIVE_TARGET_GROUP": blue.full_name,
        "VPC": shared_vpc.value,  # Fn::ImportValue of the other stack's export
        "SECRET": secret.arn,
        "FLAG_PARAMETER": "/payments/staging/canary",
    }
    assert (pre_traffic.timeout_seconds, pre_traffic.memory_mb, pre_traffic.architecture) == (
        30,
        512,
        "arm64",
    )
    assert pre_traffic.log_group == "/payments/hooks"

    # The resource's aws:asset:path metadata names its code folder, relative to the assembly
    assert smoke.name == generated_name(STACK, "Smoke", 64)
    assert smoke.code == OTHER_APP / "asset.9b2e7d"
    assert (smoke.code / "smoke.py").is_file()
    assert smoke.environment == {}
    # Lambda's defaults: 3 seconds, 128 MB, x86_64, logs to /aws/lambda/<name>
    assert (smoke.timeout_seconds, smoke.memory_mb, smoke.architecture) == (3, 128, "x86_64")
    assert smoke.log_group == f"/aws/lambda/{smoke.name}"


def test_an_alarm_of_metric_math_over_two_target_groups(payments: StackResources) -> None:
    errors = by_logical_id(payments.alarms, "Errors5xx")
    (alb,) = payments.load_balancers
    (topic,) = payments.topics

    def target_5xx(logical_id: str) -> MetricStat:
        group = by_logical_id(payments.target_groups, logical_id)
        dimensions = (Dimension("LoadBalancer", alb.full_name), Dimension("TargetGroup", group.full_name))
        return MetricStat(Metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dimensions), 60, "Sum")

    assert errors.name == "payments-api-staging-target-5xx"
    assert errors.arn == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:payments-api-staging-target-5xx"
    assert errors.metric is None
    assert errors.metrics == (
        MetricDataQuery("blue", metric_stat=target_5xx("BlueTargetGroup"), return_data=False),
        MetricDataQuery("green", metric_stat=target_5xx("GreenTargetGroup"), return_data=False),
        MetricDataQuery("total", expression="blue + green", return_data=True, label="target 5xx"),
    )
    assert (errors.threshold, errors.comparison_operator) == (3.0, "GreaterThanThreshold")
    assert (errors.evaluation_periods, errors.datapoints_to_alarm) == (5, 3)
    assert errors.treat_missing_data == "breaching"
    assert errors.actions_enabled is True
    assert errors.alarm_actions == (topic.arn,)


def test_an_alarm_on_one_metric_with_the_documented_defaults(payments: StackResources) -> None:
    slow = by_logical_id(payments.alarms, "SlowGreen")
    green = by_logical_id(payments.target_groups, "GreenTargetGroup")
    (alb,) = payments.load_balancers

    assert slow.name == generated_name(STACK, "SlowGreen")
    assert slow.metric == Metric(
        "AWS/ApplicationELB",
        "TargetResponseTime",
        (Dimension("LoadBalancer", alb.full_name), Dimension("TargetGroup", green.full_name)),
    )
    assert (slow.statistic, slow.extended_statistic, slow.period, slow.unit) == (None, "p99", 60, "Seconds")
    assert slow.metrics == ()
    assert (slow.threshold, slow.comparison_operator) == (0.75, "GreaterThanOrEqualToThreshold")
    # DatapointsToAlarm defaults to EvaluationPeriods, TreatMissingData to missing
    assert (slow.evaluation_periods, slow.datapoints_to_alarm, slow.treat_missing_data) == (3, 3, "missing")
    assert slow.actions_enabled is False


def test_parameters_secrets_and_the_rest(payments: StackResources) -> None:
    (parameter,) = payments.parameters
    assert (parameter.name, parameter.type, parameter.value) == ("/payments/staging/canary", "String", "on")
    assert parameter.arn == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/payments/staging/canary"

    generated = by_logical_id(payments.secrets, "DbSecret")
    document = json.loads(generated.value)
    assert generated.generated
    assert document["username"] == "payments"
    assert len(document["password"]) == 20
    assert set(document["password"]) <= set(string.ascii_letters + string.digits)  # ExcludePunctuation
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{generated.name}-[0-9a-f]{{6}}", generated.arn
    )
    api_key = by_logical_id(payments.secrets, "ApiKey")
    assert (api_key.name, api_key.value, api_key.generated) == ("payments/api-key", "k-123", False)

    (log_group,) = payments.log_groups
    assert (log_group.name, log_group.retention_days) == ("/payments/hooks", None)
    assert log_group.arn == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/payments/hooks:*"
    (cluster,) = payments.clusters
    assert cluster.arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{generated_name(STACK, 'Cluster')}"
    (role,) = payments.roles
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/payments-staging-hooks"


def test_outputs_and_exports(payments: StackResources) -> None:
    by_id = {
        name: by_logical_id(payments.target_groups, name) for name in ("BlueTargetGroup", "GreenTargetGroup")
    }
    (alb,) = payments.load_balancers
    assert (payments.stack_name, payments.region, payments.account) == (STACK, REGION, ACCOUNT)
    assert payments.outputs == {
        "PaymentsPreTrafficHook": by_logical_id(payments.functions, "PreTraffic").arn,
        "SmokeHook": by_logical_id(payments.functions, "Smoke").arn,
        "LiveRuleArn": by_logical_id(payments.listener_rules, "LiveRule").arn,
        "CanaryRuleArn": by_logical_id(payments.listener_rules, "CanaryRule").arn,
        "BlueGroup": by_id["BlueTargetGroup"].arn,
        "GreenGroup": by_id["GreenTargetGroup"].arn,
        "GreenBalancers": alb.arn,
        "Endpoint": f"http://{alb.dns_name}:8443",
        "ErrorsAlarm": "payments-api-staging-target-5xx",
        "ClusterArn": payments.clusters[0].arn,
        "HookRoleArn": payments.roles[0].arn,
    }
    assert payments.exports == {"payments-api-staging:hook-role": payments.roles[0].arn}


def test_inline_code_is_written_to_index_py_once(tmp_path: Path) -> None:
    stack = read_templates(FIXTURES / "intrinsics", ssm_parameters={"/local/latest": "v"}).stack(
        "fixture-stack"
    )
    (function,) = extract(stack).functions
    assert function.code is None
    assert function.inline_file == "index.py"
    assert function.handler == "index.handler"
    # ONLY_IN_PROD is Fn::If [IsProd, yes, AWS::NoValue]: not prod, so no such variable; numbers are strings
    assert function.environment == {"TOPIC": stack.ref("Topic", ()), "PORT": "8080"}

    folder = function.code_folder(tmp_path)
    assert (folder / "index.py").read_text() == function.inline_code
    assert function.code_folder(tmp_path) == folder
    assert [path.name for path in tmp_path.iterdir()] == [folder.name]


# (logical id, section, what to set, what to remove, the error)
BROKEN: list[tuple[str, str, dict[str, Any], tuple[str, ...], str]] = [
    (
        "PreTraffic",
        "Properties",
        {"Code": {"S3Bucket": "team-bucket", "S3Key": "elsewhere.zip"}},
        (),
        "Resources.PreTraffic.Properties.Code.S3Key: function payments-staging-pre-traffic's code is "
        "s3://team-bucket/elsewhere.zip, which is no asset of this cloud assembly",
    ),
    (
        "Smoke",
        "Metadata",
        {"aws:asset:path": "asset.gone"},
        (),
        f"Resources.Smoke.Metadata.aws:asset:path: function {generated_name(STACK, 'Smoke', 64)}'s code "
        f"{OTHER_APP / 'asset.gone'} does not exist: synthesize the app again",
    ),
    (
        "PreTraffic",
        "Properties",
        {"PackageType": "Image"},
        (),
        "Resources.PreTraffic.Properties.PackageType: function payments-staging-pre-traffic is a container "
        "image",
    ),
    (
        "PreTraffic",
        "Properties",
        {"Code": {"ZipFile": "class A {}"}, "Runtime": "java21"},
        (),
        "Resources.PreTraffic.Properties.Code.ZipFile: inline code is for Node.js and Python functions, not "
        "java21",
    ),
    (
        "PreTraffic",
        "Properties",
        {"Code": {}},
        (),
        "Properties.Code: function payments-staging-pre-traffic has no",
    ),
    ("PreTraffic", "Properties", {}, ("Handler",), "Resources.PreTraffic.Properties.Handler: is missing"),
    (
        "PreTraffic",
        "Properties",
        {"Architectures": ["sparc"]},
        (),
        "Architectures: must be [x86_64] or [arm64]",
    ),
    (
        "Errors5xx",
        "Properties",
        {"MetricName": "Errors"},
        (),
        "Resources.Errors5xx.Properties: an alarm watches either one metric (MetricName) or metric math",
    ),
    (
        "SlowGreen",
        "Properties",
        {},
        ("MetricName",),
        "Resources.SlowGreen.Properties: an alarm watches either",
    ),
    (
        "Errors5xx",
        "Properties",
        {"Metrics": [{"Id": "a", "Expression": "1"}, {"Id": "b", "Expression": "2"}]},
        (),
        "Resources.Errors5xx.Properties.Metrics: exactly one query must return data (ReturnData true, the "
        "default), not 2: a, b",
    ),
    (
        "Errors5xx",
        "Properties",
        {"Metrics": [{"Id": "a", "Expression": "1", "MetricStat": {}}]},
        (),
        "Resources.Errors5xx.Properties.Metrics[0]: a query has either an Expression or a MetricStat",
    ),
    (
        "Errors5xx",
        "Properties",
        {"Metrics": [{"Id": "a", "Expression": "1"}, {"Id": "a", "Expression": "2", "ReturnData": False}]},
        (),
        "Resources.Errors5xx.Properties.Metrics: two queries have the Id 'a'",
    ),
    (
        "SlowGreen",
        "Properties",
        {"Statistic": "Average"},
        (),
        "Resources.SlowGreen.Properties.Statistic: give exactly one of Statistic and ExtendedStatistic",
    ),
    (
        "SlowGreen",
        "Properties",
        {"DatapointsToAlarm": 4},
        (),
        "Resources.SlowGreen.Properties.DatapointsToAlarm: must be 1 to EvaluationPeriods (3), got 4",
    ),
    ("SlowGreen", "Properties", {"ComparisonOperator": "Above"}, (), "ComparisonOperator: must be one of"),
    (
        "SlowGreen",
        "Properties",
        {"TreatMissingData": "skip"},
        (),
        "TreatMissingData: must be one of breaching",
    ),
    ("SlowGreen", "Properties", {}, ("Threshold",), "Resources.SlowGreen.Properties.Threshold: is missing"),
    (
        "LiveListener",
        "Properties",
        {"DefaultActions": [{"Type": "forward"}]},
        (),
        "Resources.LiveListener.Properties.DefaultActions[0]: a forward action needs TargetGroupArn or "
        "ForwardConfig.TargetGroups",
    ),
    (
        "LiveListener",
        "Properties",
        {
            "DefaultActions": [
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": {"Ref": "BlueTargetGroup"}},
                            {"TargetGroupArn": "x"},
                        ]
                    },
                }
            ]
        },
        (),
        "Resources.LiveListener.Properties.DefaultActions[0].ForwardConfig.TargetGroups[0].Weight: is "
        "missing: with several target groups each needs a weight",
    ),
    (
        "LiveRule",
        "Properties",
        {
            "Actions": [
                {
                    "Type": "forward",
                    "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": "x", "Weight": 1000}]},
                }
            ]
        },
        (),
        "Resources.LiveRule.Properties.Actions[0].ForwardConfig.TargetGroups[0].Weight: must be 0 to 999, "
        "got 1000",
    ),
    (
        "CanaryListener",
        "Properties",
        {"DefaultActions": [{"Type": "fixed-response"}]},
        (),
        "Resources.CanaryListener.Properties.DefaultActions[0].FixedResponseConfig: is missing",
    ),
    ("LiveListener", "Properties", {"DefaultActions": []}, (), "Properties.DefaultActions: is missing"),
    (
        "LiveRule",
        "Properties",
        {"Priority": 0},
        (),
        "Resources.LiveRule.Properties.Priority: must be 1 to 50000, got 0",
    ),
    (
        "LiveRule",
        "Properties",
        {"Conditions": []},
        (),
        "Resources.LiveRule.Properties.Conditions: is missing",
    ),
    (
        "LiveRule",
        "Properties",
        {"Conditions": [{"Field": "cookie", "Values": ["a"]}]},
        (),
        "Resources.LiveRule.Properties.Conditions[0].Field: must be one of path-pattern",
    ),
    (
        "LiveRule",
        "Properties",
        {"Conditions": [{"Field": "host-header"}]},
        (),
        "Resources.LiveRule.Properties.Conditions[0].HostHeaderConfig: is missing: a host-header condition "
        "needs",
    ),
    (
        "DbSecret",
        "Properties",
        {"SecretString": "s"},
        (),
        "Resources.DbSecret.Properties.SecretString: give SecretString or GenerateSecretString, not both",
    ),
    (
        "DbSecret",
        "Properties",
        {"GenerateSecretString": {"GenerateStringKey": "password"}},
        (),
        "Resources.DbSecret.Properties.GenerateSecretString.GenerateStringKey: needs SecretStringTemplate",
    ),
    (
        "FeatureFlag",
        "Properties",
        {"Type": "SecureString"},
        (),
        "Properties.Type: must be String or StringList",
    ),
    (
        "BlueTargetGroup",
        "Properties",
        {"TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "soon"}]},
        (),
        "Resources.BlueTargetGroup.Properties.TargetGroupAttributes: deregistration_delay.timeout_seconds "
        "must be an integer, got 'soon'",
    ),
    (
        "BlueTargetGroup",
        "Properties",
        {"HealthCheckIntervalSeconds": "often"},
        (),
        "Resources.BlueTargetGroup.Properties.HealthCheckIntervalSeconds: the value must be an integer",
    ),
]


@pytest.mark.parametrize(("logical_id", "section", "changes", "removed", "expected"), BROKEN)
def test_a_resource_ecs_bg_cannot_use_is_an_error_naming_file_and_field(
    logical_id: str, section: str, changes: dict[str, Any], removed: tuple[str, ...], expected: str
) -> None:
    assembly = read_templates(OTHER_APP, region=REGION, account=ACCOUNT)
    body = fixture("other-app", "PaymentsApi.template.json")
    declaration = body["Resources"][logical_id].setdefault(section, {})
    declaration.update(changes)
    for key in removed:
        del declaration[key]
    source = replace(assembly.stack(STACK).source, body=body)
    changed = Assembly((source, assembly.stack("SharedNetwork").source), region=REGION, account=ACCOUNT)
    with pytest.raises(TemplateError) as raised:
        extract(changed.stack(STACK))
    message = str(raised.value)
    assert message.startswith(f"{OTHER_APP / 'PaymentsApi.template.json'}: Resources.{logical_id}"), message
    assert expected in message, message


def test_a_zip_asset_is_unpacked_once(tmp_path: Path) -> None:
    archive = tmp_path / "asset.abc.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", "def main(event, context):\n    return {}\n")
    function_resource = {
        "Type": "AWS::Lambda::Function",
        "Metadata": {"aws:asset:path": archive.name},
        "Properties": {"Handler": "handler.main", "Runtime": "python3.12", "Code": {"S3Key": "x.zip"}},
    }
    (function,) = extract(stack_of({"Resources": {"Fn": function_resource}}, base_dir=tmp_path)).functions
    assert function.code == archive

    folder = function.code_folder(tmp_path / "cache")
    assert (folder / "handler.py").read_text().startswith("def main")
    assert function.code_folder(tmp_path / "cache") == folder


def test_lambda_and_grpc_target_groups_have_their_own_defaults() -> None:
    groups = {
        "ForLambda": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {"TargetType": "lambda"},
        },
        "Grpc": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {"Protocol": "HTTPS", "ProtocolVersion": "GRPC", "Port": 443, "TargetType": "ip"},
        },
        "Tcp": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {"Protocol": "TCP", "Port": 53},
        },
    }
    extracted = extract(stack_of({"Resources": groups})).target_groups
    assert by_logical_id(extracted, "ForLambda").health_check == HealthCheck(
        False, "HTTP", "traffic-port", "/", 35, 30, 5, 2, "200"
    )
    assert by_logical_id(extracted, "Grpc").health_check == HealthCheck(
        True, "HTTP", "traffic-port", "/AWS.ALB/healthcheck", 30, 5, 5, 2, "12"
    )
    tcp = by_logical_id(extracted, "Tcp")
    assert (tcp.target_type, tcp.health_check.protocol) == ("instance", "TCP")
    assert all(group.load_balancer_arns == () for group in extracted)  # nothing forwards to them
