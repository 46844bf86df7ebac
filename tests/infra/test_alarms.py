"""Gate alarms, the notification topic and the webhook secrets."""

from __future__ import annotations

import pytest

from .conftest import Synthesized

pytestmark = pytest.mark.slow


def test_gate_alarms_watch_both_target_groups_and_notify(default_app: Synthesized) -> None:
    topic = {"Ref": default_app.logical_id("Notifications/Topic/Resource")}
    groups = {
        default_app.logical_id(f"LoadBalancer/{name}/Resource")
        for name in ("BlueTargetGroup", "GreenTargetGroup")
    }
    for path, name, metric in [
        ("GateAlarms/Http5xx", "ecs-bg-http-5xx-dev", "HTTPCode_Target_5XX_Count"),
        ("GateAlarms/Latency", "ecs-bg-latency-p95-dev", "TargetResponseTime"),
    ]:
        alarm = default_app.resource(default_app.logical_id(f"{path}/Resource"))["Properties"]
        assert alarm["AlarmName"] == name
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]
        queries = [
            q["MetricStat"]
            for q in alarm["Metrics"]
            if "MetricStat" in q and q["MetricStat"]["Metric"]["MetricName"] != "HTTPCode_ELB_5XX_Count"
        ]
        assert {q["Metric"]["MetricName"] for q in queries} == {metric}
        watched = {
            d["Value"]["Fn::GetAtt"][0]
            for q in queries
            for d in q["Metric"]["Dimensions"]
            if d["Name"] == "TargetGroup"
        }
        assert watched == groups


def test_5xx_gate_counts_the_load_balancers_own_5xx(default_app: Synthesized) -> None:
    """502/503/504 from the ALB itself when green's targets die: a LoadBalancer-dimension metric."""
    alarm = default_app.resource(default_app.logical_id("GateAlarms/Http5xx/Resource"))["Properties"]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    [elb] = [
        q
        for q in queries.values()
        if "MetricStat" in q and "ELB_5XX" in q["MetricStat"]["Metric"]["MetricName"]
    ]
    assert elb["MetricStat"]["Metric"]["MetricName"] == "HTTPCode_ELB_5XX_Count"
    assert elb["MetricStat"]["Stat"] == "Sum"
    [dimension] = elb["MetricStat"]["Metric"]["Dimensions"]
    alb = default_app.logical_id("LoadBalancer/Alb/Resource")
    assert dimension == {"Name": "LoadBalancer", "Value": {"Fn::GetAtt": [alb, "LoadBalancerFullName"]}}
    [expression] = [q["Expression"] for q in queries.values() if "Expression" in q]
    sources = [i for i, q in queries.items() if "MetricStat" in q]
    assert sorted(expression.split(" + ")) == sorted(f"FILL({i}, 0)" for i in sources)


def test_webhook_secrets_are_created_empty(default_app: Synthesized) -> None:
    secrets = default_app.resources("AWS::SecretsManager::Secret").values()
    assert sorted(s["Properties"]["Name"] for s in secrets) == [
        "ecs-bg/dev/slack-webhook-url",
        "ecs-bg/dev/teams-webhook-url",
    ]
    for secret in secrets:
        assert "SecretString" not in secret["Properties"]
        assert "GenerateSecretString" not in secret["Properties"]


def test_topic_accepts_tls_only_and_this_stacks_alarms(default_app: Synthesized) -> None:
    [policy] = default_app.resources("AWS::SNS::TopicPolicy").values()
    deny, allow = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": default_app.logical_id("Notifications/Topic/Resource")}
    alarms = [
        {"Fn::GetAtt": [default_app.logical_id(f"GateAlarms/{name}/Resource"), "Arn"]}
        for name in ("Http5xx", "Latency")
    ]
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnEquals": {"aws:SourceArn": alarms},
    }
