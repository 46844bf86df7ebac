"""What a blue/green service meets in a stack, as typed values: every field resolved, defaults applied.

Built by ``extract.extract`` from a ``template.Stack``. Field names are the CloudFormation properties'
in snake case; each resource keeps its ``logical_id`` so an error or a report can point at the
template. Values are what the deployed resource would have: names and ARNs as ``template`` makes them,
a property the template leaves out at its documented default (each default cites its page in
``extract``).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Elastic Load Balancing v2


@dataclass(frozen=True)
class LoadBalancer:
    logical_id: str
    name: str
    arn: str
    full_name: str  # app/<name>/<id>: the LoadBalancer dimension of its CloudWatch metrics
    dns_name: str
    type: str  # application | network | gateway
    scheme: str  # internet-facing | internal
    attributes: Mapping[str, str] = field(default_factory=dict)  # LoadBalancerAttributes, as given


@dataclass(frozen=True)
class HealthCheck:
    enabled: bool
    protocol: str
    port: str  # "traffic-port" or a port number
    path: str
    interval_seconds: int
    timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: str  # the HttpCode (or GrpcCode) success codes: "200", "200,202", "200-299"


@dataclass(frozen=True)
class TargetGroup:
    logical_id: str
    name: str
    arn: str
    full_name: str  # targetgroup/<name>/<id>: the TargetGroup dimension of its CloudWatch metrics
    protocol: str | None
    port: int | None
    target_type: str  # instance | ip | lambda | alb
    health_check: HealthCheck
    deregistration_delay_seconds: int
    load_balancer_arns: tuple[str, ...]  # the load balancers whose listeners or rules forward to it
    attributes: Mapping[str, str] = field(default_factory=dict)  # TargetGroupAttributes, as given


@dataclass(frozen=True)
class WeightedTargetGroup:
    target_group_arn: str
    weight: int


@dataclass(frozen=True)
class FixedResponse:
    status_code: str
    content_type: str | None = None
    message_body: str | None = None


@dataclass(frozen=True)
class Redirect:
    status_code: str  # HTTP_301 | HTTP_302
    protocol: str = "#{protocol}"
    host: str = "#{host}"
    port: str = "#{port}"
    path: str = "/#{path}"
    query: str = "#{query}"


@dataclass(frozen=True)
class Action:
    type: str  # forward | fixed-response | redirect | authenticate-oidc | authenticate-cognito
    order: int | None = None
    target_groups: tuple[
        WeightedTargetGroup, ...
    ] = ()  # forward: one group, or ForwardConfig's weighted groups
    stickiness_seconds: int | None = None  # ForwardConfig's target group stickiness, when enabled
    fixed_response: FixedResponse | None = None
    redirect: Redirect | None = None


@dataclass(frozen=True)
class Listener:
    logical_id: str
    arn: str
    load_balancer_arn: str
    port: int | None
    protocol: str | None
    default_actions: tuple[Action, ...]


@dataclass(frozen=True)
class RuleCondition:
    field: str  # path-pattern | host-header | http-header | http-request-method | query-string | source-ip
    values: tuple[str, ...] = ()  # query-string: "key=value" (or "value" for a value alone)
    http_header_name: str | None = None


@dataclass(frozen=True)
class ListenerRule:
    logical_id: str
    arn: str
    listener_arn: str
    priority: int
    conditions: tuple[RuleCondition, ...]
    actions: tuple[Action, ...]


# Lambda


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str | None
    # The code: a folder or a .zip file on this machine (a CDK asset), or the template's Code.ZipFile.
    code: Path | None
    inline_code: str | None
    inline_file: str | None  # the file inline code lives in: index.py (Python), index.js (Node.js)
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int
    architecture: str  # x86_64 | arm64
    log_group: str

    def code_folder(self, cache: Path) -> Path:
        """The folder Lambda would unpack to ``/var/task``: the asset's own, or, for a zip asset or inline
        code, one made under ``cache`` once (named by the content, so a changed function gets a new one)."""
        if self.code is not None and self.code.is_dir():
            return self.code
        if self.code is not None:
            folder = cache / hashlib.sha256(self.code.read_bytes()).hexdigest()[:16]
            if not folder.exists():
                with zipfile.ZipFile(self.code) as archive:
                    archive.extractall(folder)  # never outside folder: zipfile drops ".." and leading "/"
            return folder
        assert self.inline_code is not None
        assert self.inline_file is not None
        folder = cache / hashlib.sha256(self.inline_code.encode()).hexdigest()[:16]
        entry = folder / self.inline_file
        if not entry.exists():
            folder.mkdir(parents=True, exist_ok=True)
            entry.write_text(self.inline_code, encoding="utf-8")
        return folder


# CloudWatch


@dataclass(frozen=True)
class Dimension:
    name: str
    value: str


@dataclass(frozen=True)
class Metric:
    namespace: str
    metric_name: str
    dimensions: tuple[Dimension, ...] = ()


@dataclass(frozen=True)
class MetricStat:
    metric: Metric
    period: int
    stat: str  # Sum, Average, p95...
    unit: str | None = None


@dataclass(frozen=True)
class MetricDataQuery:
    id: str
    expression: str | None = None  # metric math over the other queries' ids
    metric_stat: MetricStat | None = None
    return_data: bool = True  # the one query the alarm watches
    label: str | None = None
    period: int | None = None


@dataclass(frozen=True)
class Alarm:
    logical_id: str
    name: str
    arn: str
    comparison_operator: str
    evaluation_periods: int
    datapoints_to_alarm: int  # EvaluationPeriods when the template leaves it out
    threshold: float | None  # None with a threshold_metric_id (anomaly detection band)
    # Either one metric (metric, with statistic or extended_statistic, period, unit)...
    metric: Metric | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    period: int | None = None
    unit: str | None = None
    # ... or metric math: the queries, one of which returns the data the alarm watches.
    metrics: tuple[MetricDataQuery, ...] = ()
    threshold_metric_id: str | None = None
    treat_missing_data: str = "missing"
    actions_enabled: bool = True
    description: str | None = None
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    evaluate_low_sample_count_percentile: str | None = None


# SNS, SSM, Secrets Manager, Logs, ECS, IAM


@dataclass(frozen=True)
class Topic:
    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class Parameter:
    logical_id: str
    name: str
    arn: str
    type: str  # String | StringList
    value: str


@dataclass(frozen=True)
class Secret:
    logical_id: str
    name: str
    arn: str
    value: str | None  # SecretString, a value generated from GenerateSecretString, or None: an empty secret
    generated: bool = False


@dataclass(frozen=True)
class LogGroup:
    logical_id: str
    name: str
    arn: str
    retention_days: int | None = None  # None: never expire


@dataclass(frozen=True)
class Cluster:
    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class Role:
    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class StackResources:
    """What one stack holds for a blue/green service, and its outputs."""

    stack_name: str
    stack_id: str
    region: str
    account: str
    load_balancers: tuple[LoadBalancer, ...] = ()
    listeners: tuple[Listener, ...] = ()
    listener_rules: tuple[ListenerRule, ...] = ()
    target_groups: tuple[TargetGroup, ...] = ()
    functions: tuple[Function, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    topics: tuple[Topic, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    secrets: tuple[Secret, ...] = ()
    log_groups: tuple[LogGroup, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    roles: tuple[Role, ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)  # OutputKey -> value
    exports: Mapping[str, str] = field(default_factory=dict)  # Export.Name -> value
