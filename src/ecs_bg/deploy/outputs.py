"""Where `cfn_output` and `cfn_export` get values: a `cdk deploy --outputs-file` file or CloudFormation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.template import LookupFailed, TemplateFunction

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


class OutputSource(Protocol):
    def output(self, stack: str, key: str) -> str: ...

    def export(self, name: str) -> str: ...


def cloudformation_functions(source: OutputSource) -> dict[str, TemplateFunction]:
    """The functions ecspresso's cloudformation plugin adds."""
    return {
        "cfn_output": TemplateFunction(source.output, 2, 2),
        "cfn_export": TemplateFunction(source.export, 1, 1),
    }


class OutputsFile:
    """The file `cdk deploy --outputs-file F` writes: {"StackName": {"OutputKey": "value", ...}}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise DefinitionError(f"{path}: cannot read the outputs file: {error}") from None
        if not isinstance(data, dict) or not all(
            isinstance(outputs, dict) and all(isinstance(v, str | int | float) for v in outputs.values())
            for outputs in data.values()
        ):
            raise DefinitionError(
                f'{path}: not a cdk outputs file (expected {{"StackName": {{"OutputKey": "value"}}}})'
            )
        self._stacks: dict[str, dict[str, str]] = {
            stack: {key: str(value) for key, value in outputs.items()} for stack, outputs in data.items()
        }

    def output(self, stack: str, key: str) -> str:
        if stack not in self._stacks:
            raise LookupFailed(f"stack {stack} is not in {self.path} (stacks: {', '.join(self._stacks)})")
        if key not in self._stacks[stack]:
            raise LookupFailed(f"stack {stack} has no output {key} in {self.path}")
        return self._stacks[stack][key]

    def export(self, name: str) -> str:
        # CDK writes outputs by logical key, without export names; an export can only be
        # matched to an output by asking CloudFormation.
        raise LookupFailed(
            f"export {name} cannot be read from {self.path}: cdk outputs files carry no exports"
        )


class CloudFormationOutputs:
    """Live values through DescribeStacks and ListExports, each stack and the export list read once."""

    def __init__(self, client: CloudFormationClient) -> None:
        self._client = client
        self._stacks: dict[str, dict[str, str]] = {}
        self._exports: dict[str, str] | None = None

    def output(self, stack: str, key: str) -> str:
        if stack not in self._stacks:
            self._stacks[stack] = self._describe(stack)
        outputs = self._stacks[stack]
        if key not in outputs:
            raise LookupFailed(f"stack {stack} has no output {key}")
        return outputs[key]

    def export(self, name: str) -> str:
        if self._exports is None:
            self._exports = {}
            try:
                for page in self._client.get_paginator("list_exports").paginate():
                    self._exports.update({e["Name"]: e["Value"] for e in page.get("Exports", [])})
            except (BotoCoreError, ClientError) as error:
                self._exports = None
                raise LookupFailed(f"cannot list CloudFormation exports: {_reason(error)}") from None
        if name not in self._exports:
            raise LookupFailed(f"no CloudFormation export named {name}")
        return self._exports[name]

    def _describe(self, stack: str) -> dict[str, str]:
        try:
            stacks = self._client.describe_stacks(StackName=stack)["Stacks"]
        except (BotoCoreError, ClientError) as error:
            raise LookupFailed(f"cannot describe stack {stack}: {_reason(error)}") from None
        return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def _reason(error: BotoCoreError | ClientError) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message", error))
    return str(error)


def cloudformation_source(
    region: str | None, profile: str | None = None, endpoint_url: str | None = None
) -> CloudFormationOutputs:
    import boto3  # only when CloudFormation is asked: boto3 costs ~0.4 s to import

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        return CloudFormationOutputs(session.client("cloudformation", endpoint_url=endpoint_url))
    except BotoCoreError as error:
        raise DefinitionError(f"cannot reach CloudFormation: {error}") from None
