"""Lint findings and the catalogue of rules that produce them (ids are stable: users suppress by them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from ecs_bg.deploy.ecspresso_release import ECSPRESSO_RELEASE

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    hint: str

    def finding(self, file: str, path: str, message: str) -> Finding:
        return Finding(
            file=file, path=path, rule=self.id, severity=self.severity, message=message, hint=self.hint
        )


@dataclass(frozen=True)
class Finding:
    file: str
    path: str  # JSONPath into the rendered definition, e.g. $.deploymentConfiguration.lifecycleHooks[0]
    rule: str
    severity: Severity
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


RULES = _rules(
    # What botocore's ECS model says about the API input ecspresso sends.
    Rule(
        "ECS001", "error", "Unknown field", "Fix the spelling; the message lists the field names ECS accepts."
    ),
    Rule("ECS002", "error", "Missing required field", "Add the field the ECS API requires here."),
    Rule("ECS003", "error", "Wrong type", "Use the JSON type the ECS API expects (string, number, list...)."),
    Rule("ECS004", "error", "Value out of range", "Use a value within the ECS API's limits."),
    Rule("ECS005", "error", "Not an allowed value", "Use one of the values the ECS API lists."),
    Rule(
        "ECS006",
        "warning",
        "Field ecspresso ignores",
        "Remove it: ecspresso fills it from ecspresso.yml or the registered task definition, or drops it.",
    ),
    # ECS's rules for native blue/green deployments (docs/aws-facts.md §2-§5).
    Rule(
        "ECS010",
        "error",
        "Lifecycle needs the ECS deployment controller",
        'Set "deploymentController": {"type": "ECS"}; CODE_DEPLOY and EXTERNAL ignore the ECS strategy.',
    ),
    Rule(
        "ECS011",
        "error",
        "BLUE_GREEN without bakeTimeInMinutes",
        "Set deploymentConfiguration.bakeTimeInMinutes (0-1440): how long blue stays up for a rollback.",
    ),
    Rule("ECS012", "error", "Bake time out of range", "Bake times are whole minutes from 0 to 1440."),
    Rule(
        "ECS013",
        "error",
        "LINEAR step out of range",
        "linearConfiguration.stepPercent is 3.0-100.0 in multiples of 0.1.",
    ),
    Rule("ECS014", "error", "CANARY percent out of range", "canaryConfiguration.canaryPercent is 0.1-100.0."),
    Rule(
        "ECS015",
        "warning",
        "Configuration for another strategy",
        "Remove it or set the strategy it belongs to: ECS only reads the active strategy's configuration.",
    ),
    Rule(
        "ECS020",
        "error",
        "PAUSE hook at a traffic shift",
        "Move the PAUSE hook to POST_TEST_TRAFFIC_SHIFT or PRE_PRODUCTION_TRAFFIC_SHIFT: "
        "ECS re-runs TEST_/PRODUCTION_TRAFFIC_SHIFT hooks during a rollback and cannot wait there.",
    ),
    Rule(
        "ECS021",
        "warning",
        "Hook at a stage a ROLLING deployment may not run",
        "AWS documents hooks at PRE_SCALE_UP for ROLLING deployments; for other stages use BLUE_GREEN, "
        "LINEAR or CANARY, or confirm that ECS runs the stage.",
    ),
    Rule(
        "ECS022",
        "error",
        "Too many hooks",
        "ECS allows at most 10 AWS_LAMBDA and 10 PAUSE hooks per service.",
    ),
    Rule(
        "ECS023",
        "error",
        "Lambda hook timeout over 1440 minutes",
        "Lambda hooks time out after at most 1440 minutes (24 h); only PAUSE hooks may wait longer.",
    ),
    Rule(
        "ECS024",
        "error",
        "Hook fields do not match its targetType",
        "AWS_LAMBDA hooks need hookTargetArn and roleArn; PAUSE hooks take neither, nor hookDetails.",
    ),
    Rule(
        "ECS025",
        "error",
        "hookDetails the hook rejects",
        "Fix hookDetails: an object (or a JSON string holding one) that fits a Lambda invocation and, "
        "for a hook built on ecs_bg, leaves room for its runtime state; the message quotes the hook's "
        "own validation.",
    ),
    Rule(
        "ECS026",
        "error",
        "Smoke test without a test listener rule",
        "Add loadBalancers[].advancedConfiguration.testListenerRule, or point the smoke test at production.",
    ),
    Rule(
        "ECS027",
        "warning",
        "Smoke test during the test traffic shift",
        "Run test-listener smoke tests at POST_TEST_TRAFFIC_SHIFT, when green has all test traffic.",
    ),
    Rule(
        "ECS030",
        "error",
        "Incomplete advancedConfiguration",
        "A blue/green load balancer needs alternateTargetGroupArn, productionListenerRule and roleArn, "
        "and the alternate target group must differ from targetGroupArn.",
    ),
    Rule(
        "ECS031",
        "error",
        "Load balancer container not in the task definition",
        "Make loadBalancers[].containerName/containerPort name a container and one of its portMappings.",
    ),
    Rule(
        "ECS032",
        "warning",
        "Deployment alarms that cannot roll back",
        'Set deploymentConfiguration.alarms {"enable": true, "rollback": true} so an alarm rolls back.',
    ),
    # Mistakes users hit (docs/aws-facts.md §8).
    Rule(
        "ECS040",
        "warning",
        "ecspresso may be too old for lifecycle hooks",
        f'Set required_version: ">= {ECSPRESSO_RELEASE}" in ecspresso.yml: older ecspresso is built on '
        "an ECS SDK without targetType and timeoutConfiguration and drops them.",
    ),
    Rule(
        "ECS041",
        "warning",
        "hookDetails that ecspresso cannot load",
        "Configure the hook in the stack's hookDetails context instead (infrastructure/cdk.json: "
        '"hookDetails": {"<hook-name>": {...}}), which each function reads as ECS_BG_HOOK_DETAILS.',
    ),
    Rule(
        "ECS050",
        "error",
        "Task CPU architecture not in the image",
        "Build the image for the task's runtimePlatform.cpuArchitecture (docker buildx --platform), "
        "or change the architecture.",
    ),
    Rule(
        "ECS051",
        "warning",
        "Fargate task without runtimePlatform.cpuArchitecture",
        "Set runtimePlatform.cpuArchitecture: Fargate defaults to X86_64, whatever the image was built for.",
    ),
)
