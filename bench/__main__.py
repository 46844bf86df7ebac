"""Run every benchmark: ``python -m bench`` (or ``make bench``)."""

from bench import docker_runtime, hook_overhead, local, simulation

if __name__ == "__main__":
    hook_overhead.main()
    simulation.main()
    local.main()
    docker_runtime.main()
