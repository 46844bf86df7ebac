"""The runtime's choices and the Docker runtime's pure parts, without an engine: which runtime `auto`
picks, how simulation.yml's images: map an image, the pause program, the stop order, the limits and
the container configuration ECS's fields give."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from ecs_bg.local.ecs.models import Account, Cluster, TaskDefinition
from ecs_bg.local.ecs.models import Task as EcsTask
from ecs_bg.local.runtime import Launch, choose
from ecs_bg.local.runtime.docker import (
    DockerRuntime,
    _Container,
    _millis,
    _stop_order,
    _Task,
    mapped_image,
    owner_alive,
    owner_identity,
)
from ecs_bg.local.runtime.engine import EngineAddress
from ecs_bg.local.runtime.pause import program

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def test_auto_runs_processes_when_no_engine_answers() -> None:
    chosen = choose("auto", host_commands=False, environ=NO_ENGINE)
    assert chosen.name == "process"
    assert "no Docker engine answers at unix:///nonexistent/docker.sock" in chosen.why


def test_auto_runs_processes_when_simulation_yml_gives_host_commands() -> None:
    # The engine is not even asked: containers: commands are host commands, which only processes run.
    chosen = choose("auto", host_commands=True, environ=NO_ENGINE)
    assert chosen.name == "process"
    assert "containers: give host commands" in chosen.why


def test_docker_without_an_engine_says_what_was_tried() -> None:
    with pytest.raises(
        RuntimeError, match=r"--runtime docker: no Docker engine answers at unix:///nonexistent"
    ):
        choose("docker", host_commands=False, environ=NO_ENGINE)
    with pytest.raises(RuntimeError, match="TLS"):
        choose("docker", host_commands=False, environ={"DOCKER_TLS_VERIFY": "1"})


def test_process_is_never_probed() -> None:
    assert choose(
        "process", host_commands=False, given_by="simulation.yml's runtime:", environ=NO_ENGINE
    ).why == (
        "process (simulation.yml's runtime: process): each task's serving container runs as a host process "
        "(no image)"
    )


def test_engine_addresses_as_the_docker_cli_reads_docker_host() -> None:
    assert EngineAddress.from_environ({}).socket_path == "/var/run/docker.sock"
    assert (
        EngineAddress.from_environ({"DOCKER_HOST": "tcp://127.0.0.1:2375"}).base_url
        == "http://127.0.0.1:2375"
    )
    with pytest.raises(ValueError, match="ssh://"):
        EngineAddress.from_environ({"DOCKER_HOST": "ssh://me@host"})


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        # An exact key first, then the first pattern matching the repository (tag or digest aside).
        ("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/ecs-bg-app-dev:abc", "ecs-bg-app:local"),
        ("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/ecs-bg-app-dev@sha256:0f", "ecs-bg-app:local"),
        ("nginx:1.27", "nginx:local"),
        ("localhost:5000/tools:2", "localhost:5000/tools:2"),  # a registry's port is not a tag
        ("busybox", "busybox"),  # nothing maps it: the image itself
    ],
)
def test_images_map_an_image_or_a_repository_pattern(image: str, expected: str) -> None:
    images = {
        "nginx:1.27": "nginx:local",
        "*.dkr.ecr.*.amazonaws.com/ecs-bg-app-*": "ecs-bg-app:local",
        "localhost:5000": "never",
    }
    assert mapped_image(image, images) == expected


@pytest.mark.parametrize(("machine", "e_machine"), [("x86_64", 62), ("aarch64", 183), ("arm64", 183)])
def test_the_pause_program_is_one_loadable_segment_for_its_machine(machine: str, e_machine: int) -> None:
    elf = program(machine)
    assert elf[:4] == b"\x7fELF"
    e_type, found, _, entry, phoff = struct.unpack_from("<HHIQQ", elf, 16)
    assert (e_type, found, phoff) == (2, e_machine, 64)
    p_type, flags, offset, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", elf, 64)
    assert (p_type, flags, offset, filesz, memsz) == (1, 5, 0, len(elf), len(elf))
    assert vaddr < entry < vaddr + len(elf)
    with pytest.raises(ValueError, match="riscv64"):
        program("riscv64")


def test_this_process_is_an_owner_alive_and_a_dead_one_is_not() -> None:
    assert owner_alive(owner_identity())
    host, pid, started = owner_identity().split("/")
    assert not owner_alive(f"{host}/{pid}/{int(started) + 1}")  # the same pid, another start: reused
    assert owner_alive(f"another-host/{pid}/{started}")  # another host's containers are left alone
    assert not owner_alive("garbled")


def test_docker_timestamps_are_epoch_milliseconds() -> None:
    assert _millis("2026-12-06T11:18:52.157123456Z") == 1796555932157


def _docker_task(definition: dict[str, Any], overrides: dict[str, Any] | None = None) -> _Task:
    cluster = Cluster("default", Account("ap-northeast-1"))
    registered = TaskDefinition(
        "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/t:3", "t", 3, definition
    )
    task = EcsTask.new(cluster, registered, service=None, revision=None, started_by="", group="family:t")
    containers = {
        c["name"]: _Container(c["name"], c, task.container_states.setdefault(c["name"], _state()))
        for c in definition["containerDefinitions"]
    }
    docker_task = _Task(task, Launch(definition, "app", overrides=overrides or {}), containers)
    docker_task.pause = "pause-id"
    return docker_task


def _state() -> Any:
    from ecs_bg.local.ecs.models import ContainerState

    return ContainerState()


def test_containers_stop_after_those_that_depend_on_them() -> None:
    definition = {
        "containerDefinitions": [
            {"name": "app", "dependsOn": [{"containerName": "proxy", "condition": "START"}]},
            {"name": "proxy", "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}]},
            {"name": "init"},
            {"name": "logs"},
        ]
    }
    order = [[c.name for c in level] for level in _stop_order(_docker_task(definition).containers)]
    assert order == [["app", "logs"], ["proxy"], ["init"]]


def test_a_container_is_created_as_ecs_s_agent_creates_it() -> None:
    definition = {
        "family": "t",
        "cpu": "512",
        "memory": "1 GB",
        "volumes": [{"name": "scratch"}, {"name": "here", "host": {"sourcePath": "/srv/data"}}],
        "containerDefinitions": [
            {
                "name": "app",
                "image": "app:1",
                "entryPoint": ["/bin/sh", "-c"],
                "command": ["serve"],
                "workingDirectory": "/srv",
                "user": "1000:1000",
                "readonlyRootFilesystem": True,
                "memory": 256,
                "memoryReservation": 128,
                "cpu": 128,
                "stopTimeout": 7,
                "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
                "linuxParameters": {"initProcessEnabled": True},
                "mountPoints": [
                    {"sourceVolume": "scratch", "containerPath": "/scratch"},
                    {"sourceVolume": "here", "containerPath": "/data", "readOnly": True},
                ],
                "healthCheck": {"command": ["CMD-SHELL", "true"]},
            }
        ],
    }
    overrides = {"containerOverrides": [{"name": "app", "command": ["serve", "--fast"]}]}
    docker_task = _docker_task(definition, overrides)
    runtime = DockerRuntime(speed=240, address=EngineAddress(None, "http://unused", "unused"))
    runtime.cpus = 8
    config = runtime._container_config(docker_task, docker_task.containers["app"], ["A=1"])
    host = config.pop("HostConfig")
    assert config["Entrypoint"] == ["/bin/sh", "-c"]
    assert config["Cmd"] == ["serve", "--fast"]  # RunTask's override over the definition's
    assert (config["WorkingDir"], config["User"], config["Env"], config["StopTimeout"]) == (
        "/srv",
        "1000:1000",
        ["A=1"],
        7,
    )
    assert config["Healthcheck"] == {"Test": ["NONE"]}  # the definition's runs beside, never the image's
    labels = config["Labels"]
    assert labels["com.amazonaws.ecs.task-arn"] == docker_task.task.arn
    assert labels["com.amazonaws.ecs.task-definition-version"] == "3"
    assert labels["io.ecs-bg.run"] == runtime.run_id
    assert host["NetworkMode"] == "container:pause-id"
    assert host["ReadonlyRootfs"] is True
    assert host["Init"] is True
    assert host["Memory"] == host["MemorySwap"] == 256 * 1024 * 1024  # the container's, within 1 GB
    assert host["MemoryReservation"] == 128 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000  # the task's 512 units: half a CPU
    assert host["CpuShares"] == 128
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 4096}]
    scratch, data = host["Mounts"]
    assert (scratch["Type"], scratch["Source"], scratch["Target"]) == (
        "volume",
        f"ecs-bg-{docker_task.id}-scratch",
        "/scratch",
    )
    assert data == {"Target": "/data", "ReadOnly": True, "Type": "bind", "Source": "/srv/data"}


def test_task_cpu_as_shares_is_a_weight_not_a_quota() -> None:
    definition = {"cpu": "256", "memory": "512", "containerDefinitions": [{"name": "app", "image": "a"}]}
    docker_task = _docker_task(definition)
    address = EngineAddress(None, "http://unused", "unused")
    hard = DockerRuntime(speed=1, address=address)._limits(docker_task, docker_task.containers["app"], {})
    assert hard == {"Memory": 512 * 1024 * 1024, "MemorySwap": 512 * 1024 * 1024, "NanoCpus": 250_000_000}
    soft = DockerRuntime(speed=1, task_cpu="shares", address=address)
    limits = soft._limits(docker_task, docker_task.containers["app"], {})
    assert "NanoCpus" not in limits
    assert limits["CpuShares"] == 256
