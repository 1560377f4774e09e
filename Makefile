# The verbs people expect. `make run` serves the app locally; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint format bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

local.settings.json:
	cp local.settings.example.json local.settings.json

deps: $(VENV)/.installed node_modules/.installed

run: deps local.settings.json
	$(PY) -m devhost --preflight shared.app:check_environment

test: deps
	$(PY) -m pytest

# Throughput, CPU, memory and import time against the stock SDK loop and the raw floor.
# More: make bench ARGS="--n 10000 --rss-ns 1000,100000"
bench: deps
	$(PY) -m bench $(ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) node_modules .azurite .pytest_cache .ruff_cache
