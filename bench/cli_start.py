"""What an ``ecs-bg`` command costs before it does its work: CPU seconds from start to exit.

Each command is set beside, in the same run, a bare Typer app of the same shape (one command, six
options of the kinds ecs-bg's take) and a bare interpreter: the ratio to the bare app is what ecs-bg
adds. Measured as CPU (the processes' user + system time), the median of several runs: wall time on a
shared machine varies more than the work does.

- ``--help``: the command tree is built and printed, nothing imported for a command;
- ``lint``: the repository's ecspresso files, rendered with the CDK outputs fixture, judged against
  ECS's API model (and each hook function probed in its own process);
- a refused ``simulate``: a fault-suite scenario whose strategy is misspelled, refused before anything
  starts (what the quick tests run most).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7

BARE_TYPER_APP = """
from pathlib import Path
from typing import Annotated, Optional
import enum
import typer

class Format(str, enum.Enum):
    text = "text"
    json = "json"

app = typer.Typer()

@app.command()
def simulate(
    config: Annotated[Path, typer.Option()] = Path("ecspresso.yml"),
    speed: float = 1.0,
    quiet: bool = False,
    format: Format = Format.text,
    region: Optional[str] = None,
    report: Optional[Path] = None,
) -> None:
    print(config, speed, quiet, format, region, report)

@app.command()
def other() -> None:
    pass

app()
"""


def cpu_seconds(command: list[str], cwd: Path = ROOT) -> float:
    """Median CPU seconds (user + system) of ``command`` run to its end, ``RUNS`` times."""
    samples = []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)  # a refusal exits non-zero
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(samples)


def main() -> None:
    python = sys.executable
    ecs_bg = [python, "-m", "ecs_bg.cli"]
    refused = ROOT / "tests" / "fault_suite" / "scenarios" / "strategy-typo"
    with tempfile.TemporaryDirectory() as scratch:
        bare_app = Path(scratch) / "app.py"
        bare_app.write_text(BARE_TYPER_APP)
        interpreter = cpu_seconds([python, "-c", "pass"])
        typer_app = cpu_seconds([python, str(bare_app), "simulate", "--speed", "2", "--quiet"])
        commands = {
            "ecs-bg --help": cpu_seconds([*ecs_bg, "--help"]),
            "ecs-bg lint": cpu_seconds(
                [*ecs_bg, "lint", "--outputs-file", "tests/fixtures/cdk-outputs.json"]
            ),
            "ecs-bg simulate (refused)": cpu_seconds(
                [*ecs_bg, "simulate", "--quiet", "--report", str(Path(scratch) / "report.json")], cwd=refused
            ),
        }
    print(f"command start-up, CPU seconds (median of {RUNS})")
    print(f"  bare interpreter          {interpreter:6.3f}")
    print(f"  bare Typer app            {typer_app:6.3f}   (baseline)")
    for name, seconds in commands.items():
        print(f"  {name:<25} {seconds:6.3f}   {seconds / typer_app:5.1f}x the bare Typer app")


if __name__ == "__main__":
    main()
