# make run    — set up and serve the demo on http://127.0.0.1:8000
# make test   — set up (virtualenv, Python packages, Debian's chromium and redis-server) and run every test
# make bench  — set up and print the benchmark figures
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench system-deps clean

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v redis-server >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium redis-server >/dev/null; fi

run: $(BIN)/.installed
	$(BIN)/linear-classify-demo

test: $(BIN)/.installed system-deps
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache screenshots
