"""Typed extraction: the load balancing, functions, alarms and the rest a blue/green service meets.

``extract(stack)`` reads every resource of the types below that the stack creates, resolves what they
say and fills in what they leave out with the documented defaults:

- Target groups: Application Load Balancer's health check defaults (ALB user guide, "Health checks for
  your target groups", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html:
  HTTP on the traffic port, path ``/``, every 30 s with a 5 s timeout, 5 successes to be healthy and 2
  failures to be unhealthy, success code 200; 35 s, 30 s and health checks off for a ``lambda`` target
  type, as AWS::ElasticLoadBalancingV2::TargetGroup's HealthCheckEnabled says; gRPC checks default to
  ``/AWS.ALB/healthcheck`` and code 12), ``deregistration_delay.timeout_seconds`` 300 ("Target groups
  for your Application Load Balancers", Deregistration delay) and target type ``instance``.
- Listener and rule actions: a ``forward`` to ``TargetGroupArn`` is one group of weight 1; a
  ``ForwardConfig`` lists weighted groups, each of which must carry a weight when there are several
  (ALB user guide, "Listeners for your Application Load Balancers", Forward actions: "If you specify
  multiple target groups for a forward action, you must specify a weight for each target group",
  0 to 999). Actions run in ascending ``Order``.
- Lambda functions (AWS::Lambda::Function, aws-resource-lambda-function.html): Timeout 3 s, MemorySize
  128 MB, Architectures ``x86_64``; logs to ``/aws/lambda/<name>`` unless ``LoggingConfig.LogGroup``
  says otherwise (Lambda developer guide, "Sending Lambda function logs to CloudWatch Logs"). The
  code is the CDK asset the resource's ``aws:asset:path`` metadata names (relative to the cloud
  assembly; the CDK CLI writes it by default), else the asset whose object key is ``Code.S3Key``, else
  ``Code.ZipFile``, which CloudFormation puts in a file named ``index`` (Code.ZipFile: Node.js and
  Python only). Code in S3 that is no asset of the assembly is an error: there is nothing to run.
- Alarms (AWS::CloudWatch::Alarm, and PutMetricAlarm's rules, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html):
  either one metric (MetricName, Namespace, Dimensions, Statistic or ExtendedStatistic, Period) or
  ``Metrics``, of which exactly one query returns data (ReturnData, true by default); DatapointsToAlarm
  defaults to EvaluationPeriods, TreatMissingData to ``missing``, ActionsEnabled to true.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from ecs_bg.local.cloudformation.fields import Node
from ecs_bg.local.cloudformation.intrinsics import integer
from ecs_bg.local.cloudformation.model import (
    Action,
    Alarm,
    Cluster,
    Dimension,
    FixedResponse,
    Function,
    HealthCheck,
    Listener,
    ListenerRule,
    LoadBalancer,
    LogGroup,
    Metric,
    MetricDataQuery,
    MetricStat,
    Parameter,
    Redirect,
    Role,
    RuleCondition,
    Secret,
    StackResources,
    TargetGroup,
    Topic,
    WeightedTargetGroup,
)
from ecs_bg.local.cloudformation.passwords import generate_secret_string
from ecs_bg.local.cloudformation.template import Resource, Stack

T = TypeVar("T")
ELBV2 = "AWS::ElasticLoadBalancingV2::"
DEREGISTRATION_DELAY = "deregistration_delay.timeout_seconds"
RULE_CONDITIONS = {
    "path-pattern": "PathPatternConfig",
    "host-header": "HostHeaderConfig",
    "http-header": "HttpHeaderConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "query-string": "QueryStringConfig",
    "source-ip": "SourceIpConfig",
}
COMPARISON_OPERATORS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
INLINE_FILES = {"python": "index.py", "nodejs": "index.js"}


class Properties(Node):
    """A resource's Properties: each read resolved once, through the resource (which caches it)."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(dict(resource.raw_properties), resource.stack.file, (*resource.path, "Properties"))
        self.resource = resource

    def get(self, key: str) -> Any:
        return self.resource.prop(key) if key in self.value else None


