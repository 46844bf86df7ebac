"""What ``Ref`` and ``Fn::GetAtt`` return for each resource type, and how each type is named.

Every entry follows the "Return values" section of its type's page in the AWS CloudFormation User Guide
(``https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/<page>.html#<page>-return-values``;
``page`` below, read from the guide's source, awsdocs/aws-cloudformation-user-guide, 2023-09), with
attributes the registry schemas have added since (``tests/cloudformation/test_resource_types.py``
holds every attribute here to cfn-lint's copy of the CloudFormation registry schemas, whose GetAtt
names are a type's ``readOnlyProperties``). The formats of ARNs and ids are each service's own, as the
same pages' examples show them (``arn:aws:sns:us-east-1:123456789012:mystack-mytopic-NZJ5JSMVGFIE``,
``targetgroup/my-target-group/cbf133c568e0d028``, ``app/my-load-balancer/50dc6c495c0c9188``...).

A type missing here is still read; only a ``Ref`` or ``Fn::GetAtt`` to it is an error, as ecs-bg
would otherwise invent a value CloudFormation does not document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ecs_bg.local.cloudformation.errors import TemplateError
from ecs_bg.local.cloudformation.names import Environment, digits, local_uuid, suffix

DOCS = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
# An Elastic Load Balancing ARN: the resource part is <kind>/<type>/<name>/<id>[/<id>...].
ELB_ARN = re.compile(
    r"(?P<head>arn:[\w-]+:elasticloadbalancing:[\w-]*:\d*:)"
    r"(?P<kind>loadbalancer|listener|listener-rule|targetgroup)/(?P<path>.+)"
)
LOAD_BALANCER_TYPES = {"application": "app", "network": "net", "gateway": "gwy"}


class Physical(Protocol):
    """A resource as deployed: what the functions below read to make its values."""

    logical_id: str
    stack_name: str
    env: Environment

    @property
    def name(self) -> str: ...

    def prop(self, key: str) -> Any: ...

    def text_prop(self, key: str) -> str | None: ...

    def hex(self, length: int, salt: str = "") -> str: ...

    def error(self, key: str, reason: str) -> TemplateError: ...

    def forwarding_load_balancers(self) -> list[str]: ...


Value = Callable[[Physical], Any]


@dataclass(frozen=True)
class ResourceType:
    page: str  # the User Guide page of the type
    ref: Value
    attributes: Mapping[str, Value] = field(default_factory=dict)
    name_property: str | None = None  # the property that names it; else CloudFormation makes a name
    name_limit: int = 255
    lowercase: bool = False  # the service takes lowercase names only (S3, ECR)


def _name(r: Physical) -> str:
    return r.name


def _ec2_id(prefix: str) -> Value:
    """EC2's ids: a prefix and 17 hex digits (``vpc-0a1b2c3d4e5f60718``)."""
    return lambda r: f"{prefix}-{r.hex(17, prefix)}"


def _arn(service: str, resource: Callable[[Physical], str], **where: bool) -> Value:
    return lambda r: r.env.arn(service, resource(r), **where)


def _cloud_map_id(prefix: str) -> Value:
    return lambda r: f"{prefix}-{suffix(r.stack_name, r.logical_id, prefix, length=16).lower()}"


def _hosted_zone_id(r: Physical) -> str:
    # Route 53 zone ids (ELB's per-region ones included) are Z and 13 or so uppercase characters.
    return "Z" + suffix(r.stack_name, r.logical_id, "zone", length=13)


# Elastic Load Balancing v2: the load balancer's ARN names its type and name; a listener's extends its
# load balancer's, a rule's its listener's (Elastic Load Balancing API Reference, "ARN formats").
def _load_balancer_arn(r: Physical) -> str:
    kind = r.text_prop("Type") or "application"
    if kind not in LOAD_BALANCER_TYPES:
        raise r.error("Type", f"must be one of {', '.join(LOAD_BALANCER_TYPES)}, got {kind!r}")
    return r.env.arn("elasticloadbalancing", f"loadbalancer/{LOAD_BALANCER_TYPES[kind]}/{r.name}/{r.hex(16)}")


