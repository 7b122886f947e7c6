# Parakh — the two quick-start commands:
#   make demo   create .venv, install, load the demo and serve on http://127.0.0.1:8000
#   make test   create .venv, install the dev tools, run the whole suite on PostgreSQL + Redis
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The suite's services; override to point elsewhere (see README, "Configuration").
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/parakh
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: demo test lint format install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The embedded default: SQLite under var/, tasks run eagerly, local-memory cache.
demo: install
	env -u DATABASE_URL -u REDIS_URL DEBUG=true $(BIN)/python manage.py demo

test: install-dev
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
