# make run    set up (virtualenv, the runtime packages) and serve the demo on http://$(HOST):$(PORT)
# make test   set up (virtualenv, the test packages, Debian's chromium and redis-server) and run every test
# make bench  set up and print the benchmark figures
# make lock   regenerate the pinned, hashed requirements/*.txt from pyproject.toml (with uv)
# The virtualenv is made with PYTHON: by default the distribution's own Python if it is 3.11 or newer, the fastest
# build a machine usually has (scripts/python.sh); make run PYTHON=python3.12 makes it with another.
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SYSTEM_DEPS := sh scripts/system-deps.sh
PYTHON ?= $(shell sh scripts/python.sh)
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check

.PHONY: run test bench lock clean

$(BIN)/python:
	@PYTHON=$(PYTHON) $(SYSTEM_DEPS) venv
	$(PYTHON) -m venv $(VENV)

# The exact versions first (hashes checked), then this project itself without resolving anything more.
$(VENV)/.run: requirements/run.txt pyproject.toml | $(BIN)/python
	$(PIP) --require-hashes -r requirements/run.txt
	$(PIP) --no-deps -e .
	touch $@

$(VENV)/.dev: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(PIP) --require-hashes -r requirements/dev.txt
	$(PIP) --no-deps -e .
	touch $@ $(VENV)/.run

run: $(VENV)/.run
	$(BIN)/linear-classify-demo --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	@$(SYSTEM_DEPS) chromium redis
	$(BIN)/pytest

bench: $(VENV)/.dev
	$(BIN)/python bench/run_all.py

lock: $(VENV)/.dev
	$(BIN)/uv pip compile -q pyproject.toml --python-version 3.11 --generate-hashes -o requirements/run.txt
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.txt

clean:
	rm -rf $(VENV) .pytest_cache screenshots build dist
