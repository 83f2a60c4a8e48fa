# Every target bootstraps the virtual environment it needs: a fresh clone runs `make dev`
# or `make test` and nothing else.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)  ## run Guichet on embedded defaults (Temporal dev server, SQLite log) with demo files
	$(BIN)/guichet dev --demo

test: $(STAMP)  ## the whole test suite against PostgreSQL on 127.0.0.1:5432 and real Temporal servers
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .guichet