def _child_arn(parent_property: str, parent_kind: str, kind: str) -> Value:
    def arn(r: Physical) -> str:
        parent = r.text_prop(parent_property)
        if parent is None:
            raise r.error(parent_property, "is missing")
        match = ELB_ARN.fullmatch(parent)
        if match is None or match["kind"] != parent_kind:
            raise r.error(parent_property, f"is not a {parent_kind} ARN: {parent}")
        return f"{match['head']}{kind}/{match['path']}/{r.hex(16)}"

    return arn


def elb_full_name(arn: str) -> str:
    """``...:loadbalancer/app/name/id`` -> ``app/name/id``; ``...:targetgroup/name/id`` ->
    ``targetgroup/name/id``: the CloudWatch dimension values (LoadBalancerFullName, TargetGroupFullName)."""
    match = ELB_ARN.fullmatch(arn)
    if match is None:
        raise ValueError(f"not an Elastic Load Balancing ARN: {arn}")
    return match["path"] if match["kind"] == "loadbalancer" else f"{match['kind']}/{match['path']}"


def _dns_name(r: Physical) -> str:
    # my-load-balancer-424835706.us-west-2.elb.amazonaws.com (the DNSName example); an internal load
    # balancer's name starts with internal- (ELB user guide, "Load balancer scheme").
    internal = "internal-" if r.text_prop("Scheme") == "internal" else ""
    return (
        f"{internal}{r.name}-{digits(10, r.stack_name, r.logical_id)}.{r.env.region}.elb.{r.env.url_suffix}"
    )


def _lambda_arn(r: Physical) -> str:
    return r.env.arn("lambda", f"function:{r.name}")


def _function_arn_of(r: Physical) -> str:
    """The ``FunctionName`` of a version or alias: a name, or an ARN (AWS::Lambda::Version)."""
    function = r.text_prop("FunctionName")
    if function is None:
        raise r.error("FunctionName", "is missing")
    return function if function.startswith("arn:") else r.env.arn("lambda", f"function:{function}")


def _iam_path(r: Physical) -> str:
    return r.text_prop("Path") or "/"


def _ssm_parameter_arn(r: Physical) -> str:
    # A hierarchical name (/a/b) follows "parameter" directly: arn:aws:ssm:...:parameter/a/b.
    return r.env.arn("ssm", "parameter" + ("" if r.name.startswith("/") else "/") + r.name)


def _secret_arn(r: Physical) -> str:
    # "Secrets Manager automatically adds a hyphen and six random characters after the secret name at
    # the end of the ARN" (AWS::SecretsManager::Secret, Name).
    return r.env.arn("secretsmanager", f"secret:{r.name}-{r.hex(6, 'secret')}")


def _ecs_service_arn(r: Physical) -> str:
    cluster = r.text_prop("Cluster") or "default"
    return r.env.arn("ecs", f"service/{cluster.rsplit('/', 1)[-1]}/{r.name}")


def _event_rule_arn(r: Physical) -> str:
    # A rule on a custom event bus: arn:...:rule/<bus name>/<rule name> (Service Authorization Reference,
    # Amazon EventBridge, resource type "rule").
    bus = (r.text_prop("EventBusName") or "default").rsplit("/", 1)[-1]  # a name, or the bus's ARN
    return r.env.arn("events", f"rule/{r.name}" if bus == "default" else f"rule/{bus}/{r.name}")


def _queue_url(r: Physical) -> str:
    return f"https://sqs.{r.env.region}.{r.env.url_suffix}/{r.env.account}/{r.name}"


def _scalable_target_id(r: Physical) -> str:
    parts = [r.text_prop(key) for key in ("ResourceId", "ScalableDimension", "ServiceNamespace")]
    return "|".join(part or "" for part in parts)


