# The two commands: `make demo` (set up + run the demo batch) and `make test` (set up + run the tests).
SHELL := /bin/bash
VENV := .venv
HOCVU := $(VENV)/bin/hocvu

.PHONY: demo test lint bench setup setup-test

setup:
	@bash .ci/setup

setup-test:
	@bash .ci/setup --test

demo: setup
	@$(HOCVU) demo

test: setup-test
	@$(VENV)/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: setup-test
	$(VENV)/bin/ruff check generator tests bench
	$(VENV)/bin/mypy

bench: setup-test
	$(VENV)/bin/python bench/run_all.py
