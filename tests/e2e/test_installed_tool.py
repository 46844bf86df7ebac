"""Issue 24's "Show": ecs-bg as an installed tool in another team's repository.

Both wheels are built and installed into a fresh virtual environment; a temporary repository holds
only the other team's files: its CDK app (tests/infra/other_app.py: stack orders-service-qa, its own
output keys, target groups on /healthz, two hook functions, one with a requirements.txt, a 5xx and a
latency alarm), synthesized into its cdk.out; its ecspresso files, whose hooks and alarms are its
stack's outputs; its simulation.yml; and its own small service. The installed ``ecs-bg`` runs there
(working directory: that repository) for ``lint``, ``simulate`` at two clock speeds per case, and
``local`` driven by the AWS CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.installed import environment, once, user_environment, wheels
from tests.infra.conftest import CDK_GROUP
from tests.sim.local_ecs_process import Local, finished, local_ecs, until

# One worker runs the module, the one that runs tests/infra (CDK_GROUP): the team's app is synthesized
# in the CDK kernel that worker has started already (a kernel's first synthesis costs about 7 s of CPU).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(CDK_GROUP)]

STACK = "orders-service-qa"  # tests/infra/other_app.py's, imported only where it is synthesized
ACCOUNT_FUNCTION = "arn:aws:lambda:ap-northeast-1:123456789012:function:"


def output(key: str) -> str:
    """An ecspresso template reading the team's stack output ``key``."""
    return "{{ cfn_output `%s` `%s` }}" % (STACK, key)  # noqa: UP031 - the template's own braces


# The team's service: /healthz for the load balancer, every other path for its users. MISBEHAVE
# (the task definition's environment, so blue and green may differ) says how it fails, if it does:
# half-500 answers every other request 500; crash exits on its first user request, so a task crash-loops
# as soon as production traffic reaches it (it has none before the production shift).
SERVER = """\
import itertools
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MISBEHAVE = os.environ.get("MISBEHAVE", "")
COUNT = itertools.count()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            return self.answer(204, b"")
        if MISBEHAVE == "crash":
            os._exit(3)
        failing = MISBEHAVE == "half-500" and next(COUNT) % 2 == 1
        self.answer(500 if failing else 200, json.dumps({"orders": []}).encode())

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler).serve_forever()
"""

APP = """\
from pathlib import Path

from orders_service import synthesize

synthesize(Path("cdk.out"), hooks=Path("hooks").resolve())
"""

ECSPRESSO = """\
required_version: ">= 2.8.6"
region: ap-northeast-1
cluster: orders-qa
service: orders-web
service_definition: ecs-service-def.json
task_definition: {task}
timeout: 30m
plugins:
  - name: cloudformation
"""

TASK: dict[str, Any] = {
    "family": "orders-web",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
    "containerDefinitions": [
        {
            "name": "web",
            "image": "ghcr.io/orders-team/orders-web:{{ env `IMAGE_TAG` `v1` }}",
            "essential": True,
            "portMappings": [{"containerPort": 3000, "protocol": "tcp"}],
            "environment": [{"name": "MISBEHAVE", "value": "{{ env `MISBEHAVE` `` }}"}],
        }
    ],
}


def service(deployment: dict[str, Any]) -> dict[str, Any]:
    """The team's service definition with ``deployment`` (strategy and its settings) in its
    deploymentConfiguration; its hooks, alarms, groups, rules and roles are its stack's outputs."""
    return {
        "launchType": "FARGATE",
        "desiredCount": 1,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": [output("EdgeSubnet0"), output("EdgeSubnet1")],
                "securityGroups": [output("TasksSecurityGroup")],
                "assignPublicIp": "ENABLED",
            }
        },
        "loadBalancers": [
            {
                "targetGroupArn": output("PrimaryGroup"),
                "containerName": "web",
                "containerPort": 3000,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": output("SecondaryGroup"),
                    "productionListenerRule": output("LiveRuleArn"),
                    "testListenerRule": output("PreviewRuleArn"),
                    "roleArn": output("TrafficShifterArn"),
                },
            }
        ],
        "deploymentConfiguration": {
            **deployment,
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "alarms": {
                "alarmNames": [output("ErrorsAlarmName"), output("SlowAlarmName")],
                "enable": True,
                "rollback": True,
            },
            "lifecycleHooks": [
                {
                    "targetType": "AWS_LAMBDA",
                    "hookTargetArn": ACCOUNT_FUNCTION + output("AuditFunction"),
                    "roleArn": output("HookInvokerArn"),
                    "lifecycleStages": ["PRE_SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT"],
                },
                {
                    "targetType": "AWS_LAMBDA",
                    "hookTargetArn": output("GateFunctionArn"),
                    "roleArn": output("HookInvokerArn"),
                    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                },
            ],
        },
    }


