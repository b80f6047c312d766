# The two commands a newcomer needs: `make run` and `make test`. Both create/update .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ADAPTERS := $(wildcard adapters/*/pyproject.toml)

.PHONY: run test lint typecheck unit proof bench protos clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt $(ADAPTERS)
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,sim,distributed]"
	for a in $(dir $(ADAPTERS)); do $(BIN)/pip install -q -c constraints.txt -e $$a || exit 1; done
	touch $(STAMP)

# The gateway in DEVELOPMENT MODE (no auth: the x-onestop-hospital header names the hospital) on SQLite
# in .onestop/, with the packaged catalogs and regions and the example 惠民保 insurer. Try it with
# `$(BIN)/python examples/client/cashier.py --target 127.0.0.1:$(PORT)`.
PORT ?= 50051
run: $(STAMP)
	mkdir -p .onestop
	$(BIN)/onestop serve --config examples/gateway/dev.yaml --port $(PORT)

# Regenerate src/onestop/v1 from proto/ (committed; a test fails when it is stale).
protos: $(STAMP)
	$(BIN)/python proto/generate.py

lint: $(STAMP)
	$(BIN)/ruff check conftest.py src tests bench examples adapters
	$(BIN)/ruff format --check conftest.py src tests bench examples adapters
	$(BIN)/buf lint
	$(BIN)/buf breaking --against proto/baseline.binpb

typecheck: $(STAMP)
	$(BIN)/mypy src/onestop
	for a in adapters/*/src; do $(BIN)/mypy --strict $$a || exit 1; done

unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck unit

proof: $(STAMP)
	ONESTOP_PROFILE=full $(BIN)/pytest -q -m slow tests

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
