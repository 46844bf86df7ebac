"""The small simulation config beside the ecspresso files (``ecspresso/simulation.yml``)."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import FunctionOverride
from ecs_bg.deploy.settings import parse_settings, setting
from ecs_bg.lifecycle.plan import (
    HOOK_DETAILS_READINGS,
    FirstDeploymentStable,
    HookDetailsReading,
    RollbackHookFailure,
    RolledBackDeployment,
)
from ecs_bg.local.cloudwatch.metric_alarms import AlarmDefinition
from ecs_bg.local.options import LocalOptions
from ecs_bg.local.runtime import RuntimeName, TaskCpu
from ecs_bg.simulate.simulation import Options

POSITIVE = setting(positive=True)


@dataclass(frozen=True)
class Container:
    command: tuple[str, ...] | None = field(default=None, metadata=setting(min_items=1))
    # Where the command runs, relative to this file's folder (default: the folder itself), as a
    # container definition's workingDirectory names where its command runs.
    working_directory: str | None = None


@dataclass(frozen=True)
class Load:
    rate: float | None = field(default=None, metadata=POSITIVE)  # production requests a second
    path: str | None = None


@dataclass(frozen=True)
class Revision:
    # Variables the ecspresso templates see when this revision's task definition is rendered
    # ({{ env `IMAGE_TAG` }}): blue's and green's task definitions differ as in a real deployment.
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Revisions:
    blue: Revision = Revision()
    green: Revision = Revision()


@dataclass(frozen=True)
class SimulationSettings:
    """Every key is optional; an absent one leaves the simulation's default."""

    scenario: str | None = None
    speed: float | None = field(default=None, metadata=POSITIVE)
    tasks: int | None = field(default=None, metadata=POSITIVE)
    # How tasks run: docker (the task definition's containers), process (the serving container's
    # containers: command on this machine) or auto (docker when an engine answers and containers: is
    # unset); --runtime overrides it.
    runtime: RuntimeName | None = None
    # docker: a task's cpu as Fargate's hard limit (hard, the default) or as CPU shares (shares: a task
    # runs at full speed while the machine is idle, as ECS on EC2 weighs a container's cpu).
    task_cpu: TaskCpu | None = None
    # An image the task definitions name (or a repository pattern, * for any part) -> the local image
    # that stands for it, for the docker runtime: an ECR URI to what `make image` built.
    images: dict[str, str] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    load: Load = Load()
    function_timeout_seconds: float | None = field(default=None, metadata=POSITIVE)
    hook_details_reading: HookDetailsReading | None = None
    rollback_hook_failure: RollbackHookFailure | None = None  # UNCONFIRMED in ECS: fail or ignore
    # `ecs-bg local` only: what DescribeServices shows while a first deployment's hooks run (UNCONFIRMED)
    first_deployment_stable: FirstDeploymentStable | None = None
    # What DescribeServices lists of a rolled-back update (UNCONFIRMED): listed (FAILED, for a while) or gone
    rolled_back_deployment: RolledBackDeployment | None = None
    lambda_dir: str | None = None  # your hook entry files (<hook>_hook.py), relative to this file
    cdk_app: str | None = None  # your CDK app's folder (its cdk.json), relative to this file
    # Your synthesized stacks: a template file or a cloud assembly folder, relative to this file
    # (default: the CDK app's cdk.out).
    template: str | None = None
    revisions: Revisions = Revisions()
    # By function name: a stack function's code, handler, environment, timeoutSeconds, memoryMB, or a
    # function the stack does not have (code and handler required).
    functions: dict[str, FunctionOverride] = field(default_factory=dict)
    # By alarm name: an alarm of yours that deploymentConfiguration.alarms names, as PutMetricAlarm
    # defines it (ecs_bg.local.cloudwatch.metric_alarms): the simulator creates it locally and evaluates it.
    alarms: dict[str, AlarmDefinition] = field(default_factory=dict)


def read(path: Path) -> SimulationSettings:
    """The file's settings; every mistake names the file and the key."""
    try:
        document: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DefinitionError(f"{path}: {error}") from None
    return parse_settings(SimulationSettings, {} if document is None else document, f"{path}:")


def apply(path: Path, options: Options) -> str | None:
    """Set ``options`` from the file; returns its scenario. Errors name the file and the key."""
    settings = read(path)
    apply_local(path, options.local, settings)
    if settings.speed is not None:
        options.local.speed = settings.speed
    if settings.tasks is not None:
        options.tasks = settings.tasks
    if settings.load.rate is not None:
        options.load_rate = settings.load.rate
    if settings.load.path is not None:
        options.load_path = settings.load.path
    options.revision_environ = {
        "blue": dict(settings.revisions.blue.env),
        "green": dict(settings.revisions.green.env),
    }
    return settings.scenario