def extract(stack: Stack) -> StackResources:
    """Everything of ``stack`` that a blue/green service meets, resolved; errors name file and field."""
    return StackResources(
        stack_name=stack.name,
        stack_id=stack.id,
        region=stack.env.region,
        account=stack.env.account,
        load_balancers=_each(stack, f"{ELBV2}LoadBalancer", load_balancer),
        listeners=_each(stack, f"{ELBV2}Listener", listener),
        listener_rules=_each(stack, f"{ELBV2}ListenerRule", listener_rule),
        target_groups=_each(stack, f"{ELBV2}TargetGroup", target_group),
        functions=_each(stack, "AWS::Lambda::Function", function),
        alarms=_each(stack, "AWS::CloudWatch::Alarm", alarm),
        topics=_each(stack, "AWS::SNS::Topic", topic),
        parameters=_each(stack, "AWS::SSM::Parameter", parameter),
        secrets=_each(stack, "AWS::SecretsManager::Secret", secret),
        log_groups=_each(stack, "AWS::Logs::LogGroup", log_group),
        clusters=_each(stack, "AWS::ECS::Cluster", cluster),
        roles=_each(stack, "AWS::IAM::Role", role),
        outputs=MappingProxyType({key: output.value for key, output in stack.outputs.items()}),
        exports=MappingProxyType(dict(stack.exports)),
    )


def _each(stack: Stack, resource_type: str, read: Callable[[Resource], T]) -> tuple[T, ...]:
    return tuple(read(resource) for resource in stack.created(resource_type))


def _value(resource: Resource, attribute: str = "Ref") -> str:
    return str(resource.value(attribute, resource.path))


def _key_values(properties: Node, key: str) -> dict[str, str]:
    """[{Key, Value}, ...] (load balancer and target group attributes) as a mapping."""
    return {entry.text("Key"): entry.text("Value") for entry in properties.nodes(key)}


# Elastic Load Balancing v2


def load_balancer(resource: Resource) -> LoadBalancer:
    properties = Properties(resource)
    return LoadBalancer(
        logical_id=resource.logical_id,
        name=resource.name,
        arn=_value(resource),
        full_name=_value(resource, "LoadBalancerFullName"),
        dns_name=_value(resource, "DNSName"),
        type=properties.text("Type", "application"),
        scheme=properties.text("Scheme", "internet-facing"),
        attributes=MappingProxyType(_key_values(properties, "LoadBalancerAttributes")),
    )


def target_group(resource: Resource) -> TargetGroup:
    properties = Properties(resource)
    protocol = properties.maybe_text("Protocol")
    target_type = properties.text("TargetType", "instance")
    lambda_targets = target_type == "lambda"
    grpc = properties.maybe_text("ProtocolVersion") == "GRPC"
    matcher = properties.node("Matcher")
    if matcher is None:
        success_codes = "12" if grpc else "200"
    else:
        success_codes = matcher.text("GrpcCode" if grpc else "HttpCode")
    health_check = HealthCheck(
        enabled=properties.flag("HealthCheckEnabled", not lambda_targets),
        protocol=properties.text(
            "HealthCheckProtocol", "HTTP" if protocol in (None, "HTTP", "HTTPS") else "TCP"
        ),
        port=properties.text("HealthCheckPort", "traffic-port"),
        path=properties.text("HealthCheckPath", "/AWS.ALB/healthcheck" if grpc else "/"),
        interval_seconds=properties.integer("HealthCheckIntervalSeconds", 35 if lambda_targets else 30),
        timeout_seconds=properties.integer("HealthCheckTimeoutSeconds", 30 if lambda_targets else 5),
        healthy_threshold=properties.integer("HealthyThresholdCount", 5),
        unhealthy_threshold=properties.integer("UnhealthyThresholdCount", 2),
        matcher=success_codes,
    )
    attributes = _key_values(properties, "TargetGroupAttributes")
    delay = integer(
        attributes.get(DEREGISTRATION_DELAY, "300"),
        properties.file,
        (*properties.path, "TargetGroupAttributes"),
        DEREGISTRATION_DELAY,
    )
    load_balancers = resource.value("LoadBalancerArns", resource.path)
    return TargetGroup(
        logical_id=resource.logical_id,
        name=resource.name,
        arn=_value(resource),
        full_name=_value(resource, "TargetGroupFullName"),
        protocol=protocol,
        port=properties.maybe_integer("Port"),
        target_type=target_type,
        health_check=health_check,
        deregistration_delay_seconds=delay,
        load_balancer_arns=tuple(map(str, load_balancers)),
        attributes=MappingProxyType(attributes),
    )


def listener(resource: Resource) -> Listener:
    properties = Properties(resource)
    return Listener(
        logical_id=resource.logical_id,
        arn=_value(resource),
        load_balancer_arn=properties.text("LoadBalancerArn"),
        port=properties.maybe_integer("Port"),
        protocol=properties.maybe_text("Protocol"),
        default_actions=_actions(properties, "DefaultActions"),
    )


