# abonent — the two commands that matter are `make run` and `make test`.
# DATABASE_URL in the environment overrides the database for every target.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/abonent

.PHONY: setup run test lint typecheck pytest messages check-postgres system-deps clean

# --- environment -----------------------------------------------------------

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade "pip==25.3"

# Reinstall only when a requirements file changed.
$(VENV)/.base-installed: requirements/base.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/base.txt requirements/dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@ $(VENV)/.base-installed

# --- run -------------------------------------------------------------------

setup: $(VENV)/.base-installed
	$(PY) manage.py migrate --no-input --verbosity 0
	$(PY) manage.py seed_demo

run: setup
	$(PY) manage.py runserver $(HOST):$(PORT)

# --- test ------------------------------------------------------------------

system-deps:
	@scripts/ensure-system-deps.sh

check-postgres: $(VENV)/.dev-installed
	@DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(PY) scripts/check_postgres.py

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: $(VENV)/.dev-installed system-deps check-postgres
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(BIN)/pytest --create-db $(PYTEST_ARGS)

test: lint typecheck pytest

# --- maintenance -----------------------------------------------------------

messages: $(VENV)/.dev-installed
	$(PY) manage.py makemessages --locale ru --no-obsolete --no-location --ignore '.venv/*' --ignore 'tests/*' --ignore '*/tests/*'
	$(PY) manage.py compilemessages --locale ru --ignore '.venv/*'

clean:
	rm -rf $(VENV) db.sqlite3 .mypy_cache .ruff_cache .pytest_cache