def _iam_policy_id(r: Physical) -> str:
    # CloudFormation's own short form for inline policies, as moto makes it (generate_resource_name).
    return f"{r.stack_name[:5]}-{r.logical_id[:4]}-{suffix(r.stack_name, r.logical_id, 'policy')}"


def _public_ip(r: Physical) -> str:
    # An address of TEST-NET-3 (RFC 5737), the range documentation uses: it routes nowhere.
    return f"203.0.113.{int(r.hex(2, 'ip'), 16) % 254 + 1}"


def _kms_key_id(r: Physical) -> str:
    return local_uuid(r.stack_name, r.logical_id, "kms")


TYPES: Mapping[str, ResourceType] = {
    # Elastic Load Balancing v2
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ResourceType(
        "aws-resource-elasticloadbalancingv2-loadbalancer",
        ref=_load_balancer_arn,
        attributes={
            "LoadBalancerArn": _load_balancer_arn,
            "CanonicalHostedZoneID": _hosted_zone_id,
            "DNSName": _dns_name,
            "LoadBalancerFullName": lambda r: elb_full_name(_load_balancer_arn(r)),
            "LoadBalancerName": _name,
            "SecurityGroups": lambda r: r.prop("SecurityGroups") or [],
        },
        name_property="Name",
        name_limit=32,
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": ResourceType(
        "aws-resource-elasticloadbalancingv2-targetgroup",
        ref=lambda r: r.env.arn("elasticloadbalancing", f"targetgroup/{r.name}/{r.hex(16)}"),
        attributes={
            "TargetGroupArn": lambda r: TYPES["AWS::ElasticLoadBalancingV2::TargetGroup"].ref(r),
            "TargetGroupFullName": lambda r: elb_full_name(
                TYPES["AWS::ElasticLoadBalancingV2::TargetGroup"].ref(r)
            ),
            "TargetGroupName": _name,
            "LoadBalancerArns": lambda r: r.forwarding_load_balancers(),
        },
        name_property="Name",
        name_limit=32,
    ),
    "AWS::ElasticLoadBalancingV2::Listener": ResourceType(
        "aws-resource-elasticloadbalancingv2-listener",
        ref=_child_arn("LoadBalancerArn", "loadbalancer", "listener"),
        attributes={"ListenerArn": _child_arn("LoadBalancerArn", "loadbalancer", "listener")},
    ),
    "AWS::ElasticLoadBalancingV2::ListenerRule": ResourceType(
        "aws-resource-elasticloadbalancingv2-listenerrule",
        ref=_child_arn("ListenerArn", "listener", "listener-rule"),
        attributes={
            "RuleArn": _child_arn("ListenerArn", "listener", "listener-rule"),
            "IsDefault": lambda r: False,
        },
    ),
    # Lambda
    "AWS::Lambda::Function": ResourceType(
        "aws-resource-lambda-function",
        ref=_name,
        attributes={"Arn": _lambda_arn},
        name_property="FunctionName",
        name_limit=64,
    ),
    "AWS::Lambda::Version": ResourceType(
        "aws-resource-lambda-version",
        ref=lambda r: f"{_function_arn_of(r)}:1",
        attributes={"Version": lambda r: "1", "FunctionArn": lambda r: f"{_function_arn_of(r)}:1"},
    ),
    "AWS::Lambda::Alias": ResourceType(
        "aws-resource-lambda-alias",
        ref=lambda r: f"{_function_arn_of(r)}:{r.text_prop('Name')}",
        attributes={"AliasArn": lambda r: f"{_function_arn_of(r)}:{r.text_prop('Name')}"},
    ),
    "AWS::Lambda::LayerVersion": ResourceType(
        "aws-resource-lambda-layerversion",
        ref=_arn("lambda", lambda r: f"layer:{r.name}:1"),
        attributes={"LayerVersionArn": _arn("lambda", lambda r: f"layer:{r.name}:1")},
        name_property="LayerName",
        name_limit=140,
    ),
    # SNS, SSM, Secrets Manager
    "AWS::SNS::Topic": ResourceType(
        "aws-resource-sns-topic",
        ref=_arn("sns", _name),
        attributes={"TopicArn": _arn("sns", _name), "TopicName": _name},
        name_property="TopicName",
        name_limit=256,
    ),
    "AWS::SNS::Subscription": ResourceType(
        "aws-resource-sns-subscription",
        ref=lambda r: f"{r.text_prop('TopicArn')}:{local_uuid(r.stack_name, r.logical_id)}",
        attributes={"Arn": lambda r: f"{r.text_prop('TopicArn')}:{local_uuid(r.stack_name, r.logical_id)}"},
    ),
    "AWS::SSM::Parameter": ResourceType(
        "aws-resource-ssm-parameter",
        ref=_name,
        attributes={
            "Arn": _ssm_parameter_arn,
            "Name": _name,
            "Type": lambda r: r.text_prop("Type"),
            "Value": lambda r: r.text_prop("Value"),
        },
        name_property="Name",
        name_limit=1011,
    ),
    "AWS::SecretsManager::Secret": ResourceType(
        "aws-resource-secretsmanager-secret",
        ref=_secret_arn,
        attributes={"Id": _secret_arn},
        name_property="Name",
        name_limit=512,
    ),
    "AWS::SecretsManager::SecretTargetAttachment": ResourceType(
        "aws-resource-secretsmanager-secrettargetattachment", ref=lambda r: r.text_prop("SecretId")
    ),
    # CloudWatch, Logs
    "AWS::CloudWatch::Alarm": ResourceType(
        "aws-resource-cloudwatch-alarm",
        ref=_name,
        attributes={"Arn": _arn("cloudwatch", lambda r: f"alarm:{r.name}")},
        name_property="AlarmName",
    ),
    "AWS::CloudWatch::CompositeAlarm": ResourceType(
        "aws-resource-cloudwatch-compositealarm",
        ref=_name,
        attributes={"Arn": _arn("cloudwatch", lambda r: f"alarm:{r.name}")},
        name_property="AlarmName",
    ),
    "AWS::CloudWatch::Dashboard": ResourceType(
        "aws-resource-cloudwatch-dashboard", ref=_name, name_property="DashboardName"
    ),
    "AWS::Logs::LogGroup": ResourceType(
        "aws-resource-logs-loggroup",
        ref=_name,
        # arn:aws:logs:us-west-1:123456789012:log-group:/mystack-testgroup-12ABC1AB12A1:* (the example)
        attributes={"Arn": _arn("logs", lambda r: f"log-group:{r.name}:*")},
        name_property="LogGroupName",
        name_limit=512,
    ),
    # IAM (global: no region in the ARN)
    "AWS::IAM::Role": ResourceType(
        "aws-resource-iam-role",
        ref=_name,
        attributes={
            "Arn": _arn("iam", lambda r: f"role{_iam_path(r)}{r.name}", region=False),
            # Unique ids start AROA for roles (IAM User Guide, "IAM identifiers", unique ID prefixes).
            "RoleId": lambda r: "AROA" + suffix(r.stack_name, r.logical_id, "role-id", length=17),
        },
        name_property="RoleName",
        name_limit=64,
    ),
    "AWS::IAM::ManagedPolicy": ResourceType(
        "aws-resource-iam-managedpolicy",
        ref=_arn("iam", lambda r: f"policy{_iam_path(r)}{r.name}", region=False),
        attributes={
            "PolicyArn": _arn("iam", lambda r: f"policy{_iam_path(r)}{r.name}", region=False),
            "PolicyId": lambda r: "ANPA" + suffix(r.stack_name, r.logical_id, "policy-id", length=17),
        },
        name_property="ManagedPolicyName",
        name_limit=128,
    ),
    "AWS::IAM::Policy": ResourceType(
        "aws-resource-iam-policy", ref=_iam_policy_id, attributes={"Id": _iam_policy_id}
    ),
    "AWS::IAM::InstanceProfile": ResourceType(
        "aws-resource-iam-instanceprofile",
        ref=_name,
        attributes={"Arn": _arn("iam", lambda r: f"instance-profile{_iam_path(r)}{r.name}", region=False)},
        name_property="InstanceProfileName",
        name_limit=128,
    ),
    # ECS, ECR
    "AWS::ECS::Cluster": ResourceType(
        "aws-resource-ecs-cluster",
        ref=_name,
        attributes={"Arn": _arn("ecs", lambda r: f"cluster/{r.name}")},
        name_property="ClusterName",
    ),
    "AWS::ECS::Service": ResourceType(
        "aws-resource-ecs-service",
        ref=_ecs_service_arn,
        attributes={"ServiceArn": _ecs_service_arn, "Name": _name},
        name_property="ServiceName",
    ),
    "AWS::ECS::TaskDefinition": ResourceType(
        "aws-resource-ecs-taskdefinition",
        ref=_arn("ecs", lambda r: f"task-definition/{r.name}:1"),
        attributes={"TaskDefinitionArn": _arn("ecs", lambda r: f"task-definition/{r.name}:1")},
        name_property="Family",
    ),
    "AWS::ECS::CapacityProvider": ResourceType(
        "aws-resource-ecs-capacityprovider", ref=_name, name_property="Name"
    ),
    "AWS::ECR::Repository": ResourceType(
        "aws-resource-ecr-repository",
        ref=_name,
        attributes={
            "Arn": _arn("ecr", lambda r: f"repository/{r.name}"),
            # 123456789012.dkr.ecr.us-west-2.amazonaws.com/repository (the example)
            "RepositoryUri": lambda r: f"{r.env.account}.dkr.ecr.{r.env.region}.{r.env.url_suffix}/{r.name}",
        },
        name_property="RepositoryName",
        name_limit=256,
        lowercase=True,
    ),
    # EC2 networking
    "AWS::EC2::VPC": ResourceType(
        "aws-resource-ec2-vpc",
        ref=_ec2_id("vpc"),
        attributes={
            "VpcId": _ec2_id("vpc"),
            "CidrBlock": lambda r: r.text_prop("CidrBlock"),
            "CidrBlockAssociations": lambda r: [_ec2_id("vpc-cidr-assoc")(r)],
            "DefaultNetworkAcl": _ec2_id("acl"),
            "DefaultSecurityGroup": _ec2_id("sg"),
            "Ipv6CidrBlocks": lambda r: [],
        },
    ),
    "AWS::EC2::Subnet": ResourceType(
        "aws-resource-ec2-subnet",
        ref=_ec2_id("subnet"),
        attributes={
            "SubnetId": _ec2_id("subnet"),
            "AvailabilityZone": lambda r: r.text_prop("AvailabilityZone") or f"{r.env.region}a",
            "CidrBlock": lambda r: r.text_prop("CidrBlock"),
            "Ipv6CidrBlocks": lambda r: [],
            "NetworkAclAssociationId": _ec2_id("aclassoc"),
            "VpcId": lambda r: r.text_prop("VpcId"),
        },
    ),
    "AWS::EC2::SecurityGroup": ResourceType(
        "aws-properties-ec2-security-group",
        ref=_ec2_id("sg"),
        attributes={"GroupId": _ec2_id("sg"), "Id": _ec2_id("sg"), "VpcId": lambda r: r.text_prop("VpcId")},
    ),
    "AWS::EC2::SecurityGroupIngress": ResourceType(
        "aws-properties-ec2-security-group-ingress", ref=_ec2_id("sgr")
    ),
    "AWS::EC2::SecurityGroupEgress": ResourceType(
        "aws-resource-ec2-security-group-egress", ref=_ec2_id("sgr")
    ),
    "AWS::EC2::RouteTable": ResourceType(
        "aws-resource-ec2-routetable", ref=_ec2_id("rtb"), attributes={"RouteTableId": _ec2_id("rtb")}
    ),
    "AWS::EC2::Route": ResourceType(
        "aws-resource-ec2-route",
        ref=_ec2_id("r-rtb"),
        attributes={"CidrBlock": lambda r: r.text_prop("DestinationCidrBlock")},
    ),
    "AWS::EC2::SubnetRouteTableAssociation": ResourceType(
        "aws-resource-ec2-subnetroutetableassociation",
        ref=_ec2_id("rtbassoc"),
        attributes={"Id": _ec2_id("rtbassoc")},
    ),
    "AWS::EC2::InternetGateway": ResourceType(
        "aws-resource-ec2-internetgateway",
        ref=_ec2_id("igw"),
        attributes={"InternetGatewayId": _ec2_id("igw")},
    ),
    "AWS::EC2::VPCGatewayAttachment": ResourceType(
        "aws-resource-ec2-vpc-gateway-attachment", ref=_ec2_id("igw-attach")
    ),
    "AWS::EC2::NatGateway": ResourceType(
        "aws-resource-ec2-natgateway", ref=_ec2_id("nat"), attributes={"NatGatewayId": _ec2_id("nat")}
    ),
    "AWS::EC2::EIP": ResourceType(
        "aws-resource-ec2-eip",
        ref=_public_ip,
        attributes={"AllocationId": _ec2_id("eipalloc"), "PublicIp": _public_ip},
    ),
    "AWS::EC2::FlowLog": ResourceType(
        "aws-resource-ec2-flowlog", ref=_ec2_id("fl"), attributes={"Id": _ec2_id("fl")}
    ),
    "AWS::EC2::VPCEndpoint": ResourceType(
        "aws-resource-ec2-vpcendpoint",
        ref=_ec2_id("vpce"),
        attributes={
            "Id": _ec2_id("vpce"),
            "DnsEntries": lambda r: [
                f"{_hosted_zone_id(r)}:{_ec2_id('vpce')(r)}.{r.env.region}.vpce.{r.env.url_suffix}"
            ],
            "NetworkInterfaceIds": lambda r: [],
            "CreationTimestamp": lambda r: "1970-01-01T00:00:00.000Z",
        },
    ),
    # S3, KMS, ACM, Route 53
    "AWS::S3::Bucket": ResourceType(
        "aws-properties-s3-bucket",
        ref=_name,
        attributes={
            "Arn": _arn("s3", _name, region=False, account=False),
            "DomainName": lambda r: f"{r.name}.s3.{r.env.url_suffix}",
            "DualStackDomainName": lambda r: f"{r.name}.s3.dualstack.{r.env.region}.{r.env.url_suffix}",
            "RegionalDomainName": lambda r: f"{r.name}.s3.{r.env.region}.{r.env.url_suffix}",
            "WebsiteURL": lambda r: f"http://{r.name}.s3-website.{r.env.region}.{r.env.url_suffix}",
        },
        name_property="BucketName",
        name_limit=63,
        lowercase=True,
    ),
    "AWS::KMS::Key": ResourceType(
        "aws-resource-kms-key",
        ref=_kms_key_id,
        attributes={"Arn": _arn("kms", lambda r: f"key/{_kms_key_id(r)}"), "KeyId": _kms_key_id},
    ),
    "AWS::KMS::Alias": ResourceType("aws-resource-kms-alias", ref=lambda r: r.text_prop("AliasName")),
    "AWS::CertificateManager::Certificate": ResourceType(
        "aws-resource-certificatemanager-certificate",
        ref=_arn("acm", lambda r: f"certificate/{local_uuid(r.stack_name, r.logical_id)}"),
    ),
    "AWS::Route53::RecordSet": ResourceType(
        "aws-properties-route53-recordset", ref=lambda r: r.text_prop("Name")
    ),
    "AWS::Route53::HostedZone": ResourceType(
        "aws-resource-route53-hostedzone", ref=_hosted_zone_id, attributes={"Id": _hosted_zone_id}
    ),
    # Code pipelines, events, queues, tables, service discovery, scaling
    "AWS::CodeBuild::Project": ResourceType(
        "aws-resource-codebuild-project",
        ref=_name,
        attributes={"Arn": _arn("codebuild", lambda r: f"project/{r.name}")},
        name_property="Name",
    ),
    "AWS::CodePipeline::Pipeline": ResourceType(
        "aws-resource-codepipeline-pipeline",
        ref=_name,
        attributes={"Version": lambda r: "1", "Arn": _arn("codepipeline", _name)},
        name_property="Name",
        name_limit=100,
    ),
    "AWS::Events::Rule": ResourceType(
        "aws-resource-events-rule",
        ref=_name,  # "the event rule ID, such as mystack-ScheduledRule-ABCDEFGHIJK": its name
        attributes={"Arn": _event_rule_arn},
        name_property="Name",
        name_limit=64,
    ),
    "AWS::SQS::Queue": ResourceType(
        "aws-resource-sqs-queue",
        ref=_queue_url,
        attributes={"Arn": _arn("sqs", _name), "QueueName": _name, "QueueUrl": _queue_url},
        name_property="QueueName",
        name_limit=80,
    ),
    "AWS::DynamoDB::Table": ResourceType(
        "aws-resource-dynamodb-table",
        ref=_name,
        attributes={
            "Arn": _arn("dynamodb", lambda r: f"table/{r.name}"),
            "StreamArn": _arn("dynamodb", lambda r: f"table/{r.name}/stream/1970-01-01T00:00:00.000"),
        },
        name_property="TableName",
    ),
    "AWS::ServiceDiscovery::Service": ResourceType(
        "aws-resource-servicediscovery-service",
        ref=_cloud_map_id("srv"),
        attributes={
            "Id": _cloud_map_id("srv"),
            "Arn": _arn("servicediscovery", lambda r: f"service/{_cloud_map_id('srv')(r)}"),
            "Name": _name,
        },
        name_property="Name",
    ),
    "AWS::ServiceDiscovery::PrivateDnsNamespace": ResourceType(
        "aws-resource-servicediscovery-privatednsnamespace",
        ref=_cloud_map_id("ns"),
        attributes={
            "Id": _cloud_map_id("ns"),
            "Arn": _arn("servicediscovery", lambda r: f"namespace/{_cloud_map_id('ns')(r)}"),
            "HostedZoneId": _hosted_zone_id,
        },
    ),
    "AWS::ApplicationAutoScaling::ScalableTarget": ResourceType(
        "aws-resource-applicationautoscaling-scalabletarget",
        ref=_scalable_target_id,
        attributes={"Id": _scalable_target_id},
    ),
}

# Types whose values exist only once deployed: a custom resource's come from its provider's answer and
# a nested stack's from its own template (AWS::CloudFormation::Stack, "Outputs.NestedStackOutputName").
UNKNOWABLE = {
    "AWS::CloudFormation::CustomResource": "its values come from its provider when it is deployed",
    "AWS::CloudFormation::Stack": "a nested stack's values come from its own template, which ecs-bg leaves",
}


def unknowable(resource_type: str) -> str | None:
    """Why a ``Ref`` or ``Fn::GetAtt`` to a resource of this type cannot be answered locally, if so."""
    if resource_type.startswith("Custom::"):
        return UNKNOWABLE["AWS::CloudFormation::CustomResource"]
    return UNKNOWABLE.get(resource_type)


def docs_url(resource_type: str) -> str | None:
    known = TYPES.get(resource_type)
    return None if known is None else f"{DOCS}{known.page}.html"
