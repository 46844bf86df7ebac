"""Deployment alarms under `ecs-bg local`: the load balancer's real traffic goes to CloudWatch per target
group, the deployment's alarms are judged on it as `ecs-bg simulate` judges them, and a green that
fails its requests is rolled back during the bake, the reason naming the alarm. Through boto3,
against a real `ecs-bg local` process; the test sends its own requests (local has no load generator)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.sim.local_ecs_process import CLUSTER, SERVICE, finished, local_ecs, newest, until

pytestmark = pytest.mark.slow


@contextmanager
def traffic(url: str) -> Iterator[list[int]]:
    """Requests to ``url`` one after another until the block ends; their status codes."""
    statuses: list[int] = []
    stop = threading.Event()

    def send() -> None:
        while not stop.is_set() and len(statuses) < 20_000:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
            except OSError:
                statuses.append(0)
            stop.wait(0.01)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        yield statuses
    finally:
        stop.set()
        sender.join(timeout=10)


def test_a_green_that_fails_requests_is_rolled_back_by_the_5xx_alarm() -> None:
    with local_ecs() as local:
        ecs, cloudwatch = local.client("ecs"), local.client("cloudwatch")
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in local.client("cloudformation").describe_stacks(StackName="zenn-ecs-cdk-ecspresso")[
                "Stacks"
            ][0]["Outputs"]
        }
        task, service = local.render("task"), local.render("service")
        configuration = service["deploymentConfiguration"]
        assert configuration["alarms"]["enable"]
        assert configuration["alarms"]["rollback"]
        assert outputs["Http5xxAlarmName"] in configuration["alarms"]["alarmNames"]
        # Only the alarms judge green here; 20 minutes of bake are 5 s at local's 240x clock.
        configuration["lifecycleHooks"] = []
        configuration["bakeTimeInMinutes"] = 20
        v1 = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=v1, **service)
        assert finished(ecs, newest(ecs))["status"] == "SUCCESSFUL"

        failing = task["containerDefinitions"][0]
        failing["environment"] = [*failing.get("environment", []), {"name": "APP_ERROR_RATE", "value": "1.0"}]
        v2 = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
        first = newest(ecs)
        with traffic(outputs["ProductionUrl"] + "/api/products") as statuses:
            ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=v2)
            arn = until(lambda: (found := newest(ecs)) != first and found)
            deployment = finished(ecs, arn, timeout=120)
        assert deployment["status"] == "ROLLBACK_SUCCESSFUL", deployment
        reason = deployment["statusReason"]
        assert outputs["Http5xxAlarmName"] in reason, reason
        import collections

        print(collections.Counter(statuses), statuses[:40], statuses[-40:], reason)
        assert 500 in statuses  # green answered production, and failed
        assert statuses[-1] == 200, statuses[-20:]  # production back on blue

        # What the alarm was judged on is in CloudWatch, per target group, as AWS/ApplicationELB's.
        metrics = cloudwatch.list_metrics(
            Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count"
        )
        groups = {
            d["Value"] for m in metrics["Metrics"] for d in m["Dimensions"] if d["Name"] == "TargetGroup"
        }
        assert groups <= {outputs[k].split(":", 5)[5] for k in ("BlueTargetGroupArn", "GreenTargetGroupArn")}
        assert groups, metrics
        names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="AWS/ApplicationELB")["Metrics"]}
        assert {"RequestCount", "HTTPCode_ELB_5XX_Count", "TargetResponseTime"} <= names, names
        (alarm,) = cloudwatch.describe_alarms(AlarmNames=[outputs["Http5xxAlarmName"]])["MetricAlarms"]
        assert alarm["StateValue"] == "ALARM", alarm
