# Two entry points for a fresh machine: `make run` (install + start the app) and `make test`
# (install + lint + type-check + every test). Everything they need is installed from here.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test system-deps run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

install-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# Debian packages the tests use: Fashion-MNIST's IDX files.
system-deps:
	@scripts/system-deps.sh

run: install
	$(VENV)/bin/deeplook serve

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install-test system-deps lint
	$(VENV)/bin/pytest

bench: install
	$(PY) bench/train_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
