"""``ecs-bg report`` of a real deployment: ECS from the local endpoint; the load balancer, its metrics
and the hooks' log lines from moto behind the same URL. Real clients over the wire, no mocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from ecs_bg.cli.main import app
from ecs_bg.hooks import HookResult, Stage
from tests.cli.local_ecs import IDS, Ecs, hook
from tests.cli.test_hook_reasons import FUNCTION, FUNCTION_ARN, decision_lines, put_lines
from tests.conftest import LocalServer

runner = CliRunner()


def deny(request: BaseHTTPRequestHandler) -> tuple[int, str]:
    """AccessDenied in the caller's protocol: JSON (CloudWatch Logs) or XML (ELBv2's query protocol)."""
    if request.headers.get("X-Amz-Target"):
        return 400, json.dumps({"__type": "AccessDeniedException", "message": "not authorized"})
    error = "<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error>"
    return 403, f"<ErrorResponse>{error}<RequestId>1</RequestId></ErrorResponse>"


def balancer(url: str, started: datetime) -> list[str]:
    """An ALB with two target groups in moto, and a minute of traffic on each; the groups' ARNs."""
    ec2 = boto3.client("ec2", region_name=IDS.region, endpoint_url=url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{IDS.region}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    elbv2 = boto3.client("elbv2", region_name=IDS.region, endpoint_url=url)
    alb = elbv2.create_load_balancer(Name="app", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [
        elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for name in ("tg-blue", "tg-green")
    ]
    listener = elbv2.create_listener(
        LoadBalancerArn=alb, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[0]}],
    )["Listeners"][0]["ListenerArn"]  # fmt: skip
    elbv2.create_rule(
        ListenerArn=listener, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": groups[1]}],
    )  # fmt: skip
    cloudwatch = boto3.client("cloudwatch", region_name=IDS.region, endpoint_url=url)
    minute = (started + timedelta(minutes=2)).replace(second=10, microsecond=0)
    lb = alb.split(":loadbalancer/")[1]
    data = []
    for group, requests, errors in ((groups[0], 50, 0), (groups[1], 30, 4)):
        dimensions = [
            {"Name": "TargetGroup", "Value": group.split(":")[-1]},
            {"Name": "LoadBalancer", "Value": lb},
        ]
        data += [
            {"MetricName": name, "Dimensions": dimensions, "Timestamp": minute, "Value": value}
            for name, value in (("RequestCount", requests), ("HTTPCode_Target_5XX_Count", errors))
        ]
    elb = [{"Name": "LoadBalancer", "Value": lb}]
    data.append({"MetricName": "HTTPCode_ELB_5XX_Count", "Dimensions": elb, "Timestamp": minute, "Value": 2})
    cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)
    return groups


@pytest.fixture
def ended(ecs: tuple[Ecs, str]) -> tuple[Ecs, str]:
    fake, url = ecs
    started = datetime.now(UTC) - timedelta(minutes=10)
    fake.created_at, fake.finished_at = started.timestamp(), (started + timedelta(minutes=8)).timestamp()
    fake.status, fake.stage = "ROLLBACK_SUCCESSFUL", "CLEAN_UP"
    fake.rollback_reason = "Lifecycle hook after-install failed at POST_SCALE_UP"
    fake.hooks = [hook("after-install-hook", "FAILED", "AWS_LAMBDA", FUNCTION_ARN)]
    blue, green = balancer(url, started)
    fake.load_balancers = [
        {"targetGroupArn": blue, "containerName": "app", "containerPort": 80,
         "advancedConfiguration": {"alternateTargetGroupArn": green}}
    ]  # fmt: skip
    waiting, failing = decision_lines(
        Stage.POST_SCALE_UP,
        HookResult.in_progress("green has 1/2 tasks healthy"),
        HookResult.failed("green's <b>smoke test</b> answered 500 on /health"),
    )
    put_lines(
        url, FUNCTION, [(started + timedelta(minutes=1), waiting), (started + timedelta(minutes=4), failing)]
    )
    return fake, url


def test_report_of_a_real_deployment(ended: tuple[Ecs, str], tmp_path: Path) -> None:
    _, url = ended
    html, data = tmp_path / "report.html", tmp_path / "report.json"
    result = runner.invoke(app, ["report", "--deployment", IDS.deployment_arn, "--html", str(html),
                                 "--json", str(data), "--endpoint-url", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(data.read_text())
    assert report["status"] == "ROLLBACK_SUCCESSFUL"
    assert [(m["stage"], m["status"]) for m in report["invocations"]] == [
        ("POST_SCALE_UP", "IN_PROGRESS"), ("POST_SCALE_UP", "FAILED")
    ]  # fmt: skip
    assert [s["stage"] for s in report["stages"]] == ["POST_SCALE_UP"]
    assert 59 <= report["stages"][0]["start"] <= 61
    assert 239 <= report["stages"][0]["end"] <= 241
    assert report["production"] == {"requests": 82, "errors": 6}  # both groups' and the ALB's own 5xx
    (interval,) = report["intervals"]
    assert interval["by_revision"] == {
        "tg-blue": {"requests": 50, "errors": 0}, "tg-green": {"requests": 30, "errors": 4}
    }  # fmt: skip
    assert report["weights"][0]["production"] == {"blue": 100.0}
    assert not any("unavailable" in note for note in report["notes"])
    page = html.read_text()
    assert "green&#x27;s &lt;b&gt;smoke test&lt;/b&gt; answered 500 on /health" in page  # escaped
    assert "ECS reports only a deployment&#x27;s current stage" in page


def test_each_section_degrades_with_a_note(
    ended: tuple[Ecs, str], tmp_path: Path, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = ended
    http_server.routes["/"] = deny
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", http_server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", http_server.url)
    data = tmp_path / "report.json"
    where = ["--cluster", IDS.cluster, "--service", IDS.service, "--region", IDS.region]
    result = runner.invoke(app, ["report", "--json", str(data), "--html", str(tmp_path / "r.html"), *where])
    assert result.exit_code == 0, result.output
    report = json.loads(data.read_text())
    assert report["invocations"] == []
    assert report["intervals"] == []
    notes = " ".join(report["notes"])
    assert "access denied calling logs:FilterLogEvents" in notes
    assert "traffic unavailable: access denied calling elasticloadbalancing:DescribeTargetGroups" in notes
