# Two entry points for a fresh machine: `make run` (install + start the app) and `make test`
# (install + lint + type-check + every test). Everything they need is installed from here, at the exact
# versions of requirements/*.txt (see requirements/README.md; `make lock` updates them).
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# pip only installs uv; --isolated: the project's installs come from its lock files, not from a
# machine's own pip configuration (whose extra indexes print warnings where they do not exist)
PIP := $(PY) -m pip --isolated --disable-pip-version-check --quiet
UV_INSTALL := $(UV) pip install --quiet --python $(PY) --require-hashes
BUILD := --build-constraint requirements/build.txt
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test system-deps run test test-lowest lint lock wheel bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements/run.txt requirements/uv.txt requirements/build.txt
	python3 -m venv $(VENV)
	$(PIP) install --require-hashes -r requirements/uv.txt
	$(UV_INSTALL) -r requirements/run.txt
	$(UV) pip install --quiet --python $(PY) --no-deps $(BUILD) -e .
	touch $(STAMP)

install-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP) requirements/test.txt
	$(UV_INSTALL) -r requirements/test.txt
	touch $(TEST_STAMP)

# Debian packages the tests use: Fashion-MNIST's IDX files, Chromium, a Korean font, wrk.
system-deps:
	@scripts/system-deps.sh

run: install
	$(VENV)/bin/deeplook serve

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install-test system-deps lint
	UV=$(UV) $(VENV)/bin/pytest
	$(MAKE) --no-print-directory test-lowest

# The oldest versions pyproject.toml allows, in a venv of their own: the fast tests must pass there too.
LOWEST := $(VENV)-lowest
test-lowest: install
	python3 -m venv --clear $(LOWEST)
	$(UV) pip compile --quiet pyproject.toml --extra test --resolution lowest-direct \
		--python-version 3.11 --no-header --no-annotate -o $(LOWEST)/requirements.txt
	$(UV) pip install --quiet --python $(LOWEST)/bin/python -r $(LOWEST)/requirements.txt
	$(UV) pip install --quiet --python $(LOWEST)/bin/python --no-deps $(BUILD) -e .
	$(LOWEST)/bin/pytest -q -p no:cacheprovider tests/engine tests/app -m "not slow"

# Regenerate the lock files (then run `make test` and commit them).
COMPILE := $(UV) pip compile --quiet --universal --generate-hashes --no-emit-index-url --python-version 3.11 \
	--custom-compile-command "make lock"
lock: install
	$(COMPILE) pyproject.toml -o requirements/run.txt
	$(COMPILE) pyproject.toml --all-extras -o requirements/test.txt
	$(COMPILE) requirements/build.in -o requirements/build.txt
	$(COMPILE) requirements/uv.in -o requirements/uv.txt

# The wheel (dashboard included) in dist/, as the Dockerfile builds it.
wheel: install
	UV=$(UV) scripts/wheel.sh build dist

bench: install
	$(PY) -m bench.train_speed

clean:
	rm -rf $(VENV) $(LOWEST) build dist *.egg-info
