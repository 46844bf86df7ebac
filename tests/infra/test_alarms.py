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
        queries = [q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q]
        assert {q["Metric"]["MetricName"] for q in queries} == {metric}
        watched = {
            d["Value"]["Fn::GetAtt"][0]
            for q in queries
            for d in q["Metric"]["Dimensions"]
            if d["Name"] == "TargetGroup"
        }
        assert watched == groups


def test_webhook_secrets_are_created_empty(default_app: Synthesized) -> None:
    secrets = default_app.resources("AWS::SecretsManager::Secret").values()
    assert sorted(s["Properties"]["Name"] for s in secrets) == [
        "ecs-bg/dev/slack-webhook-url",
        "ecs-bg/dev/teams-webhook-url",
    ]
    for secret in secrets:
        assert "SecretString" not in secret["Properties"]
        assert "GenerateSecretString" not in secret["Properties"]


def test_topic_accepts_tls_only(default_app: Synthesized) -> None:
    [policy] = default_app.resources("AWS::SNS::TopicPolicy").values()
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
