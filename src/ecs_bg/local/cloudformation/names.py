"""Local values for what CloudFormation makes up at deploy time: physical names, ids, partitions, ARNs.

Everything here is derived from a hash of the stack's name and the resource's logical id, never from
a clock or a random source, so two runs over the same template agree and a value does not move when
another property of the resource changes (CloudFormation keeps a resource's physical id across
updates that do not replace it).

A resource whose template gives no name gets one "the way CloudFormation does": ``<stack name>-<logical
id>-<random suffix>`` ("Name type", https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html,
whose example is ``stack123123123123-s3bucket-abcdefghijk1``; the ``Ref`` examples of the resource
pages show the same shape, e.g. ``mystack-mytopic-NZJ5JSMVGFIE`` for AWS::SNS::Topic). Where the
service limits a name's length the prefix is cut and the suffix kept, as moto's CloudFormation does
(``moto/cloudformation/parsing.py``, ``generate_resource_name``: 32 characters for load balancers and
target groups, 63 lowercase for S3 buckets).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass

ACCOUNT = "123456789012"  # the account every local ARN names, unless told otherwise
DEFAULT_REGION = "us-east-1"
SUFFIX_LENGTH = 12  # the random part of a generated name, as in NZJ5JSMVGFIE


@dataclass(frozen=True)
class Environment:
    """Where a stack is deployed: the values of the pseudo parameters that do not name the stack."""

    region: str = DEFAULT_REGION
    account: str = ACCOUNT

    @property
    def partition(self) -> str:
        """``AWS::Partition``: aws, aws-cn or aws-us-gov (pseudo parameters reference,
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html)."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def url_suffix(self) -> str:
        """``AWS::URLSuffix``: amazonaws.com, amazonaws.com.cn in the China regions (same page)."""
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``; IAM and S3 leave out the region,
        S3 the account too (IAM User Guide, "IAM identifiers"; S3 User Guide, "Amazon S3 resources")."""
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(parts).encode()).digest()


def hex_id(length: int, *parts: str) -> str:
    """Lowercase hex, as ELB's resource ids (``50dc6c495c0c9188``) and EC2's (``vpc-0a1b...``) are."""
    return _digest(*parts).hex()[:length]


def suffix(*parts: str, length: int = SUFFIX_LENGTH) -> str:
    """Uppercase letters and digits, as the random part of CloudFormation's generated names is."""
    return base64.b32encode(_digest(*parts)).decode()[:length]


def digits(length: int, *parts: str) -> str:
    return str(int.from_bytes(_digest(*parts)[:8], "big"))[:length].rjust(length, "0")


def local_uuid(*parts: str) -> str:
    return str(uuid.UUID(bytes=_digest(*parts)[:16], version=4))


def generated_name(stack_name: str, logical_id: str, limit: int = 255, *, lowercase: bool = False) -> str:
    """``<stack>-<logical id>-<SUFFIX>``, the prefix cut to fit ``limit`` and never ending in a hyphen."""
    tail = suffix(stack_name, logical_id, "name")
    prefix = f"{stack_name}-{logical_id}"[: max(limit - len(tail) - 1, 0)].rstrip("-")
    name = f"{prefix}-{tail}" if prefix else tail[:limit]
    return name.lower() if lowercase else name
