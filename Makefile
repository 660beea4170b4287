# GridUnion Continental data platform. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DBT := $(BIN)/dbt
PT := $(BIN)/platform-tools
export DBT_PROFILES_DIR ?= $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: help install build test lint engine-up engine-down engine-status docs clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP) ## create .venv and install the pinned dependencies (idempotent)

build: install ## start the engine, land the demo data and run `dbt build` on the local target
	$(PT) engine up
	$(DBT) build --target local

test: install ## run the whole test suite against the real engine
	$(BIN)/python -m pytest

lint: install ## ruff, mypy and sqlfluff
	$(BIN)/ruff check platform_tools dbt_gridunion tests benchmarks
	$(BIN)/mypy
	$(BIN)/sqlfluff lint models macros snapshots tests/data_tests

engine-up: install ## start the embedded engine and rebuild its catalog
	$(PT) engine up

engine-down: install ## stop the embedded engine (the lakehouse stays)
	$(PT) engine down

engine-status: install ## is the engine running?
	$(PT) engine status

clean: ## remove dbt's target/ (not the lakehouse)
	rm -rf target logs
