"""Run every benchmark: ``python -m bench`` (or ``make bench``)."""

from bench import hook_overhead, local, simulation

if __name__ == "__main__":
    hook_overhead.main()
    simulation.main()
    local.main()
