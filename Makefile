# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make run PORT=9000 HOST=0.0.0.0`; unset, MOCKSERVER_HOST/MOCKSERVER_PORT or the defaults (127.0.0.1:8000) apply
HOST   ?=
PORT   ?=

.PHONY: run test lint bench install clean test-long

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

test-long: $(STAMP)
	MOCKSERVER_HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q -m "slow or not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mockserver contracts client tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mockserver
