"""What ecspresso's service definition hands to ECS: the two roles ECS assumes, and the outputs.

Two roles, both trusted by ecs.amazonaws.com and kept apart so each can do one thing:
- the hook-invoke role (``lifecycleHooks[].roleArn``) may invoke the hook functions and nothing else;
- the load-balancer role (``advancedConfiguration.roleArn``) may edit listener rules and target
  registrations through AWS's managed policy for exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, CfnOutput, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

LOAD_BALANCER_POLICY = "AmazonECSInfrastructureRolePolicyForLoadBalancers"


class EcsBlueGreenRoles(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, hook_functions: Sequence[lambda_.IFunction]
    ) -> None:
        super().__init__(scope, construct_id)
        ecs_service = iam.ServicePrincipal("ecs.amazonaws.com")
        self.hook_invoke_role = iam.Role(
            self,
            "HookInvokeRole",
            assumed_by=ecs_service,
            description="ECS blue/green: invoke the lifecycle hook functions",
            inline_policies={
                "InvokeHooks": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["lambda:InvokeFunction"],
                            # The unqualified ARNs ecspresso passes as hookTargetArn; no versions.
                            resources=[fn.function_arn for fn in hook_functions],
                        )
                    ]
                )
            },
        )
        self.load_balancer_role = iam.Role(
            self,
            "LoadBalancerRole",
            assumed_by=ecs_service,
            description="ECS blue/green: shift listener rule weights and register targets",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(LOAD_BALANCER_POLICY)],
        )
        Validations.of(self.load_balancer_role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{LOAD_BALANCER_POLICY}]",
                reason="The policy the ECS developer guide prescribes for this role; AWS updates it "
                "when ECS starts calling new Elastic Load Balancing actions.",
            )
        )


class EcspressoOutputs(Construct):
    """One CfnOutput per value ecspresso's templates read with ``cfn_output``; the keys are a contract."""

    def __init__(self, scope: Construct, construct_id: str, *, values: Mapping[str, str]) -> None:
        super().__init__(scope, construct_id)
        for key, value in values.items():
            # Outputs are addressed by logical id, so override it: keys stay exactly as written.
            output = CfnOutput(self, key, value=value)
            output.override_logical_id(key)
