"""Run every benchmark: ``python -m bench`` (or ``make bench``)."""

from bench import cli_start, docker_runtime, hook_overhead, local, simulation

if __name__ == "__main__":
    hook_overhead.main()
    cli_start.main()
    simulation.main()
    local.main()
    docker_runtime.main()
