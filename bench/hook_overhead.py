"""What this project's hook runtime costs a Lambda: cold-start import time, per-invocation time, asset size.

Each number is set beside a baseline measured in the same run on the same machine:
- import: a bare handler module that imports the same third-party packages (Powertools Logger),
  in a fresh interpreter each time; the difference is what our modules add (goal <= 30 ms).
- invocation: a bare handler that logs one Powertools line and returns SUCCEEDED, against a
  LifecycleHook whose stage function does nothing; the ratio is the wrapper's overhead.
- asset: the zipped entry files plus ecs_bg.hooks (goal <= 200 kB).
- Powertools parameters: what notify's secret lookup adds on first use. It imports boto3, which the
  lookup needs anyway, so its own cost is measured with boto3 preloaded, beside boto3 alone.
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "infrastructure" / "lib" / "constructs" / "lambda"
HOOKS_DIR = ROOT / "src" / "ecs_bg" / "hooks"
ENTRY_FILES = ("before_install", "after_install", "before_allow_traffic", "after_allow_traffic")
RUNS = 15

BARE_HANDLER = """
from aws_lambda_powertools import Logger
logger = Logger(service="bare")
def handler(event, context):
    logger.info("hook decision")
    return {"hookStatus": "SUCCEEDED"}
"""

# Third-party packages are imported first, outside the timed part, in both cases alike.
IMPORT_PROBE = """
import sys, time
sys.path[:0] = [{path!r}]
import {preload}
started = time.perf_counter()
import {module}
print(time.perf_counter() - started)
"""


def import_ms(path: Path, module: str, preload: str = "aws_lambda_powertools.logging") -> float:
    """Median ms to import ``module`` from ``path`` in a fresh interpreter, after ``preload``."""
    samples = []
    for _ in range(RUNS):
        code = IMPORT_PROBE.format(path=str(path), module=module, preload=preload)
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        samples.append(float(out) * 1000)
    return statistics.median(samples)


def invocation_us(handler: object, event: dict[str, object], count: int = 3000) -> float:
    """Best of five batches: microseconds per call."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count):
            handler(event, None)  # type: ignore[operator]
        best = min(best, (time.perf_counter() - started) / count * 1e6)
    return best


def asset_bytes() -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in LAMBDA_DIR.glob("*_hook.py"):
            archive.write(entry, entry.name)
        for source in HOOKS_DIR.rglob("*.py"):
            archive.write(source, f"ecs_bg/{source.relative_to(HOOKS_DIR.parent)}")
    return len(buffer.getvalue())


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "bare_handler.py").write_text(BARE_HANDLER)
        baseline = import_ms(Path(scratch), "bare_handler")
    print(f"cold-start import (median of {RUNS} fresh interpreters, third-party packages preloaded)")
    print(f"  {'bare handler (baseline)':28} {baseline:7.1f} ms")
    for name in ENTRY_FILES:
        ms = import_ms(LAMBDA_DIR, f"{name}_hook")
        added = ms - baseline
        ratio = ms / baseline
        print(
            f"  {name + '_hook':28} {ms:7.1f} ms  added {added:5.1f} ms  x{ratio:.1f}  (goal <= 30 ms added)"
        )

    # notify's lookups import the utility lazily; boto3 comes with them whatever reads the secret.
    print(f"Powertools parameters, imported on notify's first lookup (median of {RUNS})")
    boto3_ms = import_ms(ROOT, "boto3")
    parameters_ms = import_ms(
        ROOT, "aws_lambda_powertools.utilities.parameters", "aws_lambda_powertools.logging"
    )
    with_boto3_ms = import_ms(
        ROOT, "aws_lambda_powertools.utilities.parameters", "aws_lambda_powertools.logging, boto3"
    )
    print(f"  {'boto3 (baseline)':28} {boto3_ms:7.1f} ms")
    print(f"  {'parameters, boto3 included':28} {parameters_ms:7.1f} ms")
    print(f"  {'parameters, boto3 preloaded':28} {with_boto3_ms:7.1f} ms  (goal <= 30 ms added)")

    sys.path[:0] = [str(LAMBDA_DIR)]
    import io as _io

    from aws_lambda_powertools import Logger

    from ecs_bg.hooks import LifecycleHook, Stage
    from ecs_bg.lifecycle.events import lifecycle_event

    sink = _io.StringIO()
    bare_logger = Logger(service="bench-bare", stream=sink)

    def bare(event: object, context: object) -> dict[str, str]:
        bare_logger.info("hook decision")
        return {"hookStatus": "SUCCEEDED"}

    hook = LifecycleHook("bench-wrapped", log_stream=sink)
    hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: None)
    event = lifecycle_event("PRE_SCALE_UP", hook_details={"smokeTest": False})
    bare_us, wrapped_us = invocation_us(bare, event), invocation_us(hook.handler, event)
    print("per invocation (best of 5 batches)")
    print(f"  {'bare handler (baseline)':28} {bare_us:7.1f} us")
    print(f"  {'LifecycleHook.handler':28} {wrapped_us:7.1f} us  x{wrapped_us / bare_us:.1f}")

    size = asset_bytes()
    print(f"lambda asset (zip of entry files + ecs_bg.hooks): {size / 1024:.1f} kB (goal <= 200 kB)")


if __name__ == "__main__":
    main()
