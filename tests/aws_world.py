"""A small AWS account in moto for the checks: a cluster, a VPC, the app's task definition, tasks.

moto runs Fargate tasks only as far as the API goes: they never become healthy or stop by
themselves, so ``set_task`` moves them along the way ECS would (health, stop, exit code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from moto.ecs.models import ecs_backends
from moto.moto_api import state_manager

from ecs_bg.lifecycle.events import ServiceIds

ACCOUNT = "123456789012"


@dataclass
class EcsWorld:
    ids: ServiceIds
    ecs: Any
    task_definition_arn: str
    subnets: list[str]
    security_groups: list[str]

    @property
    def network_configuration(self) -> dict[str, Any]:
        return {"awsvpcConfiguration": {"subnets": self.subnets, "securityGroups": self.security_groups}}

    def start_service_tasks(self, count: int, task_definition_arn: str | None = None) -> list[str]:
        """Tasks as the service starts them: group ``service:<name>``."""
        tasks = self.ecs.run_task(
            cluster=self.ids.cluster,
            taskDefinition=task_definition_arn or self.task_definition_arn,
            launchType="FARGATE",
            count=count,
            group=f"service:{self.ids.service}",
            startedBy="ecs-svc/1234567890",
            networkConfiguration=self.network_configuration,
        )["tasks"]
        return [task["taskArn"] for task in tasks]

    def set_task(
        self,
        task_arn: str,
        *,
        health: str | None = None,
        stopped: bool = False,
        exit_code: int | None = None,
        stop_code: str | None = None,
        stopped_reason: str | None = None,
    ) -> None:
        task = next(
            t
            for t in ecs_backends[ACCOUNT][self.ids.region].tasks[self.ids.cluster].values()
            if t.task_arn == task_arn
        )
        if health is not None:
            task.health_status = health
        if stopped:
            self.ecs.stop_task(
                cluster=self.ids.cluster, task=task_arn, reason=stopped_reason or "Essential container exited"
            )
            task.last_status = "STOPPED"
            task.stop_code = stop_code or "EssentialContainerExited"
        if exit_code is not None:
            for container in task.containers:
                container.exitCode = exit_code  # moto's own attribute name


def ecs_world(ids: ServiceIds | None = None, *, health_check: bool = True) -> EcsWorld:
    """Call inside ``mock_aws()``."""
    ids = ids or ServiceIds()
    # Tasks stay RUNNING until a test stops them (moto would otherwise walk them to STOPPED as they are read).
    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
    ec2 = boto3.client("ec2", region_name=ids.region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # Tasks get an ENI with a private DNS name, as in a VPC with DNS hostnames on (the default VPC's setting).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="service", Description="service", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs", region_name=ids.region)
    ecs.create_cluster(clusterName=ids.cluster)
    container: dict[str, Any] = {
        "name": "app",
        "image": f"{ACCOUNT}.dkr.ecr.{ids.region}.amazonaws.com/app:1",
        "essential": True,
        "cpu": 256,
        "memory": 512,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": "/ecs/app",
                "awslogs-region": ids.region,
                "awslogs-stream-prefix": "app",
            },
        },
    }
    if health_check:
        container["healthCheck"] = {"command": ["CMD", "python", "-c", "print(1)"], "interval": 10}
    task_definition = ecs.register_task_definition(
        family="app",
        containerDefinitions=[container],
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
    )["taskDefinition"]["taskDefinitionArn"]
    return EcsWorld(ids, ecs, task_definition, [subnet], [group])


def put_alarm(cloudwatch: Any, name: str, state: str = "OK") -> None:
    """A 5xx alarm on the load balancer, in ``state``: what a gate reads of an alarm is its state."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="set by the test")