def listener_rule(resource: Resource) -> ListenerRule:
    properties = Properties(resource)
    priority = properties.integer("Priority")
    if not 1 <= priority <= 50000:
        raise properties.error("Priority", f"must be 1 to 50000, got {priority}")
    conditions = tuple(_rule_condition(node) for node in properties.nodes("Conditions"))
    if not conditions:
        raise properties.error("Conditions", "is missing: a rule needs at least one condition")
    return ListenerRule(
        logical_id=resource.logical_id,
        arn=_value(resource),
        listener_arn=properties.text("ListenerArn"),
        priority=priority,
        conditions=conditions,
        actions=_actions(properties, "Actions"),
    )


def _actions(properties: Node, key: str) -> tuple[Action, ...]:
    actions = [_action(node) for node in properties.nodes(key)]
    if not actions:
        raise properties.error(key, "is missing: at least one action")
    return tuple(sorted(actions, key=lambda action: (action.order is None, action.order or 0)))


def _action(node: Node) -> Action:
    kind = node.text("Type")
    groups: tuple[WeightedTargetGroup, ...] = ()
    stickiness = None
    forward = node.node("ForwardConfig")
    if forward is not None:
        entries = forward.nodes("TargetGroups")
        if len(entries) > 1:
            for entry in entries:
                if not entry.has("Weight"):
                    raise entry.error("Weight", "is missing: with several target groups each needs a weight")
        groups = tuple(WeightedTargetGroup(entry.text("TargetGroupArn"), _weight(entry)) for entry in entries)
        sticky = forward.node("TargetGroupStickinessConfig")
        if sticky is not None and sticky.flag("Enabled", False):
            stickiness = sticky.integer("DurationSeconds")
    elif node.has("TargetGroupArn"):
        groups = (WeightedTargetGroup(node.text("TargetGroupArn"), 1),)
    if kind == "forward" and not groups:
        raise node.error(None, "a forward action needs TargetGroupArn or ForwardConfig.TargetGroups")
    fixed = node.node("FixedResponseConfig")
    redirect = node.node("RedirectConfig")
    for needed, config, name in (
        ("fixed-response", fixed, "FixedResponseConfig"),
        ("redirect", redirect, "RedirectConfig"),
    ):
        if kind == needed and config is None:
            raise node.error(name, f"is missing: a {needed} action needs it")
    return Action(
        type=kind,
        order=node.maybe_integer("Order"),
        target_groups=groups,
        stickiness_seconds=stickiness,
        fixed_response=None
        if fixed is None
        else FixedResponse(
            fixed.text("StatusCode"), fixed.maybe_text("ContentType"), fixed.maybe_text("MessageBody")
        ),
        redirect=None
        if redirect is None
        else Redirect(
            status_code=redirect.text("StatusCode"),
            protocol=redirect.text("Protocol", "#{protocol}"),
            host=redirect.text("Host", "#{host}"),
            port=redirect.text("Port", "#{port}"),
            path=redirect.text("Path", "/#{path}"),
            query=redirect.text("Query", "#{query}"),
        ),
    )


def _weight(entry: Node) -> int:
    weight = entry.integer("Weight", 1)
    if not 0 <= weight <= 999:
        raise entry.error("Weight", f"must be 0 to 999, got {weight}")
    return weight


def _rule_condition(node: Node) -> RuleCondition:
    field = node.text("Field")
    if field not in RULE_CONDITIONS:
        raise node.error("Field", f"must be one of {', '.join(RULE_CONDITIONS)}, got {field!r}")
    config = node.node(RULE_CONDITIONS[field])
    header = None
    if config is None:
        values = node.texts("Values")  # the older form, for host-header and path-pattern
    elif field == "query-string":
        values = tuple(
            f"{pair.text('Key')}={pair.text('Value')}" if pair.has("Key") else pair.text("Value")
            for pair in config.nodes("Values")
        )
    else:
        values = config.texts("Values")
        header = config.text("HttpHeaderName") if field == "http-header" else None
    if not values:
        raise node.error(RULE_CONDITIONS[field], f"is missing: a {field} condition needs values")
    return RuleCondition(field=field, values=values, http_header_name=header)


# Lambda


