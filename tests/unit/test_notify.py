"""notify: Slack and Teams webhooks on a local HTTP server, SNS, Secrets Manager and SSM in moto.

The webhook paths are secret-looking canaries: no log line and no reason may ever contain them.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import pytest
from moto.sns.models import sns_backends

from ecs_bg.hooks import CheckFailed, HookContext, LifecycleHook, Stage, aws, notify
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.conftest import LocalServer, log_lines
from tests.ecs_apis import ServiceDeploymentApis
from tests.faults import fail

_names = itertools.count()
IDS = ServiceIds()
ACCOUNT = "123456789012"
SLACK_PATH = "/services/T0ECSBG/B0LEAKCANARY/slack-canary-7f3a9c2e"
TEAMS_PATH = "/workflows/teams-canary-2b8d41/triggers/manual/paths/invoke"
CANARIES = ("slack-canary-7f3a9c2e", "teams-canary-2b8d41", "B0LEAKCANARY")
CONSOLE = (
    "https://us-west-2.console.aws.amazon.com/ecs/v2/clusters/my-cluster/services/my-service"
    "/deployments?region=us-west-2"
)


class Deployments(ServiceDeploymentApis):
    """ECS's answers, with the revision the deployment replaces (absent on a first deployment)."""

    def _DescribeServiceDeployments(self, request: dict[str, Any]) -> dict[str, Any]:
        response = super()._DescribeServiceDeployments(request)
        if self.previous_deployments:
            response["serviceDeployments"][0]["sourceServiceRevisions"] = [
                {
                    "arn": self.ids.blue_arn,
                    "requestedTaskCount": 2,
                    "runningTaskCount": 2,
                    "pendingTaskCount": 0,
                }
            ]
        return response


@dataclass
class Webhook:
    """A Slack or Teams endpoint: records each JSON body posted and answers ``status``."""

    server: LocalServer
    path: str
    status: int = 200
    posts: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.routes[self.path] = self._answer

    @property
    def url(self) -> str:
        return self.server.url + self.path

    def _answer(self, request: BaseHTTPRequestHandler) -> tuple[int, str]:
        self.posts.append(json.loads(request.rfile.read(int(request.headers["Content-Length"]))))
        return self.status, "ok" if self.status < 300 else "no_service"


@dataclass
class Channels:
    slack: Webhook
    teams: Webhook
    topic_arn: str
    settings: dict[str, Any]

    def sns_messages(self) -> list[tuple[str, str | None]]:
        topic = sns_backends[ACCOUNT][IDS.region].topics[self.topic_arn]
        return [(message, subject) for _, message, subject, _, _ in topic.sent_notifications]


@pytest.fixture
def channels(moto: None, http_server: LocalServer) -> Channels:
    """Slack's URL in a Secrets Manager secret, Teams' as JSON in an SSM SecureString, an SNS topic."""
    slack, teams = Webhook(http_server, SLACK_PATH), Webhook(http_server, TEAMS_PATH)
    boto3.client("secretsmanager", region_name=IDS.region).create_secret(
        Name="ecs-bg/slack-webhook", SecretString=slack.url
    )
    boto3.client("ssm", region_name=IDS.region).put_parameter(
        Name="/ecs-bg/teams-webhook", Value=json.dumps({"url": teams.url}), Type="SecureString"
    )
    topic = boto3.client("sns", region_name=IDS.region).create_topic(Name="deployments")["TopicArn"]
    settings = {"slack": "ecs-bg/slack-webhook", "teams": "/ecs-bg/teams-webhook", "snsTopicArn": topic}
    return Channels(slack, teams, topic, settings)


@pytest.fixture
def ecs(moto: None) -> Deployments:
    return Deployments(IDS, previous_deployments=1).attach(aws.client("ecs", IDS.region))


