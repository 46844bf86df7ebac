"""The user's stacks as the local world has them: read from their synthesized templates, each resource
with its local values, each output resolved.

The template comes from ``simulation.yml``'s ``template:`` (a template file, or a cloud assembly
folder), else the CDK app's cloud assembly (``<app>/cdk.out``, or cdk.json's ``output``). Nothing of
this project's own stack is known here: its template is one template among others.

A load balancer is on this machine: each listener listens on a local port, so every URL of a
listener (``http://<DNS name>:<port>``, and ``http://<DNS name>`` for port 80) in an output or a
function's environment is rewritten to ``http://127.0.0.1:<local port>``, and the DNS name itself to
127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.local.cloudformation.extract import extract
from ecs_bg.local.cloudformation.model import StackResources
from ecs_bg.local.cloudformation.names import ACCOUNT
from ecs_bg.local.cloudformation.template import Assembly, read_templates
from ecs_bg.local.ports import free_port

LOCAL_HOST = "127.0.0.1"
# Powertools for AWS Lambda publishes each release's layer ARN, per region, under a public SSM
# parameter (/aws/service/powertools/python/<arch>/<python>/<version>: "Lambda Layer" in the
# Powertools documentation, docs.powertools.aws.dev/lambda/python/latest/#lambda-layer); the stack
# deploys with it. Locally its value is the layer's ARN in that form.
POWERTOOLS_PARAMETER = re.compile(
    r"/aws/service/powertools/python/(?P<arch>[^/]+)/(?P<python>[^/]+)/(?P<version>[^/]+)"
)
POWERTOOLS_ACCOUNT = "017000801446"


class PublicParameters(Mapping[str, str]):
    """AWS's public SSM parameters a template may read its layers from, answered locally."""

    def __init__(self, region: str) -> None:
        self.region = region

    def __getitem__(self, name: str) -> str:
        match = POWERTOOLS_PARAMETER.fullmatch(name)
        if match is None:
            raise KeyError(name)
        python = match["python"].replace(".", "")
        return (
            f"arn:aws:lambda:{self.region}:{POWERTOOLS_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-{python}-{match['arch']}:1"
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and POWERTOOLS_PARAMETER.fullmatch(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass
class LocalCloud:
    """The stacks, their resources and outputs with local values. ``ports``: the local port each
    listener (by ARN) listens on, chosen before anything starts."""

    assembly: Assembly
    stacks: dict[str, StackResources]
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def resources(self) -> list[StackResources]:
        return list(self.stacks.values())

    def local(self, value: str) -> str:
        """``value`` with each of the load balancers' URLs and DNS names made local."""
        for public, local in self._rewrites():
            value = value.replace(public, local)
        return value

    def _rewrites(self) -> list[tuple[str, str]]:
        rewrites: list[tuple[str, str]] = []
        for stack in self.resources:
            for balancer in stack.load_balancers:
                for listener in stack.listeners:
                    if listener.load_balancer_arn != balancer.arn or listener.arn not in self.ports:
                        continue
                    local = f"http://{LOCAL_HOST}:{self.ports[listener.arn]}"
                    scheme = "https" if (listener.protocol or "").upper() == "HTTPS" else "http"
                    rewrites.append((f"{scheme}://{balancer.dns_name}:{listener.port}", local))
                    if listener.port == {"http": 80, "https": 443}[scheme]:
                        rewrites.append((f"{scheme}://{balancer.dns_name}", local))
                rewrites.append((balancer.dns_name, LOCAL_HOST))
        # Longest first: a URL with its port before the same host without one.
        return sorted(rewrites, key=lambda pair: -len(pair[0]))

    def outputs(self, stack: str) -> dict[str, str]:
        return {key: self.local(value) for key, value in self._stack(stack).outputs.items()}

    def exports(self) -> dict[str, str]:
        return {name: self.local(value) for s in self.resources for name, value in s.exports.items()}

    def _stack(self, name: str) -> StackResources:
        found = self.stacks.get(name)
        if found is None:
            stacks = ", ".join(self.stacks) or "none"
            raise DefinitionError(f"no stack {name} among the local templates' (stacks: {stacks})")
        return found

    # ecspresso's cfn_output and cfn_export, answered locally (deploy.outputs.OutputSource).

    def output(self, stack: str, key: str) -> str:
        outputs = self.outputs(stack)
        if key not in outputs:
            raise DefinitionError(
                f"the local stack {stack} has no output {key} (outputs: {', '.join(sorted(outputs))})"
            )
        return outputs[key]

    def export(self, name: str) -> str:
        exports = self.exports()
        if name not in exports:
            raise DefinitionError(f"no local stack exports {name} (cfn_export `{name}`)")
        return exports[name]


def read_cloud(template: Path, region: str, account: str = ACCOUNT) -> LocalCloud:
    """The stacks of ``template`` (a template file or a cloud assembly folder), in ``region``."""
    assembly = read_templates(
        template, region=region, account=account, ssm_parameters=PublicParameters(region)
    )
    stacks = {stack.name: extract(stack) for stack in assembly.stacks}
    # Each listener's local port is chosen now, so that outputs and environments naming its URL are
    # known before anything listens.
    ports = {listener.arn: free_port() for stack in stacks.values() for listener in stack.listeners}
    return LocalCloud(assembly, stacks, ports)


def find_template(given: Path | None, cdk_json: Path | None) -> Path:
    """Where the user's synthesized stacks are: ``given`` (simulation.yml's ``template:``), else the
    CDK app's cloud assembly (cdk.json's ``output``, ``cdk.out`` by default)."""
    if given is not None:
        if not given.exists():
            raise DefinitionError(f"template {given} does not exist")
        return given
    if cdk_json is None:
        raise DefinitionError(
            "no synthesized template: give simulation.yml's template: (a template file or a cdk.out "
            "folder), or cdkApp: (a CDK app whose cdk.out holds its synthesized stacks)"
        )
    try:
        output = json.loads(cdk_json.read_text()).get("output", "cdk.out")
    except (OSError, ValueError, AttributeError) as error:
        raise DefinitionError(f"{cdk_json}: cannot read the CDK app's settings: {error}") from None
    assembly = cdk_json.parent / str(output)
    if not (assembly / "manifest.json").is_file() and not any(assembly.glob("*.template.json")):
        raise DefinitionError(
            f"{assembly}: the CDK app has not been synthesized: run `cdk synth` in {cdk_json.parent} "
            "(or give simulation.yml's template:)"
        )
    return assembly


def listener_roles(config: Path, cloud: LocalCloud) -> dict[str, str]:
    """The production and test rules the ecspresso config's service definition names, rendered with
    the local stacks' outputs; {} when it cannot be rendered (its errors are for the deployment to tell)."""
    from ecs_bg.deploy.definitions import load_definitions

    try:
        service = load_definitions(config, os.environ, lambda _region: cloud).service
    except DefinitionError:
        return {}
    balancers = service.get("loadBalancers") or [{}]
    advanced = balancers[0].get("advancedConfiguration") if isinstance(balancers[0], dict) else None
    if not isinstance(advanced, dict):
        return {}
    roles = {"productionListenerRule": "production", "testListenerRule": "test"}
    return {str(advanced[key]): role for key, role in roles.items() if advanced.get(key)}