def function(resource: Resource) -> Function:
    properties = Properties(resource)
    if properties.text("PackageType", "Zip") == "Image":
        raise properties.error(
            "PackageType", f"function {resource.name} is a container image: ecs-bg runs zip functions"
        )
    runtime = properties.maybe_text("Runtime")
    code, inline_code, inline_file = _code(resource, properties, runtime)
    architectures = properties.texts("Architectures") or ("x86_64",)
    if len(architectures) != 1 or architectures[0] not in ("x86_64", "arm64"):
        raise properties.error("Architectures", f"must be [x86_64] or [arm64], got {list(architectures)}")
    environment = properties.node("Environment")
    logging = properties.node("LoggingConfig")
    return Function(
        logical_id=resource.logical_id,
        name=resource.name,
        arn=_value(resource, "Arn"),
        handler=properties.text("Handler"),
        runtime=runtime,
        code=code,
        inline_code=inline_code,
        inline_file=inline_file,
        environment=MappingProxyType({} if environment is None else environment.text_map("Variables")),
        timeout_seconds=properties.integer("Timeout", 3),
        memory_mb=properties.integer("MemorySize", 128),
        architecture=architectures[0],
        log_group=(logging and logging.maybe_text("LogGroup")) or f"/aws/lambda/{resource.name}",
    )


def _code(
    resource: Resource, properties: Node, runtime: str | None
) -> tuple[Path | None, str | None, str | None]:
    """(asset path, inline code, inline file name): where the function's code is."""
    source = resource.stack.source
    metadata = resource.metadata
    asset = metadata.get("aws:asset:path")
    if isinstance(asset, str) and metadata.get("aws:asset:property", "Code") == "Code":
        return _existing(source.base_dir / asset, resource, ("Metadata", "aws:asset:path")), None, None
    code = properties.node("Code")
    if code is None:
        raise properties.error("Code", f"is missing: function {resource.name} has no code")
    if code.has("ZipFile"):
        family = next((family for family in INLINE_FILES if (runtime or "").startswith(family)), None)
        if family is None:
            raise code.error("ZipFile", f"inline code is for Node.js and Python functions, not {runtime}")
        return None, code.text("ZipFile"), INLINE_FILES[family]
    if code.has("S3Key"):
        key = code.text("S3Key")
        found = source.assets.get(key)
        if found is not None:
            return _existing(found.path, resource, (*code.path[2:], "S3Key")), None, None
        bucket = code.maybe_text("S3Bucket")
        raise code.error(
            "S3Key",
            f"function {resource.name}'s code is s3://{bucket}/{key}, which is no asset of this cloud "
            "assembly: ecs-bg runs code it has here (a CDK asset, or Code.ZipFile)",
        )
    raise code.error(
        None, f"function {resource.name} has no code ecs-bg can run (ImageUri, or no S3Key or ZipFile)"
    )


def _existing(path: Path, resource: Resource, field: tuple[str | int, ...]) -> Path:
    if not path.exists():
        raise resource.stack.error(
            (*resource.path, *field),
            f"function {resource.name}'s code {path} does not exist: synthesize the app again (cdk synth)",
        )
    return path


# CloudWatch


def alarm(resource: Resource) -> Alarm:
    properties = Properties(resource)
    one_metric, metric_math = properties.has("MetricName"), properties.has("Metrics")
    if one_metric == metric_math:
        raise properties.error(
            None, "an alarm watches either one metric (MetricName) or metric math (Metrics): give one of them"
        )
    operator = properties.text("ComparisonOperator")
    if operator not in COMPARISON_OPERATORS:
        raise properties.error(
            "ComparisonOperator", f"must be one of {', '.join(COMPARISON_OPERATORS)}, got {operator!r}"
        )
    evaluation_periods = properties.integer("EvaluationPeriods")
    datapoints = properties.integer("DatapointsToAlarm", evaluation_periods)
    if evaluation_periods < 1 or not 1 <= datapoints <= evaluation_periods:
        raise properties.error(
            "DatapointsToAlarm",
            f"must be 1 to EvaluationPeriods ({evaluation_periods}), got {datapoints}",
        )
    threshold = properties.maybe_number("Threshold")
    threshold_metric_id = properties.maybe_text("ThresholdMetricId")
    if threshold is None and threshold_metric_id is None:
        raise properties.error(
            "Threshold", "is missing (or ThresholdMetricId, for an anomaly detection band)"
        )
    treat_missing_data = properties.text("TreatMissingData", "missing")
    if treat_missing_data not in TREAT_MISSING_DATA:
        raise properties.error(
            "TreatMissingData", f"must be one of {', '.join(TREAT_MISSING_DATA)}, got {treat_missing_data!r}"
        )
    single: dict[str, Any] = {}
    queries: tuple[MetricDataQuery, ...] = ()
    if one_metric:
        statistic, extended = properties.maybe_text("Statistic"), properties.maybe_text("ExtendedStatistic")
        if (statistic is None) == (extended is None):
            raise properties.error("Statistic", "give exactly one of Statistic and ExtendedStatistic")
        single = {
            "metric": Metric(
                properties.text("Namespace"), properties.text("MetricName"), _dimensions(properties)
            ),
            "statistic": statistic,
            "extended_statistic": extended,
            "period": properties.integer("Period"),
            "unit": properties.maybe_text("Unit"),
        }
    else:
        queries = _queries(properties)
    return Alarm(
        logical_id=resource.logical_id,
        name=resource.name,
        arn=_value(resource, "Arn"),
        comparison_operator=operator,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints,
        threshold=threshold,
        metrics=queries,
        threshold_metric_id=threshold_metric_id,
        treat_missing_data=treat_missing_data,
        actions_enabled=properties.flag("ActionsEnabled", True),
        description=properties.maybe_text("AlarmDescription"),
        alarm_actions=properties.texts("AlarmActions"),
        ok_actions=properties.texts("OKActions"),
        insufficient_data_actions=properties.texts("InsufficientDataActions"),
        evaluate_low_sample_count_percentile=properties.maybe_text("EvaluateLowSampleCountPercentile"),
        **single,
    )


