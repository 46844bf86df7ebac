"""Physical names, ids and ARNs: made as CloudFormation makes them, the same on every run."""

from __future__ import annotations

import re

import pytest

from ecs_bg.local.cloudformation.names import Environment, generated_name, hex_id, suffix


def test_a_generated_name_is_stack_logical_id_and_a_random_looking_suffix() -> None:
    name = generated_name("orders-prod", "Queue")
    assert re.fullmatch(r"orders-prod-Queue-[A-Z2-7]{12}", name)
    # The same stack and logical id: the same name, run after run; another of either: another name.
    assert generated_name("orders-prod", "Queue") == name
    assert generated_name("orders-prod", "Queue2") != name
    assert generated_name("orders-qa", "Queue").rsplit("-", 1)[1] != name.rsplit("-", 1)[1]


def test_a_name_is_cut_to_the_services_limit_keeping_its_suffix() -> None:
    name = generated_name("zenn-ecs-cdk-ecspresso", "LoadBalancerBlueTargetGroupCEE54ADF", 32)
    assert len(name) == 32
    assert re.fullmatch(r"zenn-ecs-cdk-ecspre-[A-Z2-7]{12}", name)
    # A cut that ends on a hyphen drops it: target group names may not hold "--".
    cut_on_hyphen = generated_name("abcdefghijklmnopqrs-x", "Group", 32)
    assert "--" not in cut_on_hyphen
    assert re.fullmatch(r"abcdefghijklmnopqrs-[A-Z2-7]{12}", cut_on_hyphen)


def test_lowercase_services_get_lowercase_names() -> None:
    assert re.fullmatch(r"my-app-bucket-[a-z2-7]{12}", generated_name("My-App", "Bucket", 63, lowercase=True))


def test_ids_are_hex_and_deterministic() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", hex_id(16, "stack", "Alb"))
    assert hex_id(16, "stack", "Alb") == hex_id(16, "stack", "Alb") != hex_id(16, "stack", "Alb2")
    assert re.fullmatch(r"[A-Z2-7]{13}", suffix("s", "l", length=13))


@pytest.mark.parametrize(
    ("region", "partition", "url_suffix"),
    [
        ("eu-west-1", "aws", "amazonaws.com"),
        ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
    ],
)
def test_the_partition_and_url_suffix_follow_the_region(region: str, partition: str, url_suffix: str) -> None:
    env = Environment(region, "111122223333")
    assert (env.partition, env.url_suffix) == (partition, url_suffix)
    assert env.arn("sns", "t") == f"arn:{partition}:sns:{region}:111122223333:t"


def test_global_services_leave_the_region_or_account_out_of_their_arns() -> None:
    env = Environment("eu-west-1", "111122223333")
    assert env.arn("iam", "role/r", region=False) == "arn:aws:iam::111122223333:role/r"
    assert env.arn("s3", "bucket", region=False, account=False) == "arn:aws:s3:::bucket"
