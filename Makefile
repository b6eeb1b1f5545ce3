# Two commands on a fresh machine:
#   make demo   verify the bundled sample filing and write the audit report to pilotzone-demo/
#   make test   run the whole test suite
#   make lint   ruff (rules and format) and mypy, as CI runs them before the tests
# Each creates the virtual environment in .venv the first time.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,build-data,dask,lint]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pilotzone demo --out pilotzone-demo; status=$$?; [ $$status -le 1 ] || exit $$status

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