def apply_local(path: Path, options: LocalOptions, settings: SimulationSettings | None = None) -> None:
    """Set the local AWS's options from the file: what applies to a local ECS (its functions,
    lambdaDir, functionTimeoutSeconds, runtime, images, container commands, alarms, the readings of what
    ECS leaves unconfirmed); the rest (scenario, speed, tasks, load, revisions) is ``simulate``'s alone."""
    settings = settings or read(path)
    options.sim_config = path
    options.functions = functions(path, settings)
    options.alarm_definitions = alarm_definitions(path, settings)
    if settings.hook_details_reading is not None:
        options.hook_details_reading = settings.hook_details_reading
    if settings.rollback_hook_failure is not None:
        options.rollback_hook_failure = settings.rollback_hook_failure
    options.lambda_dir = lambda_dir(path, settings) or options.lambda_dir
    if settings.cdk_app is not None:
        app = path.parent / settings.cdk_app
        if not (app / "cdk.json").is_file():
            raise DefinitionError(f"{path}: cdkApp {settings.cdk_app!r} is not a folder with a cdk.json")
        options.cdk_json = app / "cdk.json"
    if settings.template is not None:
        template = path.parent / settings.template
        if not template.exists():
            raise DefinitionError(
                f"{path}: template {settings.template!r} does not exist (relative to this file)"
            )
        options.template = template
    if settings.function_timeout_seconds is not None:
        options.function_timeout = settings.function_timeout_seconds
    options.container_commands = container_commands(path, settings)
    options.container_dirs = container_dirs(path, settings)
    if settings.runtime is not None:
        options.runtime = settings.runtime
    if settings.task_cpu is not None:
        options.task_cpu = settings.task_cpu
    options.images = dict(settings.images)
    if settings.first_deployment_stable is not None:
        options.first_deployment_stable = settings.first_deployment_stable
    if settings.rolled_back_deployment is not None:
        options.rolled_back_deployment = settings.rolled_back_deployment


def alarm_definitions(path: Path, settings: SimulationSettings) -> dict[str, AlarmDefinition]:
    for name, definition in settings.alarms.items():
        definition.check(f"{path}: alarms.{name}:")
    return dict(settings.alarms)


def functions(path: Path, settings: SimulationSettings) -> dict[str, FunctionOverride]:
    """``functions:``, each one's code relative to this file's folder."""
    return {
        name: dataclasses.replace(f, code=str((path.parent / f.code).resolve())) if f.code is not None else f
        for name, f in settings.functions.items()
    }


def lambda_dir(path: Path, settings: SimulationSettings) -> Path | None:
    if settings.lambda_dir is None:
        return None
    folder = path.parent / settings.lambda_dir
    if not folder.is_dir():
        raise DefinitionError(f"{path}: lambdaDir {settings.lambda_dir!r} is not a directory beside it")
    return folder


def container_commands(path: Path, settings: SimulationSettings) -> dict[str, list[str]]:
    # Absolute: a command runs in its own working directory (the file's folder), so a file named
    # from a relative --config's folder (canary/../app.py) would be looked for below that again.
    return {
        name: _command(container.command, path.parent.resolve())
        for name, container in settings.containers.items()
        if container.command is not None
    }


def container_dirs(path: Path, settings: SimulationSettings) -> dict[str, Path]:
    """Each container's working directory: its workingDirectory, relative to this file's folder."""
    dirs = {}
    for name, container in settings.containers.items():
        folder = (path.parent / (container.working_directory or ".")).resolve()
        if not folder.is_dir():
            raise DefinitionError(
                f"{path}: containers.{name}.workingDirectory {container.working_directory!r} is not a "
                "directory (it is relative to this file's folder)"
            )
        dirs[name] = folder
    return dirs


def _command(command: tuple[str, ...], here: Path) -> list[str]:
    """ "python" means the simulator's own interpreter, which has the sample service's dependencies;
    an argument naming a file beside simulation.yml (``app.py``) names that file from anywhere."""
    program = sys.executable if command[0] in ("python", "python3") else command[0]
    arguments = [
        str(here / arg) if not Path(arg).is_absolute() and (here / arg).is_file() else arg
        for arg in command[1:]
    ]
    return [program, *arguments]


def hook_details_reading(value: object, where: str) -> HookDetailsReading:
    """A valid reading of how ECS passes IN_PROGRESS hookDetails on; errors start with ``where``."""
    if value in HOOK_DETAILS_READINGS:
        return value
    raise DefinitionError(f"{where} must be {' or '.join(HOOK_DETAILS_READINGS)}, got {value!r}")
