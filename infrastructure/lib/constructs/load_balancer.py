"""The ALB that ECS native blue/green shifts traffic on.

ECS needs (``advancedConfiguration``): two IP target groups with the same settings, a production
listener rule and a test listener rule, both forward-only, and a role allowed to edit them.

Why later stack updates leave ECS's traffic weights alone (aws-cdk#36649): ECS rewrites the
production rule's forward action into a weighted forward over both groups and swaps the weights on
every deployment, so "blue" is whichever group is live. CloudFormation compares a stack's new
template with its previous template, not with the live resource, and calls UpdateRule only for a
rule whose template properties changed. So the rules below are written once, with values that do
not depend on anything a routine change touches: a constant priority and condition, and a forward
to a target group whose ``Ref`` stays the same because nothing here ever replaces a group (no
physical names; port, protocol, target type and VPC fixed). ListenerRule has no Tags, so tagging
the stack cannot touch it either. ``tests/infra`` synthesizes two differently configured apps and
asserts the rules are byte-identical. What would still reset the weights: editing these rules, the
listeners' ports or the target groups' replacement properties. Do that only between deployments,
with the production rule back on the group that is live.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct


class BlueGreenLoadBalancer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        internal: bool,
        container_port: int,
        health_check_path: str,
        test_port: int,
        certificate_arn: str | None,
        production_hostname: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=not internal,
            security_group=security_group,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name="private" if internal else "public"),
            drop_invalid_header_fields=True,
        )
        Validations.of(self.alb).acknowledge(
            Acknowledgment(
                id="AwsSolutions-ELB2",
                reason="Access logs need a bucket with a regional ELB log-delivery policy; this "
                "stack stays region-agnostic. Deployment gates use the ALB's CloudWatch metrics.",
            )
        )
        # The same settings on both groups: ECS moves tasks between them on every deployment.
        self.blue_target_group, self.green_target_group = (
            elbv2.ApplicationTargetGroup(
                self,
                name,
                vpc=vpc,
                target_type=elbv2.TargetType.IP,
                port=container_port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                deregistration_delay=Duration.seconds(30),
                health_check=elbv2.HealthCheck(
                    path=health_check_path,
                    healthy_http_codes="200",
                    interval=Duration.seconds(15),
                    healthy_threshold_count=2,
                    unhealthy_threshold_count=3,
                ),
            )
            for name in ("BlueTargetGroup", "GreenTargetGroup")
        )

        not_found = elbv2.ListenerAction.fixed_response(
            404, content_type="text/plain", message_body="no route"
        )
        if certificate_arn:
            self.production_listener = self.alb.add_listener(
                "HttpsListener",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_action=not_found,
                open=False,
            )
            self.alb.add_redirect(source_port=80, target_port=443, open=False)
            # The certificate names production_hostname, never the ALB's own DNS name; StackConfig
            # refuses a certificate without one unless the smoke test has its own url.
            self.production_url = f"https://{production_hostname or self.alb.load_balancer_dns_name}"
        else:
            self.production_listener = self.alb.add_listener(
                "HttpListener",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                default_action=not_found,
                open=False,
            )
            self.production_url = f"http://{self.alb.load_balancer_dns_name}"
        self.test_listener = self.alb.add_listener(
            "TestListener",
            port=test_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            default_action=not_found,
            open=False,
        )
        self.test_url = f"http://{self.alb.load_balancer_dns_name}:{test_port}"

        # Forward-only rules, as ECS requires. Blue starts on production and green on test; ECS
        # owns the weights from the first deployment on (see the module docstring).
        self.production_rule = self._forward_rule(
            "ProductionRule", self.production_listener, self.blue_target_group
        )
        self.test_rule = self._forward_rule("TestRule", self.test_listener, self.green_target_group)

    def _forward_rule(
        self,
        construct_id: str,
        listener: elbv2.IApplicationListener,
        target_group: elbv2.IApplicationTargetGroup,
    ) -> elbv2.ApplicationListenerRule:
        return elbv2.ApplicationListenerRule(
            self,
            construct_id,
            listener=listener,
            priority=1,
            conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
            action=elbv2.ListenerAction.forward([target_group]),
        )