BLUE_GREEN = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 3}
CANARY = {
    "strategy": "CANARY",
    "bakeTimeInMinutes": 3,
    "canaryConfiguration": {"canaryPercent": 25.0, "canaryBakeTimeInMinutes": 5},
}


def simulation(server: str, green_env: dict[str, str], rate: int = 40) -> str:
    """A simulation.yml: the service's command (relative to the file), production load (requests a
    real second), green's MISBEHAVE."""
    document = {
        "containers": {"web": {"command": ["python", server]}},
        "load": {"rate": rate, "path": "/orders"},
        "functionTimeoutSeconds": 30,
        "revisions": {"green": {"env": green_env}},
    }
    return json.dumps(document, indent=2)  # YAML reads JSON


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The installed ecs-bg executable, in a fresh virtual environment of its own."""

    def install(root: Path) -> None:
        environment(root / "venv", list(wheels(tmp_path_factory).values()))

    return once(tmp_path_factory, "installed-tool", install) / "venv" / "bin" / "ecs-bg"


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once(tmp_path_factory, "orders-repo", make_repository)


def make_repository(root: Path) -> Path:
    """The other team's repository in ``root``: its CDK app's settings and synthesized cdk.out, its
    hooks, its service, its ecspresso files (BLUE_GREEN at the root, CANARY in canary/) and simulation
    files."""
    from tests.infra import other_app  # here: importing the CDK starts its kernel

    assert other_app.STACK_NAME == STACK
    shutil.copytree(other_app.HOOKS, root / "hooks")
    (root / "service").mkdir()
    (root / "service" / "server.py").write_text(SERVER)
    # The team's CDK app as `cdk init` lays it out (cdk.json runs app.py); synthesized here in-process,
    # as app.py would under `cdk synth` (no CDK CLI), into cdk.out.
    shutil.copy(other_app.__file__, root / "orders_service.py")
    (root / "app.py").write_text(APP)
    (root / "cdk.json").write_text(json.dumps({"app": "python3 app.py"}))
    other_app.synthesize(root / "cdk.out", hooks=root / "hooks")

    (root / "ecspresso.yml").write_text(ECSPRESSO.format(task="ecs-task-def.json"))
    (root / "ecs-task-def.json").write_text(json.dumps(TASK, indent=2))
    (root / "ecs-service-def.json").write_text(json.dumps(service(BLUE_GREEN), indent=2))
    (root / "simulation.yml").write_text(simulation("service/server.py", {}))
    (root / "crash-in-bake.yml").write_text(simulation("service/server.py", {"MISBEHAVE": "crash"}))

    canary = root / "canary"
    canary.mkdir()
    (canary / "ecspresso.yml").write_text(ECSPRESSO.format(task="../ecs-task-def.json"))
    (canary / "ecs-service-def.json").write_text(json.dumps(service(CANARY), indent=2))
    (canary / "simulation.yml").write_text(
        simulation("../service/server.py", {"MISBEHAVE": "half-500"}, rate=80)
    )
    return root


def run(
    tool: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed ``ecs-bg``, in the team's repository, in a user's environment."""
    return subprocess.run(
        [str(tool), *args],
        cwd=cwd,
        env=user_environment(**{"COLUMNS": "200", **(env or {})}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def simulate(tool: Path, repository: Path, speed: int, *args: str) -> dict[str, Any]:
    """``ecs-bg simulate`` at ``speed``; its JSON report."""
    report = repository / f"report-{'-'.join(a.replace('/', '_') for a in args)}-{speed}.json"
    done = run(
        tool, "simulate", "--quiet", "--speed", str(speed), "--report", str(report), *args, cwd=repository
    )
    assert "Traceback" not in done.stdout + done.stderr
    result: dict[str, Any] = json.loads(report.read_text())
    # The exit code says the outcome: 0 only on SUCCESSFUL.
    assert done.returncode == (0 if result["status"] == "SUCCESSFUL" else 1), done.stdout + done.stderr
    return result


def green_weights(report: dict[str, Any]) -> list[float]:
    """Production's weight on green at each change, in order."""
    return [change["production"]["green"] for change in report["traffic"]["weights"]]


@pytest.mark.parametrize("speed", [120, 480])
def test_a_good_revision_deploys(tool: Path, repository: Path, speed: int) -> None:
    report = simulate(tool, repository, speed)
    assert report["status"] == "SUCCESSFUL", report.get("rollbackReason")
    assert report["traffic"]["production"]["errors"] == 0
    assert report["stages"][-1]["stage"] == "CLEAN_UP"
    invocations = [(i["hook"], i["stage"], i["hookStatus"]) for i in report["hookInvocations"]]
    audit = next(i["hook"] for i in report["hookInvocations"] if i["hook"].startswith(f"{STACK}-Audit"))
    assert invocations == [
        (audit, "PRE_SCALE_UP", "SUCCEEDED"),
        ("orders-qa-traffic-gate", "POST_TEST_TRAFFIC_SHIFT", "SUCCEEDED"),
        (audit, "POST_PRODUCTION_TRAFFIC_SHIFT", "SUCCEEDED"),
    ]
    # The audit hook's own dependency (its requirements.txt) came from its deployment package, built
    # for it, not from the tool's environment, which has attrs too (aiohttp's).
    printed = json.loads(report["hookInvocations"][0]["output"].strip().splitlines()[-1])
    assert "/requirements/" in printed["attrs"], printed
    assert "site-packages" not in printed["attrs"], printed
    # Both of the team's alarms, judged as its template defines them.
    watched = sorted((w["alarm"].split("-")[3], w["evaluated"]) for w in report["alarms"]["watched"])
    assert watched == [("SlowTargets3780A699", True), ("TargetErrors2CF4C810", True)], watched


@pytest.mark.parametrize("speed", [60, 240])
def test_a_canary_answering_half_its_requests_with_500_is_rolled_back_in_its_canary_bake(
    tool: Path, repository: Path, speed: int
) -> None:
    # The 25 % canary at 80 requests a second: a real minute holds 1,200 requests to green, 600 of
    # them 500, against a threshold of 10. What a simulated minute holds of it is 60/speed real
    # seconds: 20 requests to green at 60x, 5 at 240x. (At 480x with 40 requests a second and a 10 %
    # canary it is half a request, and whether two of three minutes see an error is chance: the
    # simulator does not stretch a minute to hold enough requests.)
    report = simulate(tool, repository, speed, "--config", "canary/ecspresso.yml")
    assert report["status"] == "ROLLBACK_SUCCESSFUL"
    assert report["rollbackReason"].startswith("a deployment alarm is in ALARM during the step bake ("), (
        report["rollbackReason"]
    )
    assert "TargetErrors" in report["rollbackReason"]
    assert max(green_weights(report)) == 25  # production never went past the canary
    assert [s["stage"] for s in report["stages"]][-1] == "PRODUCTION_TRAFFIC_SHIFT"
    assert report["traffic"]["production"]["byRevision"]["green"] > 0


@pytest.mark.parametrize("speed", [120, 480])
def test_a_green_crash_looping_in_the_bake_is_rolled_back_by_the_alarm(
    tool: Path, repository: Path, speed: int
) -> None:
    report = simulate(tool, repository, speed, "--sim-config", "crash-in-bake.yml")
    assert report["status"] == "ROLLBACK_SUCCESSFUL"
    assert report["rollbackReason"].startswith("a deployment alarm is in ALARM during BAKE_TIME ("), report[
        "rollbackReason"
    ]
    assert "TargetErrors" in report["rollbackReason"]
    bake = next(s for s in report["stages"] if s["stage"] == "BAKE_TIME")
    crashes = [r for r in report["tasks"]["replacements"] if r["group"] == "green"]
    assert crashes, report["tasks"]
    # Green crashes from the moment production reaches it (its POST_PRODUCTION_TRAFFIC_SHIFT hook may
    # still be running then), and each replacement again, until the rollback; never before the shift.
    shifted = next(c["at"] for c in report["traffic"]["weights"] if c["production"]["green"] == 100)
    assert all(r["exitCode"] == 3 and r["at"] >= shifted for r in crashes), crashes
    assert min(r["at"] for r in crashes) <= bake["end"], (bake, crashes)
    assert green_weights(report)[-2:] == [100, 0]  # all production on green, then back on blue


def render(tool: Path, repository: Path, local: Local, what: str, **env: str) -> Path:
    """``ecs-bg render`` of the team's definition ``what``, cfn_output answered by the local
    CloudFormation from its template; written to a file for the AWS CLI's --cli-input-json."""
    done = run(tool, "render", what, "--endpoint-url", local.url, cwd=repository, env={**local.env, **env})
    assert done.returncode == 0, done.stderr
    path = repository / f"{what}-{'-'.join(env.values()) or 'plain'}.json"
    path.write_text(done.stdout)
    return path


def test_lint_and_the_aws_cli_deploy_the_team_service_on_ecs_bg_local(tool: Path, repository: Path) -> None:
    """The team's way to ship: ``ecs-bg local`` in its repository, lint against it, then the AWS CLI
    registers, creates and updates the service, as a deploy script would against ECS."""
    with local_ecs(executable=tool, cwd=repository, env=user_environment()) as local:
        linted = run(
            tool, "lint", "--endpoint-url", local.url, "--format", "json", cwd=repository, env=local.env
        )
        assert linted.returncode == 0, linted.stdout + linted.stderr
        assert json.loads(linted.stdout)["findings"] == []

        ecs = local.client("ecs")
        first = local.aws(
            "ecs",
            "register-task-definition",
            "--cli-input-json",
            f"file://{render(tool, repository, local, 'task')}",
        )
        assert first["taskDefinition"]["taskDefinitionArn"].endswith(":task-definition/orders-web:1")
        create = json.loads(render(tool, repository, local, "service").read_text())
        create.update(cluster="orders-qa", serviceName="orders-web", taskDefinition="orders-web:1")
        creating = repository / "create-service.json"
        creating.write_text(json.dumps(create))
        created = local.aws("ecs", "create-service", "--cli-input-json", f"file://{creating}")["service"]
        assert created["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"

        def deployments() -> list[dict[str, Any]]:
            answer = local.aws(
                "ecs", "list-service-deployments", "--cluster", "orders-qa", "--service", "orders-web"
            )
            return answer["serviceDeployments"]  # type: ignore[no-any-return]

        (brief,) = until(deployments)
        assert finished(ecs, brief["serviceDeploymentArn"])["status"] == "SUCCESSFUL"

        task = render(tool, repository, local, "task", IMAGE_TAG="v2")
        second = local.aws("ecs", "register-task-definition", "--cli-input-json", f"file://{task}")
        assert second["taskDefinition"]["containerDefinitions"][0]["image"].endswith(":v2")
        local.aws(
            "ecs",
            "update-service",
            "--cluster",
            "orders-qa",
            "--service",
            "orders-web",
            "--task-definition",
            "orders-web:2",
        )
        updating = until(
            lambda: [d for d in deployments() if d["serviceDeploymentArn"] != brief["serviceDeploymentArn"]]
        )
        deployment = finished(ecs, updating[0]["serviceDeploymentArn"])
        assert deployment["status"] == "SUCCESSFUL", deployment.get("statusReason")
        # Asked once it has ended, as a deploy script's last step: the waiter's first answer is stable
        # (asked earlier, it would sleep its 15 s between attempts).
        waited = local.aws(
            "ecs",
            "wait",
            "services-stable",
            "--cluster",
            "orders-qa",
            "--services",
            "orders-web",
            check=False,
        )
        assert waited.returncode == 0, waited.stderr
        served = local.aws("ecs", "describe-services", "--cluster", "orders-qa", "--services", "orders-web")
        assert served["services"][0]["taskDefinition"].endswith(":task-definition/orders-web:2")

        # The team's hooks ran on its own functions (their log groups, its stack's names), the audit
        # hook with its own dependency; production now reaches green.
        groups = local.aws("logs", "describe-log-groups")["logGroups"]
        names = sorted(group["logGroupName"] for group in groups)
        assert names[0] == "/aws/lambda/orders-qa-traffic-gate"
        assert names[1].startswith(f"/aws/lambda/{STACK}-Audit"), names
        audit = local.aws("logs", "filter-log-events", "--log-group-name", names[1])["events"]
        assert sum('"stage": "POST_PRODUCTION_TRAFFIC_SHIFT"' in event["message"] for event in audit) == 2
        production = local.listener("production")
        with urllib.request.urlopen(f"{production}/orders", timeout=10) as answer:
            assert json.load(answer) == {"orders": []}
