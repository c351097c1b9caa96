# Two commands for a newcomer: `make run` and `make test`. Both are safe to repeat.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test lint install install-dev translations clean

run: install translations
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) vapid generate --if-missing
	$(FLASK) serve

test: install-dev translations lint
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.created:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Signaal needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	touch $@

$(VENV)/.installed: requirements.txt $(VENV)/.created
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

# Compiled catalogues are build output, not source: made from translations/*/messages.po.
translations: install
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -d translations; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
