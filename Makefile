# Everyday verbs. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install demo test test-faults lint format check typecheck-tree system-deps bench bench-peer clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: install
	$(BIN)/antifraud demo

# graphviz and chromium (the console and its browser test), promtool and docker-compose
# (Debian packages) and the Apache Kafka jars (Maven Central).
system-deps:
	scripts/console-deps
	scripts/check-deploy
	scripts/apache-kafka fetch

# mypy cannot follow setuptools' package-dir mapping (pyproject.toml): it reads the folders
# through links named as they are installed, antifraud.core and so on.
PACKAGES := core streams agents schemas tools harness clients
typecheck-tree:
	@mkdir -p .typecheck/antifraud
	@for p in $(PACKAGES); do ln -sfn ../../$$p .typecheck/antifraud/$$p; done

lint: install typecheck-tree
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Before every commit: lint, types and every test that needs no broker (about 1.5 min on
# 2 cores).
check: lint
	$(PY) -m pytest -q -m "not integration and not system_deps" -p no:cacheprovider

# Unit, property and deploy tests, the integration suite on each broker, then the fault
# tests on Apache Kafka (50k transfers each, about 9 min together; -s prints their figures).
test: install system-deps lint
	$(PY) -m pytest -q -m "not integration"
	$(PY) -m pytest -q -m "integration and not slow" --broker=embedded --durations=8
	$(PY) -m pytest -q -m "integration and not slow" --broker=apache-kafka --durations=8
	$(PY) -m pytest -q -s -m slow --broker=apache-kafka

test-faults: install system-deps
	$(PY) -m pytest -q -s -m slow --broker=apache-kafka

bench: install
	$(BIN)/antifraud bench

# The worker, then the Quix Streams peer from ../shared, alternating (figures and ratios).
bench-peer: install
	scripts/bench-peer embedded

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .typecheck antifraud-data