def notify_at(
    stage: Stage, settings: Any, *, rollback: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Run the notify check at ``stage``: the response, the log lines and the raw log text."""
    stream = io.StringIO()
    hook = LifecycleHook(f"notify-{next(_names)}", log_stream=stream, run_on_rollback=rollback)
    hook.stage(stage)(lambda ctx: ctx.run_checks("notify") and None)
    event = lifecycle_event(stage, rollback=rollback, hook_details={"notify": settings})
    response = hook.handler(event, LocalLambdaContext("notify", timeout_seconds=60))
    return response, log_lines(stream), stream.getvalue()


def verdict(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return next(line for line in lines if line["message"] == "check verdict")


def test_every_channel_gets_service_revisions_stage_outcome_and_console_link(
    channels: Channels, ecs: Deployments
) -> None:
    response, lines, _ = notify_at(Stage.POST_PRODUCTION_TRAFFIC_SHIFT, channels.settings)
    assert response == {"hookStatus": "SUCCEEDED"}
    assert verdict(lines)["why"] == "'production traffic on green' sent to slack, teams, sns"

    (slack,) = channels.slack.posts
    assert slack["text"] == "my-service: production traffic on green"
    fields = "\n".join(f["text"] for block in slack["blocks"] for f in block.get("fields", []))
    for expected in (
        "*Service*\nmy-service",
        "*Cluster*\nmy-cluster",
        "*Stage*\nPOST_PRODUCTION_TRAFFIC_SHIFT",
        "*Outcome*\nproduction traffic on green",
        f"*Green revision*\n{IDS.green_revision}",
        f"*Blue revision*\n{IDS.blue_revision}",  # from the deployment: this stage's weights are {}
    ):
        assert expected in fields
    assert slack["blocks"][-1]["elements"][0]["url"] == CONSOLE

    (teams,) = channels.teams.posts
    attachment = teams["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    facts = {fact["title"]: fact["value"] for block in card["body"] for fact in block.get("facts", [])}
    assert facts == {
        "Service": "my-service",
        "Cluster": "my-cluster",
        "Stage": "POST_PRODUCTION_TRAFFIC_SHIFT",
        "Outcome": "production traffic on green",
        "Green revision": IDS.green_revision,
        "Blue revision": IDS.blue_revision,
    }
    assert card["actions"][0]["url"] == CONSOLE

    ((message, subject),) = channels.sns_messages()
    assert subject == "my-service: production traffic on green"
    assert "Stage: POST_PRODUCTION_TRAFFIC_SHIFT" in message
    assert f"Blue revision: {IDS.blue_revision}" in message
    assert message.endswith(CONSOLE)


def test_a_first_deployment_announces_itself_as_such(channels: Channels, moto: None) -> None:
    Deployments(IDS, previous_deployments=0).attach(aws.client("ecs", IDS.region))
    response, _, _ = notify_at(Stage.PRE_SCALE_UP, {"snsTopicArn": channels.topic_arn})
    assert response == {"hookStatus": "SUCCEEDED"}
    ((message, subject),) = channels.sns_messages()
    assert subject == "my-service: deployment starting"
    assert "Blue revision: first deployment" in message


def test_at_a_shift_stage_the_weights_name_blue_without_asking_ecs(channels: Channels, moto: None) -> None:
    apis = Deployments(IDS).attach(aws.client("ecs", IDS.region))
    response, _, _ = notify_at(Stage.PRODUCTION_TRAFFIC_SHIFT, {"snsTopicArn": channels.topic_arn})
    assert response == {"hookStatus": "SUCCEEDED"}
    ((message, subject),) = channels.sns_messages()
    assert subject == "my-service: PRODUCTION_TRAFFIC_SHIFT passed"
    assert f"Blue revision: {IDS.blue_revision}" in message
    assert apis.calls == []


def test_send_carries_a_caller_outcome_and_detail(channels: Channels, ecs: Deployments) -> None:
    hook = LifecycleHook(f"notify-{next(_names)}", log_stream=io.StringIO())

    @hook.stage(Stage.POST_TEST_TRAFFIC_SHIFT)
    def announce(ctx: HookContext) -> None:
        settings = ctx.settings(notify.Settings, "notify")
        assert (
            notify.send(ctx, settings, "rolling back", detail="smokeTest: status 500 <html>").status
            == "PASSED"
        )

    event = lifecycle_event(
        Stage.POST_TEST_TRAFFIC_SHIFT, hook_details={"notify": {"slack": "ecs-bg/slack-webhook"}}
    )
    assert hook.handler(event) == {"hookStatus": "SUCCEEDED"}
    (slack,) = channels.slack.posts
    assert slack["text"] == "my-service: rolling back"
    assert {"type": "mrkdwn", "text": "smokeTest: status 500 &lt;html&gt;"} in [
        b.get("text") for b in slack["blocks"]
    ]


def test_channels_default_to_the_function_environment_and_null_switches_one_off(
    channels: Channels, ecs: Deployments, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(notify.SLACK_ENV, "ecs-bg/slack-webhook")
    monkeypatch.setenv(notify.SNS_ENV, channels.topic_arn)
    response, lines, _ = notify_at(Stage.POST_SCALE_UP, {"snsTopicArn": None})
    assert response == {"hookStatus": "SUCCEEDED"}
    assert verdict(lines)["sent"] == ["slack"]
    assert len(channels.slack.posts) == 1
    assert channels.sns_messages() == []


def test_no_channel_configured_passes_and_says_so(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (notify.SLACK_ENV, notify.TEAMS_ENV, notify.SNS_ENV):
        monkeypatch.delenv(name, raising=False)
    response, lines, _ = notify_at(Stage.POST_SCALE_UP, {})
    assert response == {"hookStatus": "SUCCEEDED"}
    assert verdict(lines)["why"] == "no notification channels configured"


@pytest.mark.parametrize(
    ("required", "dry_run", "status"),
    [(False, False, "SUCCEEDED"), (True, False, "FAILED"), (True, True, "SUCCEEDED")],
    ids=["optional", "required", "required-dry-run"],
)
def test_a_webhook_answering_500_warns_and_fails_only_when_required(
    channels: Channels, ecs: Deployments, required: bool, dry_run: bool, status: str
) -> None:
    channels.slack.status = 500
    settings = {**channels.settings, "required": required, "dryRun": dry_run}
    response, lines, _ = notify_at(Stage.POST_SCALE_UP, settings)
    assert response == {"hookStatus": status}
    assert len(channels.slack.posts) == 3  # the first try and two retries
    assert len(channels.teams.posts) == 1
    assert len(channels.sns_messages()) == 1
    (warning,) = [line for line in lines if line["message"] == "notification failed"]
    assert (warning["channel"], warning["why"]) == ("slack", "webhook answered HTTP 500: no_service")
    assert verdict(lines)["why"] == (
        "'POST_SCALE_UP passed' sent to teams, sns; failed: slack (webhook answered HTTP 500: no_service)"
    )


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        (
            {"slack": "ecs-bg/missing"},
            "ResourceNotFoundException calling secretsmanager:GetSecretValue",
        ),
        ({"teams": "/ecs-bg/missing"}, "ParameterNotFound calling ssm:GetParameter"),
        ({"slack": "ecs-bg/not-a-url"}, "secret ecs-bg/not-a-url does not hold an https webhook URL"),
        ({"slack": "ecs-bg/plain-http"}, "secret ecs-bg/plain-http does not hold an https webhook URL"),
    ],
)
def test_a_missing_or_wrong_secret_warns_or_fails_when_required(
    channels: Channels, ecs: Deployments, settings: dict[str, Any], why: str
) -> None:
    secrets = boto3.client("secretsmanager", region_name=IDS.region)
    secrets.create_secret(Name="ecs-bg/not-a-url", SecretString='{"webhook": "x"}')
    secrets.create_secret(Name="ecs-bg/plain-http", SecretString="http://hooks.example.com/services/T0/B0/x")
    response, lines, _ = notify_at(Stage.POST_SCALE_UP, settings)
    assert response == {"hookStatus": "SUCCEEDED"}
    assert why in next(line for line in lines if line["message"] == "notification failed")["why"]
    response, lines, _ = notify_at(Stage.POST_SCALE_UP, {**settings, "required": True})
    assert response == {"hookStatus": "FAILED"}
    assert why in lines[-1]["reason"]


def test_access_denied_on_the_secret_names_the_permission(channels: Channels, ecs: Deployments) -> None:
    fail(aws.client("secretsmanager", IDS.region), "GetSecretValue", "AccessDeniedException")
    response, lines, _ = notify_at(Stage.POST_SCALE_UP, {**channels.settings, "required": True})
    assert response == {"hookStatus": "FAILED"}
    assert (
        "slack (AccessDeniedException calling secretsmanager:GetSecretValue: the hook function's role lacks"
        in lines[-1]["reason"]
    )
    assert len(channels.teams.posts) == 1  # one channel's failure does not stop the others


def test_sns_refusing_publish_is_reported(channels: Channels, ecs: Deployments) -> None:
    fail(aws.client("sns", IDS.region), "Publish", "AuthorizationError", status=403)
    response, lines, _ = notify_at(Stage.POST_SCALE_UP, {"snsTopicArn": channels.topic_arn})
    assert response == {"hookStatus": "SUCCEEDED"}
    assert "sns (AuthorizationError calling sns:Publish" in verdict(lines)["why"]


def test_a_webhook_url_in_hook_details_is_refused_without_echoing_it(moto: None) -> None:
    url = "https://hooks.slack.com" + SLACK_PATH
    response, lines, raw = notify_at(Stage.POST_SCALE_UP, {"slack": url})
    assert response == {"hookStatus": "FAILED"}
    assert "slack must name the Secrets Manager secret or SSM parameter" in lines[-1]["reason"]
    assert not any(canary in raw for canary in CANARIES)


def test_webhook_urls_never_reach_any_log(
    channels: Channels, ecs: Deployments, refused_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    boto3.client("secretsmanager", region_name=IDS.region).create_secret(
        Name="ecs-bg/refused", SecretString=json.dumps({"url": refused_url + SLACK_PATH})
    )
    channels.teams.status = 503
    # From here, everything any library logs at the most verbose level, as with Lambda's DEBUG.
    caplog.set_level(logging.DEBUG)
    raws = []
    for settings in (
        channels.settings,
        {**channels.settings, "slack": "ecs-bg/refused", "required": True},
        {"slack": "https://hooks.slack.com" + SLACK_PATH},
    ):
        response, _, raw = notify_at(Stage.POST_SCALE_UP, settings)
        raws.append(raw)
    assert response == {"hookStatus": "FAILED"}
    assert any("webhook unreachable: NewConnectionError" in raw for raw in raws)
    assert caplog.records, "the capture saw nothing: the test would prove nothing"
    for text in (*raws, caplog.text):
        assert not any(canary in text for canary in CANARIES)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"snsTopicArn": "deployments"}, "hookDetails.notify: snsTopicArn must be an SNS topic ARN"),
        ({"required": "yes"}, "hookDetails.notify.required: expected true or false"),
        ({"timeoutSeconds": 0}, "hookDetails.notify.timeoutSeconds: 0 is out of range"),
        ({"webhook": "x"}, "hookDetails.notify.webhook: unknown setting"),
        ({"teams": "http://prod.webhook.office.com/x"}, "teams must name the Secrets Manager secret"),
    ],
)
def test_bad_configuration_fails_before_anything_is_sent(
    moto: None, settings: dict[str, Any], message: str
) -> None:
    response, lines, _ = notify_at(Stage.POST_SCALE_UP, settings)
    assert response == {"hookStatus": "FAILED"}
    assert message in lines[-1]["reason"]


def test_an_unexpected_error_in_a_channel_is_only_a_warning(
    channels: Channels, ecs: Deployments, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(topic_arn: str, message: notify.Message) -> None:
        raise RuntimeError("POST " + channels.slack.url)

    monkeypatch.setattr(notify.sns, "publish", broken)
    response, lines, raw = notify_at(Stage.POST_SCALE_UP, channels.settings)
    assert response == {"hookStatus": "SUCCEEDED"}
    assert verdict(lines)["why"].endswith("failed: sns (unexpected RuntimeError)")
    assert not any(canary in raw for canary in CANARIES)


def test_a_hook_that_fails_tells_its_channels_it_is_rolling_back(
    channels: Channels, ecs: Deployments
) -> None:
    stream = io.StringIO()
    hook = LifecycleHook(f"notify-{next(_names)}", log_stream=stream)

    @hook.stage(Stage.POST_PRODUCTION_TRAFFIC_SHIFT)
    def gate(ctx: HookContext) -> None:
        ctx.run_checks("notify")  # the success message goes out first ...
        raise CheckFailed("alarmGate", "ecs-bg-green-5xx-dev is ALARM")  # ... then a gate fails

    event = lifecycle_event(Stage.POST_PRODUCTION_TRAFFIC_SHIFT, hook_details={"notify": channels.settings})
    assert hook.handler(event, LocalLambdaContext("notify", timeout_seconds=60)) == {"hookStatus": "FAILED"}
    last = json.dumps(channels.slack.posts[-1])
    assert "POST_PRODUCTION_TRAFFIC_SHIFT FAILED: rolling back" in last
    assert "ecs-bg-green-5xx-dev is ALARM" in last
    assert len(channels.slack.posts) == 2
    assert "FAILED: rolling back" in channels.sns_messages()[-1][0]
