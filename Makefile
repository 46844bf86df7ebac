# Every target installs what it needs: a fresh machine has only Python 3.11, Node 20 and npm.
SHELL := /bin/bash
UV_VERSION := 0.13.9
# uv from PATH when present, else the copy pip installs into this Python (found without PATH).
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: demo test bench sync

# Bytecode is compiled ahead of time: where PYTHONDONTWRITEBYTECODE is set (as on many CI machines),
# every simulated task and hook worker would otherwise compile FastAPI, boto3 and this project from
# source at each start, which triples their cold start.
sync:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --compile-bytecode
	$(UV) run --no-sync python -m compileall -q src app infrastructure/lib/constructs/lambda

demo: sync
	$(UV) run ecs-bg simulate

test: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run pytest -n 2

bench: sync
	$(UV) run python -m bench

.PHONY: synth
# The CDK CLI pinned in package.json drives the Python app (infrastructure/cdk.json runs it with uv).
# Needs no AWS credentials; cdk-nag fails the synthesis on any unacknowledged finding.
synth: sync
	npm ci --no-audit --no-fund
	cd infrastructure && npx --no-install cdk synth --quiet
