# Melody Studio — developer entry points. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
DATA_DIR ?= .melody
STAMP := $(VENV)/.installed

.PHONY: run test lint test-unit test-integration test-e2e test-infra install system-deps postgres openapi synth bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[audio,scores,local,infra,dev]"
	touch $(STAMP)

install: $(STAMP)

## The local stack on its embedded defaults: http://127.0.0.1:8000 (ffmpeg installed if missing)
run: install
	bash scripts/system-deps.sh run
	$(VENV)/bin/melody dev --port $(PORT) --data-dir $(DATA_DIR)

## Everything CI runs: system packages if missing, PostgreSQL, lint and type checks, then every test layer.
test: system-deps install postgres lint
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(PY) -m pytest tests/unit tests/integration tests/infra tests/e2e

## ruff (lint + import order) and mypy (strict on the feature packages), zero findings.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test-unit: install
	$(PY) -m pytest tests/unit
test-integration: install postgres
	$(PY) -m pytest tests/integration
test-e2e: install
	$(PY) -m pytest tests/e2e
test-infra: install
	$(PY) -m pytest tests/infra

system-deps:
	bash scripts/system-deps.sh

postgres:
	bash scripts/ensure-postgres.sh

openapi: install
	$(VENV)/bin/melody openapi -o openapi.json

## Offline synth with cdk-nag of one stage (a deployment must name its stage: there is no default).
synth: STAGE ?= prod
synth: install
	CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON='{"stage": "$(STAGE)"}' $(PY) infra/app.py

clean:
	rm -rf $(VENV) cdk.out .pytest_cache test-artifacts
