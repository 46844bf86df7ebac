"""ecspresso/simulation.yml: read into the simulation's options; mistakes name the file and key."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecs_bg.cli.main import app
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.lifecycle.spec import deployment_spec, function_of
from ecs_bg.local.options import LocalOptions
from ecs_bg.simulate import definitions
from ecs_bg.simulate.config import apply, apply_local
from ecs_bg.simulate.simulation import Options
from tests.cloud import sample_cloud, sample_functions
from tests.conftest import ROOT

CLOUD = sample_cloud()


def test_the_repository_config_sets_the_options() -> None:
    options = Options(local=LocalOptions(speed=1.0))
    scenario = apply(ROOT / "ecspresso" / "simulation.yml", options)
    assert scenario == "good"
    assert (options.local.speed, options.tasks, options.load_rate, options.load_path) == (
        240.0,
        2,
        40.0,
        "/api/products",
    )
    # "python" is the simulator's interpreter
    assert options.local.container_commands == {"app": [sys.executable, "-m", "app"]}
    assert options.local.function_timeout == 60.0
    assert options.local.hook_details_reading == "replace"


def test_a_file_a_command_names_is_found_from_a_relative_configs_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `simulate --config canary/ecspresso.yml` reads canary/simulation.yml, whose command names
    # ../service/server.py; the command runs in canary/, so the file must not stay relative to here.
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "server.py").write_text("")
    (tmp_path / "canary").mkdir()
    (tmp_path / "canary" / "simulation.yml").write_text(
        "containers: {web: {command: [python, ../service/server.py]}}\n"
    )
    monkeypatch.chdir(tmp_path)
    options = LocalOptions()
    apply_local(Path("canary") / "simulation.yml", options)
    (program, server) = options.container_commands["web"]
    assert (program, Path(server).resolve()) == (sys.executable, tmp_path / "service" / "server.py")
    assert Path(server).is_absolute()
    assert options.container_dirs["web"] == tmp_path / "canary"


def test_the_hook_details_reading_is_replace_unless_set(tmp_path: Path) -> None:
    path = tmp_path / "simulation.yml"
    path.write_text("speed: 60\n")
    options = Options()
    apply(path, options)
    assert options.local.hook_details_reading == "replace"  # the stricter reading
    path.write_text("hookDetailsReading: merge\n")
    apply(path, options)
    assert options.local.hook_details_reading == "merge"


def test_local_takes_the_first_deployment_reading_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "simulation.yml"
    path.write_text("speed: 60\n")
    options = LocalOptions()
    apply_local(path, options)
    assert options.first_deployment_stable == "tasks-running"  # unset: the default reading
    path.write_text("firstDeploymentStable: deployment-complete\nfunctionTimeoutSeconds: 5\n")
    apply_local(path, options)
    assert (options.first_deployment_stable, options.function_timeout) == ("deployment-complete", 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speed: 60\nbogus: 1\n", "unknown key 'bogus'"),
        ("speed: fast\n", "speed must be a positive number, got 'fast'"),
        ("load: {rate: -1}\n", "load.rate must be a positive number"),
        ("containers: {app: {command: python -m app}}\n", "containers.app.command must be a list of strings"),
        ("- a list\n", "expected a mapping"),
        ("containers: {app: {comand: [python]}}\n", "unknown key 'containers.app.comand'"),
        ("load: {rat: 1}\n", "unknown key 'load.rat'"),
        ("containers: {app: [python]}\n", "containers.app must be a mapping"),
        ("revisions: {gren: {env: {A: b}}}\n", "unknown key 'revisions.gren'"),
        ("revisions: {green: {env: {A: 1}}}\n", "revisions.green.env.A must be a string"),
        ("rollbackHookFailure: maybe\n", "rollbackHookFailure must be fail or ignore"),
        ("lambdaDir: nowhere\n", "lambdaDir 'nowhere' is not a directory"),
        ("speed: [\n", "while parsing"),
        ("hookDetailsReading: deep\n", "hookDetailsReading must be replace or merge, got 'deep'"),
        ("hookDetailsReading: true\n", "hookDetailsReading must be replace or merge, got True"),
    ],
)
def test_mistakes_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "simulation.yml"
    path.write_text(text)
    with pytest.raises(DefinitionError) as caught:
        apply(path, Options())
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def ecspresso_files_with(tmp_path: Path, hook_details: object) -> Path:
    """The repository's ecspresso files, the after_install hook's hookDetails replaced."""
    for name in ("ecspresso.yml", "ecs-service-def.json", "ecs-task-def.json"):
        shutil.copy(ROOT / "ecspresso" / name, tmp_path / name)
    service = tmp_path / "ecs-service-def.json"
    document = json.loads(service.read_text())
    document["deploymentConfiguration"]["lifecycleHooks"][1]["hookDetails"] = hook_details
    service.write_text(json.dumps(document))
    return tmp_path / "ecspresso.yml"


def test_hook_details_as_a_json_string_are_configured_as_its_object(tmp_path: Path) -> None:
    # CloudFormation's HookDetails is a JSON string; Terraform users write jsonencode(...).
    config = ecspresso_files_with(tmp_path, json.dumps({"ecsReadiness": {"timeoutSeconds": 60}}))
    files = definitions.load(config, CLOUD, sample_functions(CLOUD), {})
    hook = deployment_spec(
        files.definitions.service["deploymentConfiguration"], first_deployment=False
    ).hooks[1]
    assert (files.hook_names[1], hook.hook_id) == ("after_install", "ecs-bg-after-install-dev")
    assert hook.hook_details == {"ecsReadiness": {"timeoutSeconds": 60}}


@pytest.mark.parametrize(
    ("hook_details", "message"),
    [
        ('["ecsReadiness"]', "lifecycleHooks[1].hookDetails: a JSON string must hold an object, got array"),
        ("{ecsReadiness", "lifecycleHooks[1].hookDetails: a JSON string must hold an object, but it is not"),
        (
            {"ecsReadiness": {"x": "y" * 62_000}},
            "lifecycleHooks[1].hookDetails: hookDetails is 62027 bytes as JSON; every IN_PROGRESS answer "
            "re-sends them with up to 4096 bytes of runtime state, so they must stay within 61440 bytes",
        ),
    ],
)
def test_hook_details_that_cannot_work_are_refused_before_anything_runs(
    tmp_path: Path, hook_details: object, message: str
) -> None:
    config = ecspresso_files_with(tmp_path, hook_details)
    with pytest.raises(DefinitionError) as caught:
        definitions.load(config, CLOUD, sample_functions(CLOUD), {})
    assert str(caught.value).startswith(str(tmp_path / "ecs-service-def.json"))
    assert message in str(caught.value)


def test_the_command_line_refuses_an_unknown_reading() -> None:
    result = CliRunner().invoke(app, ["simulate", "--hook-details-reading", "deep", "--quiet"])
    assert result.exit_code == 2
    assert "--hook-details-reading must be replace or merge, got 'deep'" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # wrong type, below the top
        ("load: {rate: 20, path: 7}\n", "load.path must be a string, got 7"),
        ("containers: {app: {command: [python, 3]}}\n", "containers.app.command[1] must be a string, got 3"),
        ("tasks: 1.5\n", "tasks must be a positive integer, got 1.5"),
        # unknown keys at every level, with the closest known one
        ("load: {rat: 20}\n", "unknown key 'load.rat'; did you mean 'rate'?"),
        ("containers: {app: {cmd: [python]}}\n", "unknown key 'containers.app.cmd'; did you mean 'command'?"),
        ("sped: 60\n", "unknown key 'sped'; did you mean 'speed'?"),
        # a value outside the choices
        ("hookDetailsReading: Replace\n", "hookDetailsReading must be replace or merge, got 'Replace'"),
        (
            "containers: {app: {command: []}}\n",
            "containers.app.command must be a list of strings (at least 1)",
        ),
        # a user's alarm: its keys, its choices, and what PutMetricAlarm itself refuses
        (
            "alarms: {mine: {metricName: RequestCount, threshold: 1, comparisonOperator: LessThan, "
            "evaluationPeriods: 1, statistic: Sum}}\n",
            "alarms.mine.comparisonOperator must be",
        ),
        (
            "alarms: {mine: {metricName: RequestCount, threshold: 1, comparisonOperator: LessThanThreshold, "
            "evaluationPeriods: 1, statistic: Sum, period: 30}}\n",
            "alarms.mine: period 30 must be a multiple of 60 seconds",
        ),
        (
            "alarms: {mine: {metricName: RequestCount, threshold: 1, comparisonOperator: LessThanThreshold, "
            "evaluationPeriods: 1, statstic: Sum}}\n",
            "unknown key 'alarms.mine.statstic'; did you mean 'statistic'?",
        ),
    ],
)
def test_every_level_is_checked(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "simulation.yml"
    path.write_text(text)
    with pytest.raises(DefinitionError) as caught:
        apply(path, Options())
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def _mutated(tmp_path: Path, mutate: Any) -> Path:
    config = ecspresso_files_with(tmp_path, {})
    service = tmp_path / "ecs-service-def.json"
    document = json.loads(service.read_text())
    mutate(document["deploymentConfiguration"])
    service.write_text(json.dumps(document))
    return config


PAUSE = {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["lifecycleHooks"][0].update(lifecycleStages=["PRE_SCALEUP"]), "lifecycleStages[0]"),
        (lambda d: d["lifecycleHooks"].append({**PAUSE, "lifecycleStages": ["TEST_TRAFFIC_SHIFT"]}), "[4]"),
        (
            lambda d: d["lifecycleHooks"][0]["timeoutConfiguration"].update(timeoutInMinutes=0),
            "timeoutInMinutes",
        ),
        (lambda d: d.update(strategy="LINEAR", linearConfiguration={"stepPercent": 2}), "stepPercent"),
        (lambda d: d.update(strategy="BLUEGREEN"), "strategy"),
        (lambda d: d.update(bakeTimeInMinute=1), "bakeTimeInMinute"),
        (lambda d: d.update(bakeTimeInMinutes="1"), "bakeTimeInMinutes"),
        (lambda d: d["lifecycleHooks"].append({**PAUSE, "hookDetails": {"a": 1}}), "hookDetails"),
        (lambda d: d["lifecycleHooks"].extend([PAUSE] * 11), "lifecycleHooks[14]"),
    ],
)
def test_what_lint_refuses_is_refused_before_anything_starts(tmp_path: Path, mutate: Any, path: str) -> None:
    # What the simulation refuses first, before it probes any hook function's code (a process each).
    with pytest.raises(DefinitionError) as caught:
        definitions.refuse_definition_errors(_mutated(tmp_path, mutate), CLOUD, {})
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'ecs-service-def.json'}: $.deploymentConfiguration")
    assert path in message
    assert "\n" not in message


def test_one_function_at_several_hook_entries_is_several_hooks(tmp_path: Path) -> None:
    def again(document: dict[str, Any]) -> None:
        hooks = document["lifecycleHooks"]
        hooks.append({**hooks[1], "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]})

    files = definitions.load(_mutated(tmp_path, again), CLOUD, sample_functions(CLOUD), {})
    assert files.hook_names == (
        "before_install",
        "after_install",
        "before_allow_traffic",
        "after_allow_traffic",
        "after_install",
    )
    spec = deployment_spec(files.definitions.service["deploymentConfiguration"], first_deployment=False)
    ids = [hook.hook_id for hook in spec.hooks]
    assert ids[1] == "ecs-bg-after-install-dev"
    assert ids[4] == "ecs-bg-after-install-dev#4"
    # Both entries invoke the one function.
    assert function_of(ids[4]) == function_of(ids[1]) == "ecs-bg-after-install-dev"
