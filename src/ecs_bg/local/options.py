"""What the local AWS serves and how: ``ecs-bg local``'s options, and the part of ``ecs-bg simulate``'s
options that is the local AWS it runs (``simulate.simulation.Options.local``), one type for both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ecs_bg.deploy.functions import FunctionOverride
from ecs_bg.lifecycle.plan import (
    FirstDeploymentStable,
    HookDetailsReading,
    RollbackHookFailure,
    RolledBackDeployment,
)
from ecs_bg.local.cloudwatch.metric_alarms import AlarmDefinition
from ecs_bg.local.runtime import RuntimeName, TaskCpu


@dataclass
class LocalOptions:
    port: int = 0  # 0: any free port
    # Origins of web pages that may call the endpoint besides its own (--allow-origin,
    # ECS_BG_EXTRA_CORS_ALLOWED_ORIGINS): ecs_bg.local.request_policy. None by default.
    allowed_origins: tuple[str, ...] = ()
    region: str = "ap-northeast-1"
    speed: float = 240.0  # simulated seconds per real second: bakes, timeouts, health-check intervals
    config: Path | None = None  # the ecspresso config: its cluster exists from the start
    clusters: tuple[str, ...] = ("default",)
    sim_config: Path | None = None  # the simulation.yml these options came from, for errors
    # The user's synthesized stacks: a template file or a cloud assembly folder (default: the CDK
    # app's cdk.out).
    template: Path | None = None
    cdk_json: Path | None = None  # the CDK app's settings (its hook functions, their hookDetails)
    # The process runtime runs a task's container as the command simulation.yml's containers: give it,
    # in its working directory (default: the working directory), or else ``command`` (none: a task
    # whose container has no command cannot start).
    command: Sequence[str] = ()
    # How tasks run (ecs_bg.local.runtime): their task definition's containers in Docker, or the serving
    # container as a host process; auto picks Docker when an engine answers and containers: is unset.
    runtime: RuntimeName = "process"
    task_cpu: TaskCpu = "hard"  # the Docker runtime's: Fargate's hard CPU limit, or CPU shares
    # simulation.yml's images: an image (or a repository pattern) -> the local image standing for it.
    images: Mapping[str, str] = field(default_factory=dict)
    container_commands: Mapping[str, Sequence[str]] = field(default_factory=dict)
    container_dirs: Mapping[str, Path] = field(default_factory=dict)
    lambda_dir: Path | None = None  # replaces the stack's hookCode folder of <hook>_hook.py entry files
    # simulation.yml's functions: by function name, over the stack's (code already absolute)
    functions: Mapping[str, FunctionOverride] = field(default_factory=dict)
    # Real seconds a function may run, unless functions: sets its own timeoutSeconds: Lambda's 15
    # minutes would make a stuck hook slow to see.
    function_timeout: float = 60.0
    hook_environment: Mapping[str, str] = field(default_factory=dict)  # for every hook function
    # UNCONFIRMED in ECS, so each reading can be played: how ECS passes IN_PROGRESS hookDetails on,
    # what a rollback does when a hook fails during it, what DescribeServices shows while a first
    # deployment's hooks run (ecs_bg.lifecycle.plan) and of a rolled-back update (ecs.backend).
    hook_details_reading: HookDetailsReading = "replace"
    rollback_hook_failure: RollbackHookFailure = "fail"
    first_deployment_stable: FirstDeploymentStable = "tasks-running"
    rolled_back_deployment: RolledBackDeployment = "listed"
    # simulation.yml's alarms: by name, as PutMetricAlarm defines them, judged as CloudWatch would.
    alarm_definitions: Mapping[str, AlarmDefinition] = field(default_factory=dict)