def _dimensions(node: Node) -> tuple[Dimension, ...]:
    return tuple(Dimension(entry.text("Name"), entry.text("Value")) for entry in node.nodes("Dimensions"))


def _queries(properties: Node) -> tuple[MetricDataQuery, ...]:
    queries = []
    for node in properties.nodes("Metrics"):
        stat = node.node("MetricStat")
        if node.has("Expression") == (stat is not None):
            raise node.error(None, "a query has either an Expression or a MetricStat")
        metric_stat = None
        if stat is not None:
            metric = stat.node("Metric")
            if metric is None:
                raise stat.error("Metric", "is missing")
            metric_stat = MetricStat(
                Metric(metric.text("Namespace"), metric.text("MetricName"), _dimensions(metric)),
                period=stat.integer("Period"),
                stat=stat.text("Stat"),
                unit=stat.maybe_text("Unit"),
            )
        queries.append(
            MetricDataQuery(
                id=node.text("Id"),
                expression=node.maybe_text("Expression"),
                metric_stat=metric_stat,
                return_data=node.flag("ReturnData", True),
                label=node.maybe_text("Label"),
                period=node.maybe_integer("Period"),
            )
        )
    ids = [query.id for query in queries]
    for query in queries:
        if ids.count(query.id) > 1:
            raise properties.error("Metrics", f"two queries have the Id {query.id!r}")
    returning = [query.id for query in queries if query.return_data]
    if len(returning) != 1:
        raise properties.error(
            "Metrics",
            f"exactly one query must return data (ReturnData true, the default), not {len(returning)}: "
            f"{', '.join(returning) or 'none'}",
        )
    return tuple(queries)


# SNS, SSM, Secrets Manager, Logs, ECS, IAM


def topic(resource: Resource) -> Topic:
    return Topic(resource.logical_id, resource.name, _value(resource))


def parameter(resource: Resource) -> Parameter:
    properties = Properties(resource)
    kind = properties.text("Type")
    if kind not in ("String", "StringList"):
        raise properties.error("Type", f"must be String or StringList, got {kind!r}")
    return Parameter(
        resource.logical_id, resource.name, _value(resource, "Arn"), kind, properties.text("Value")
    )


def secret(resource: Resource) -> Secret:
    properties = Properties(resource)
    spec = properties.node("GenerateSecretString")
    given = properties.maybe_text("SecretString")
    if spec is not None and given is not None:
        raise properties.error("SecretString", "give SecretString or GenerateSecretString, not both")
    value = given
    if spec is not None:
        value = generate_secret_string(spec, f"{resource.stack_name}/{resource.logical_id}")
    return Secret(resource.logical_id, resource.name, _value(resource), value, generated=spec is not None)


def log_group(resource: Resource) -> LogGroup:
    return LogGroup(
        resource.logical_id,
        resource.name,
        _value(resource, "Arn"),
        Properties(resource).maybe_integer("RetentionInDays"),
    )


def cluster(resource: Resource) -> Cluster:
    return Cluster(resource.logical_id, resource.name, _value(resource, "Arn"))


def role(resource: Resource) -> Role:
    return Role(resource.logical_id, resource.name, _value(resource, "Arn"))
