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

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install spark-jars build test chromium lint engine-up engine-down engine-status docs clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]' --config-settings editable_mode=compat
	@rm -f $(VENV)/.installed-*
	@touch $@

JARS_DIR := engines/spark/jars
JARS_STAMP := $(JARS_DIR)/.resolved-$(shell sha1sum engines/spark/pom.xml | cut -c1-12)
MVN_LOG := $(JARS_DIR)/../maven.log

$(JARS_STAMP): engines/spark/pom.xml
	@mkdir -p $(JARS_DIR)
	@mvn -B -f engines/spark/pom.xml dependency:copy-dependencies > $(MVN_LOG) 2>&1 || { \
		echo "make install: Maven could not resolve engines/spark/pom.xml (log: $(MVN_LOG)); check its repository settings (~/.m2/settings.xml) and run make install again" >&2; exit 1; }
	@rm -f $(JARS_DIR)/.resolved-*
	@touch $@
	@echo "Delta Lake jars for the spark and cluster targets: $(JARS_DIR)/"

spark-jars: ## resolve the JVM jars of the spark and cluster targets with Maven, once (needs Java 17 + Maven)
	@if command -v mvn >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(JARS_STAMP); \
	else \
		echo "note: no Java/Maven here: the spark and cluster targets need them (apt-get install openjdk-17-jdk-headless maven, then make install); the local target works without"; \
	fi

install: $(STAMP) spark-jars ## create .venv, install the pinned dependencies and the Spark jars (idempotent)

LAKEHOUSE := $(or $(GRIDUNION_LAKEHOUSE),$(CURDIR)/.lakehouse)
PEPPER_FILE := $(LAKEHOUSE)/_secrets/pii_pepper

TARGET := $(or $(GRIDUNION_TARGET),local)

build: install ## land the demo data, stage it and run `dbt build` (GRIDUNION_TARGET=spark: local JVM Spark + Delta; =cluster: the Spark cluster of `make engine-up ENGINE=spark-cluster`)
	@test -s $(PEPPER_FILE) || { mkdir -p $(dir $(PEPPER_FILE)) && umask 077 && \
		$(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $(PEPPER_FILE); }
	$(PT) landing generate
	$(PT) landing stage
	$(DBT) build --target $(TARGET)

PYTEST_WORKERS ?= 2

test: install chromium ## run the whole test suite against the real engines (PYTEST_WORKERS=2 processes; 0: one)
	@mkdir -p test-output
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder \
		--basetemp=test-output/pytest --durations=25

chromium: ## install Debian's headless Chromium for the browser tests (if missing)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium package for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

lint: install ## ruff and mypy
	$(BIN)/ruff check platform_tools dbt_gridunion tests benchmarks
	$(BIN)/mypy

ENGINE ?= sail

engine-up: install ## start the embedded engine and rebuild its catalog (ENGINE=spark-cluster: local Spark cluster + Thrift Server)
	$(PT) engine up --engine $(ENGINE)

engine-down: install ## stop the engine (ENGINE=spark-cluster: the local Spark cluster; the lakehouse stays)
	$(PT) engine down --engine $(ENGINE)

engine-status: install ## is the engine (ENGINE=spark-cluster: the local Spark cluster) running?
	$(PT) engine status --engine $(ENGINE)

clean: ## remove dbt's target/ and test output (not the lakehouse)
	rm -rf target logs test-output

# -- pull requests and discovery (docs/pull_requests.md) ---------------------------------------
.PHONY: pr-check products catalog

pr-check: install ## pre-commit runs the offline hooks of .pre-commit-config.yaml on the change (BASE=ref, ALL=1, ONLINE=1: every hook)
	$(PT) pr-check $(if $(BASE),--base $(BASE)) $(if $(ALL),--all-files) $(if $(ONLINE),--online)

docs: install ## generate the dbt docs site (after `make build`) and serve it on a free port (DOCS_PORT)
	$(DBT) docs generate
	@port=$${DOCS_PORT:-$$($(BIN)/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}; \
		echo "docs site: http://127.0.0.1:$$port/ (Ctrl-C stops the server)"; \
		$(DBT) docs serve --port $$port --no-browser

products: install ## regenerate docs/products.md (and target/site/products.html) from the manifest and run history
	$(DBT) parse --quiet
	$(PT) products --out target/site --markdown docs/products.md --docs-url index.html

catalog: products ## the old name of `products`

# -- the platform's rules (platform_tools/rules/) ----------------------------------------------
.PHONY: rules-docs

rules-docs: install ## regenerate the rules section of docs/platform_tools.md from the rules' docstrings
	$(PT) rules --write-docs
