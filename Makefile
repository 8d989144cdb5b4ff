# Everything a fresh clone needs is created on demand: .venv from PyPI, node_modules from npm.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PYTEST_ARGS ?=

.PHONY: install format lint typecheck unit test test-fast test-slow synth demo bench clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml lambda_src/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --only-binary :all: --no-deps -r lambda_src/requirements.txt
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: $(VENV)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest -n 2 -m 'not slow' $(PYTEST_ARGS)

test-slow: install
	$(BIN)/pytest -n 2 -m slow $(PYTEST_ARGS)

synth: install
	npx cdk synth --quiet

demo: install
	$(BIN)/python -m lookout_retraining.local.demo

bench: install
	$(BIN)/python tests/benchmarks/run.py

clean:
	rm -rf cdk.out .local-deployer .bench build dist .pytest_cache .mypy_cache .ruff_cache
