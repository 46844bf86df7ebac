"""VPC over two AZs, the egress that lets tasks in private subnets pull images, the security groups.

Traffic paths: clients -> ALB (production ports from ``production_cidrs``, the test port from
``test_cidrs``) -> tasks (container port, from the ALB only). Hook functions placed in the VPC reach
both listeners: directly when the ALB is internal, through the NAT gateways' addresses otherwise.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct


class Network(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        egress: str,
        nat_gateways: int,
        log_retention: logs.RetentionDays,
        internal_alb: bool,
        production_ports: list[int],
        production_cidrs: tuple[str, ...],
        test_port: int,
        test_cidrs: tuple[str, ...],
        container_port: int,
        hooks_in_vpc: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        # Explicit Elastic IPs: their addresses are known at deploy time, so the test listener can
        # admit smoke tests that leave the VPC through NAT to an internet-facing ALB.
        self.nat_eips: list[ec2.CfnEIP] = []
        nat_provider = None
        if egress == "nat":
            self.nat_eips = [ec2.CfnEIP(self, f"NatEip{i + 1}", domain="vpc") for i in range(nat_gateways)]
            nat_provider = ec2.NatProvider.gateway(
                eip_allocation_ids=[eip.attr_allocation_id for eip in self.nat_eips]
            )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=2,
            nat_gateways=nat_gateways if egress == "nat" else 0,
            nat_gateway_provider=nat_provider,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="private",
                    subnet_type=(
                        ec2.SubnetType.PRIVATE_WITH_EGRESS
                        if egress == "nat"
                        else ec2.SubnetType.PRIVATE_ISOLATED
                    ),
                    cidr_mask=24,
                ),
            ],
        )
        flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group)
        )
        self.private_subnet_selection = ec2.SubnetSelection(subnet_group_name="private")
        self.private_subnets = self.vpc.select_subnets(subnet_group_name="private").subnets
        if egress == "endpoints":
            self._add_endpoints(cidr=cidr, hook_endpoints=hooks_in_vpc)

        self.alb_security_group = ec2.SecurityGroup(
            self, "AlbSecurityGroup", vpc=self.vpc, description="ALB listeners", allow_all_outbound=False
        )
        self.service_security_group = ec2.SecurityGroup(
            self, "ServiceSecurityGroup", vpc=self.vpc, description="ECS tasks: container port from the ALB"
        )
        self.service_security_group.add_ingress_rule(
            self.alb_security_group, ec2.Port.tcp(container_port), "ALB to tasks"
        )
        self.alb_security_group.add_egress_rule(
            self.service_security_group, ec2.Port.tcp(container_port), "ALB to tasks and health checks"
        )
        for port in production_ports:
            for cidr in production_cidrs:
                self.alb_security_group.add_ingress_rule(
                    ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), "production listener"
                )
        for cidr in test_cidrs:
            self.alb_security_group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(test_port), "test listener"
            )

        self.hook_security_group: ec2.SecurityGroup | None = None
        if hooks_in_vpc:
            self.hook_security_group = ec2.SecurityGroup(
                self, "HookSecurityGroup", vpc=self.vpc, description="Lifecycle hook functions"
            )
            # How the hooks' requests arrive at the ALB: from their own ENIs inside the VPC, or
            # from the NAT gateways' public addresses when the ALB is internet-facing.
            hook_peers: list[ec2.IPeer] = (
                [self.hook_security_group]
                if internal_alb
                else [ec2.Peer.ipv4(f"{eip.attr_public_ip}/32") for eip in self.nat_eips]
            )
            for peer in hook_peers:
                for port in [*production_ports, test_port]:
                    self.alb_security_group.add_ingress_rule(
                        peer, ec2.Port.tcp(port), "smoke tests from hooks"
                    )

    def _add_endpoints(self, *, cidr: str, hook_endpoints: bool) -> None:
        # What a Fargate task needs to start without NAT: ECR (API + registry), image layers in S3,
        # and CloudWatch Logs for the awslogs driver.
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        services = {
            "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
            "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
            "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
        }
        if hook_endpoints:
            # The AWS APIs the hook functions call from inside the VPC.
            services |= {
                "Ecs": ec2.InterfaceVpcEndpointAwsService.ECS,
                "Elb": ec2.InterfaceVpcEndpointAwsService.ELASTIC_LOAD_BALANCING,
                "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
                "Sns": ec2.InterfaceVpcEndpointAwsService.SNS,
                "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
                "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
            }
        # One group for all endpoints, HTTPS from the VPC's own range (written out, not a GetAtt,
        # so the rule is checkable before deployment).
        endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=self.vpc, description="Interface endpoints: HTTPS from the VPC"
        )
        endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "AWS APIs from the VPC"
        )
        for name, service in services.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=self.private_subnet_selection,
                security_groups=[endpoint_security_group],
                open=False,
            )
