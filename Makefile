# The verbs people expect. `make run` serves the app locally; `make test` runs every test;
# `make deps` installs everything the tests need (what `make test` does first), so that the test
# run itself needs no package registry.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# checkov (the Bicep check) gets a venv of its own: its pins conflict with requirements-dev.txt's
# (see requirements-lint.txt). About a minute and 290 MB the first time.
LINT_VENV := .venv-lint
APP_DEPS := $(VENV)/.installed node_modules/.installed

.PHONY: deps runtime-deps run test lint format bench package clean

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

# What the tests need: the app's venv and Azurite, the lint venv (tests/test_infra.py runs
# checkov from it) and the runtime conformance venv below, when there is a Python 3.13.
deps: $(APP_DEPS) $(LINT_VENV)/.installed runtime-deps

run: $(APP_DEPS) local.settings.json
	$(PY) -m devhost --preflight shared.app:check_environment

# Azure runs function.json apps on azure-functions-runtime-v1 from Python 3.13, and it installs only
# there: tests/test_runtime_conformance.py runs the app on it, in a venv of its own on a Python 3.13
# looked up here (a pyenv shim answers to `python3.13` even where it cannot run it) and built by
# `make deps`. When .venv is 3.13 already, the main run includes it. REQUIRE_RUNTIME_CONFORMANCE=1
# (CI) makes no 3.13 an error.
VENV313 := .venv-3.13
PY313 := $(VENV313)/bin/python
PYENV_313 = $$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv")/versions/3.13*/bin/python
FIND_PYTHON313 = for candidate in python3.13 $(PYENV_313); do \
	  if "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; \
	  then command -v "$$candidate"; fi; done | head -n 1

$(VENV313)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY313) || $(PYTHON313) -m venv $(VENV313)
	$(PY313) -m pip install --quiet --upgrade pip
	$(PY313) -m pip install --quiet -r requirements-dev.txt
	touch $@

runtime-deps: $(VENV)/.installed
	@if $(PY) -c 'import azure_functions_runtime_v1' 2>/dev/null; then :; \
	elif python313="$$($(FIND_PYTHON313))"; [ -n "$$python313" ]; then \
	  $(MAKE) --no-print-directory $(VENV313)/.installed PYTHON313="$$python313"; \
	fi

test: deps
	$(PY) -m pytest
	@if $(PY) -c 'import azure_functions_runtime_v1' 2>/dev/null; then \
	  echo "runtime conformance: included above ($(VENV) is Python 3.13)"; \
	elif [ -f $(VENV313)/.installed ] && $(PY313) -c '' 2>/dev/null; then \
	  echo "runtime conformance: $(VENV313) ($$($(PY313) -c 'import sys; print(sys.executable)'))" && \
	  $(PY313) -m pytest tests/test_runtime_conformance.py; \
	else \
	  verdict=SKIPPED; [ -z "$(REQUIRE_RUNTIME_CONFORMANCE)" ] || verdict=FAILED; \
	  echo "runtime conformance $$verdict: no Python 3.13 interpreter found" \
	    "(looked at python3.13 and $(PYENV_313))"; \
	  [ "$$verdict" = SKIPPED ]; \
	fi

# Throughput, CPU, memory and import time against the stock SDK loop and the raw floor.
# More: make bench ARGS="--n 10000 --rss-ns 1000,100000"
bench: $(APP_DEPS)
	$(PY) -m bench $(ARGS)

$(LINT_VENV)/.installed: requirements-lint.txt
	test -x $(LINT_VENV)/bin/python || $(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LINT_VENV)/bin/python -m pip install --quiet -r requirements-lint.txt
	touch $@

# infra/ is checked statically (it parses; checkov fails no check), never deployed; the Teams app
# package template is built with example ids and checked against Microsoft's manifest schema.
lint: $(APP_DEPS) $(LINT_VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(LINT_VENV)/bin/python tools/check_bicep.py
	$(PY) tools/app_package.py check

# The Teams app package: make package BOT_ID=<the bot's app id> [BOT_DOMAIN=<its host>]
# [APP_NAME_SUFFIX=" (local)"] writes appPackage/build/appPackage.zip (tools/app_package.py says
# every value). Standard library Python, and Node.js for the schema check.
package: node_modules/.installed
	$(PYTHON) tools/app_package.py build

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) $(VENV313) $(LINT_VENV) node_modules .azurite .pytest_cache .ruff_cache appPackage/build
