# Everyday verbs. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install demo test test-embedded test-kafka lint system-deps bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: install
	$(BIN)/antifraud demo

# promtool and docker-compose (Debian packages) and the Apache Kafka jars (Maven Central).
system-deps:
	scripts/check-deploy
	scripts/apache-kafka fetch

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Unit, property and deploy tests, then the integration suite on each broker.
test: install system-deps lint
	$(PY) -m pytest -q -m "not integration"
	$(PY) -m pytest -q -m integration --broker=embedded
	$(PY) -m pytest -q -m integration --broker=apache-kafka

bench: install
	$(BIN)/antifraud bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache antifraud-data
