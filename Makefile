# Every target bootstraps .venv on first use: on a fresh machine `make demo` and
# `make test` are the only commands a newcomer types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean github-spec

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

# GitHub's OpenAPI description and webhook examples for the GitHub test server (npm pack,
# pinned versions in tests/ghserver/spec.py; the tests fetch them too when missing).
github-spec: $(STAMP)
	$(BIN)/python -c "import sys; sys.path.insert(0, 'tests'); from ghserver import spec; spec.spec_path(); spec.examples_path()"

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .modelward .pytest_cache .mypy_cache .ruff_cache
