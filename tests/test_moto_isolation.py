"""The ``moto`` fixture keeps tests apart: what one test writes to moto's AWS, the next never sees.

The fixture keeps boto3's default session between tests for speed (tests/conftest.py); moto's reset
still empties every backend. Two tests run here in one process, in order, as a worker runs them.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

WRITES_THEN_SEES_NOTHING = """
import boto3
import pytest
from botocore.exceptions import ClientError

from tests.aws_world import ecs_world

REGION = "us-west-2"
SESSIONS = []


def test_writes(world):
    boto3.client("ssm", region_name=REGION).put_parameter(Name="/left/behind", Value="x", Type="String")
    boto3.client("sns", region_name=REGION).create_topic(Name="left-behind")
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName="left-behind", MetricName="m", Namespace="n", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )
    world.start_service_tasks(2)
    assert world.ecs.list_tasks(cluster=world.ids.cluster)["taskArns"]
    SESSIONS.append(boto3.DEFAULT_SESSION)


def test_sees_nothing(moto):
    assert boto3.client("ecs", region_name=REGION).list_clusters()["clusterArns"] == []
    ec2 = boto3.client("ec2", region_name=REGION)
    assert [v["IsDefault"] for v in ec2.describe_vpcs()["Vpcs"]] == [True]  # moto's default VPC only
    assert ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["service"]}])[
        "SecurityGroups"
    ] == []
    with pytest.raises(ClientError, match="ParameterNotFound"):
        boto3.client("ssm", region_name=REGION).get_parameter(Name="/left/behind")
    assert boto3.client("sns", region_name=REGION).list_topics()["Topics"] == []
    assert boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"] == []
    # The same default session served both tests: botocore's models were read once.
    assert SESSIONS == [boto3.DEFAULT_SESSION]


def test_a_world_again_starts_from_nothing(world):
    assert len(world.ecs.list_clusters()["clusterArns"]) == 1
    assert world.ecs.list_tasks(cluster=world.ids.cluster)["taskArns"] == []
    assert world.ecs.list_task_definitions()["taskDefinitionArns"] == [world.task_definition_arn]
"""


def test_what_a_test_writes_to_moto_the_next_test_does_not_see(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("from tests.conftest import *  # noqa: F403\n")
    pytester.makepyfile(test_in_order=WRITES_THEN_SEES_NOTHING)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=3)
