# Every target installs what it needs: a fresh machine has only Python 3.11, Node 20 and npm.
SHELL := /bin/bash
UV_VERSION := 0.13.9
# uv from PATH when present, else the copy pip installs into this Python (found without PATH).
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: demo test bench sync

# uv puts the environment here unless told otherwise. `demo` runs its program directly: `uv run`
# costs 0.1-0.3 s a call (more through a pyenv shim) before the program starts.
VENV := $(or $(UV_PROJECT_ENVIRONMENT),.venv)
# The environment is synced when the lock or the project's metadata is newer than the last sync, as
# Make decides for any file: a second `make demo` starts at once instead of re-checking 8,000 files.
SYNCED := $(VENV)/.synced
# Bytecode is compiled ahead of time: where PYTHONDONTWRITEBYTECODE is set (as on many CI machines),
# every simulated task and hook worker would otherwise compile FastAPI, boto3 and this project from
# source at each start, which triples their cold start.
COMPILED := $(VENV)/.compiled
SOURCES := $(shell find src app infrastructure/lib/constructs/lambda -name '*.py' 2>/dev/null)

# The demo needs ecs-bg's runtime dependencies and the sample service (the app group) alone: not the CDK,
# mypy, ruff or policy_sentry, which `make test` adds. --inexact keeps what a full sync put there, so a
# `make demo` after `make test` removes nothing. Nothing is compiled ahead (12 s for all 7,000 files):
# the demo runs with bytecode writing on, so Python compiles what it imports (about 1,000 files) once,
# as it goes, even where the shell sets PYTHONDONTWRITEBYTECODE.
DEMO_SYNCED := $(VENV)/.synced-demo

sync: $(COMPILED)

$(SYNCED): pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --compile-bytecode
	@touch $@ $(DEMO_SYNCED)

$(DEMO_SYNCED): pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --inexact --no-default-groups --group app
	@touch $@

$(COMPILED): $(SYNCED) $(SOURCES)
	$(VENV)/bin/python -m compileall -q src app infrastructure/lib/constructs/lambda
	@touch $@

demo: $(DEMO_SYNCED)
	env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/ecs-bg simulate

# node_modules as package-lock.json pins it: the CDK CLI (`make synth`) and the AWS SDK for JavaScript
# that tests/clients/ drives `ecs-bg local` with. npm ci runs again only when the lock has changed.
NODE_MODULES := node_modules/.installed

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Two pytest workers more than this machine has cores: the suite waits on real time in places (Docker
# builds, a browser, deploy tools polling, timeouts in real seconds), and the extra workers keep the
# cores busy meanwhile. Measured on 2 cores (docs/simulator.md, eighth session): 3 workers 279-287 s
# with 15-16 % of the cores idle, 4 workers 263-266 s with 5 % idle (and 7 % more CPU: two workers
# share each core). `make test TEST_WORKERS=n` chooses.
# --dist loadgroup: a module marked xdist_group runs on one worker (the Docker runtime's: its runs
# sweep each other's leftovers); every other test is handed out in collection order, which spreads the
# tests that mostly wait on real time (marked waits) among the busy ones (tests/run_order.py).
TEST_WORKERS ?= $(shell python3 -c "import os; print(len(os.sched_getaffinity(0)) + 2)" 2>/dev/null || echo 4)

test: sync $(NODE_MODULES)
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy
	$(UV) run --no-sync mypy --strict examples
	$(UV) run --no-sync pytest -n $(TEST_WORKERS) --dist loadgroup

bench: sync
	$(UV) run --no-sync python -m bench

.PHONY: image
# The sample service's image, built as the pipeline builds it: app/Dockerfile from the repository root,
# with BuildKit (which applies app/Dockerfile.dockerignore). It needs a Docker engine (started, and
# installed on Debian, by scripts/docker-engine, as root) and the Dockerfile's base images: where
# their registries cannot be reached, scripts/base-images builds local stand-ins and says so.
IMAGE ?= ecs-bg-app:local
image:
	scripts/docker-engine
	scripts/base-images
	DOCKER_BUILDKIT=1 "$$(scripts/buildkit-cli)" build -f app/Dockerfile -t $(IMAGE) .

.PHONY: template
# The sample stack's synthesized template, committed under infrastructure/template/ so that `make demo`
# builds its local world without the CDK CLI. tests/infra/test_sample_template.py fails when it is stale.
template: sync
	PYTHON=$(abspath $(VENV))/bin/python scripts/sample-template

.PHONY: synth
# The CDK CLI pinned in package.json drives the Python app (infrastructure/cdk.json runs it with uv).
# Needs no AWS credentials; cdk-nag fails the synthesis on any unacknowledged finding.
synth: sync $(NODE_MODULES)
	cd infrastructure && npx --no-install cdk synth --quiet
