# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make run PORT=9000 HOST=0.0.0.0`; unset, MOCKSERVER_HOST/MOCKSERVER_PORT or the defaults (127.0.0.1:8000) apply
HOST   ?=
PORT   ?=

.PHONY: run test lint bench install clean test-long test-sdk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,report]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mockserver serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS) || [ $$? -eq 5 ]

# the long tier (CI runs it after `make test`): the slow-marked checks, then the property tests again
# under the deep hypothesis profile
test-long: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]
	MOCKSERVER_HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q -n 2 --dist loadgroup tests/property $(PYTEST_ARGS)

# openai 0.28 / 1.x / 2.x, each in its own nox virtualenv (noxfile.py); NOX_ARGS="-s sdk-0.28" picks one
test-sdk: $(STAMP)
	$(BIN)/nox $(NOX_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mockserver contracts client tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mockserver
