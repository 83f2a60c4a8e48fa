# Every target bootstraps the virtual environment it needs: a fresh clone runs `make dev`
# or `make test` and nothing else.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test check lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Ctrl-C is how `make dev` ends: `guichet dev` then exits 130, for its supervisors, which make
# reported as "Error 130" (and sh's own death by SIGINT as "Interrupt": hence the trap). Make
# itself still ends by SIGINT, silently; any other end of guichet dev is still an error.
dev: $(STAMP)  ## run Guichet on embedded defaults (Temporal dev server, SQLite log) with demo files
	@echo '$(BIN)/guichet dev --demo'
	@trap : INT; $(BIN)/guichet dev --demo || [ $$? -eq 130 ]

test: $(STAMP)  ## the whole test suite against PostgreSQL on 127.0.0.1:5432 and real Temporal servers
	$(BIN)/pytest
	# The slow fault-injection group of RELIABILITY.md (worker killed five times, Temporal
	# server restarted, PostgreSQL unreachable for 10 s), kept out of plain `pytest`.
	GUICHET_RELIABILITY_FILES=$${GUICHET_RELIABILITY_FILES:-200} $(BIN)/pytest -m reliability

check: $(STAMP)  ## the quick loop while changing code (under a minute): lint, the domain's unit tests, replay of the saved histories
	$(MAKE) lint
	$(BIN)/pytest -q tests/unit tests/replay

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)  ## every benchmark at a modest size; figures and full sizes in bench/README.md
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.appends --events 1000
	$(BIN)/python -m bench.replay --scale 0.1
	$(BIN)/python -m bench.lifecycle --files 20
	$(BIN)/python -m bench.open_files --files 500 --cache 100 --skip-files 100
	$(BIN)/python -m bench.cofinancer_queue --files 300
	$(BIN)/python -m bench.digests --files 1000

clean:
	rm -rf $(VENV) .guichet
