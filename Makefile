# Every target bootstraps what it needs and is safe to run twice.
# `make help` lists them; the README explains each.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
OPS := $(PY) -m ops
DBT := $(OPS) dbt
DOCS_PORT ?= 8080
DASHBOARDS_PORT ?= 8088
# Test files spread over this many processes (each file stays in one, with its fixtures).
TEST_WORKERS ?= 2
SUPERSET_VENV := .build/superset/venv
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed-stamp
SIZE ?= 3000
SEED ?= 42
AIRFLOW_VENV := .build/airflow-venv
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed-stamp
AIRFLOW_REQUIREMENTS := orchestration/airflow/requirements.txt
AIRFLOW_PORT ?= 8081
REPORT_DIR ?= .build/reports

.DEFAULT_GOAL := help
.PHONY: help demo run load build docs docs-generate test lint bench report alerts holidays \
        db-start db-stop db-shell sandbox erase clean dashboards dashboards-stop \
        dashboards-export chromium airflow airflow-stop airflow-venv

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Superset's pins clash with dbt's: it gets its own virtualenv, fully pinned.
$(SUPERSET_STAMP): dashboards/requirements.txt dashboards/constraints.txt
	@test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SUPERSET_VENV)/bin/python -m pip install --quiet -r dashboards/requirements.txt \
		-c dashboards/constraints.txt
	@touch $(SUPERSET_STAMP)

# Airflow gets a virtualenv of its own: its pins and dbt's clash.
$(AIRFLOW_STAMP): $(AIRFLOW_REQUIREMENTS)
	@test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet -r $(AIRFLOW_REQUIREMENTS)
	@touch $(AIRFLOW_STAMP)

airflow-venv: $(AIRFLOW_STAMP)

demo: $(STAMP) ## Fresh clone to built marts against a sandbox Help Scout account
	$(OPS) demo --size $(SIZE) --seed $(SEED)

run: $(STAMP) ## The real thing: load from Help Scout (HELPSCOUT_APP_ID/SECRET), then build
	$(OPS) load run
	$(OPS) load reconcile --if-due
	$(DBT) build

load: $(STAMP) ## Load only: incremental extraction into helpscout_raw
	$(OPS) load run

build: $(STAMP) ## dbt build (models and their tests) on the current lake
	$(DBT) build

docs-generate: $(STAMP)
	$(DBT) docs generate

docs: docs-generate ## Generate the dbt docs site and serve it on localhost:$(DOCS_PORT)
	$(DBT) docs serve --port $(DOCS_PORT) --host 127.0.0.1 --no-browser

holidays: $(STAMP) ## Public holidays into the seed: COUNTRY=ES YEARS=2024-2027 [SUBDIV=MD] [MAILBOX=id]
	@test -n "$(COUNTRY)" -a -n "$(YEARS)" || { echo "usage: make holidays COUNTRY=ES YEARS=2024-2027 [SUBDIV=MD] [MAILBOX=id]"; exit 2; }
	$(OPS) holidays $(COUNTRY) --years $(YEARS) $(if $(SUBDIV),--subdiv $(SUBDIV)) $(if $(MAILBOX),--mailbox-id $(MAILBOX))

report: $(STAMP) ## The latest complete week: printed, written as HTML under .build/reports (REPORT_ARGS=--email)
	$(OPS) report --html-dir $(REPORT_DIR) $(REPORT_ARGS)

alerts: $(STAMP) ## Send new volume anomalies to the webhook and/or SMTP recipients (ALERTS_ARGS=--dry-run)
	$(OPS) alerts $(ALERTS_ARGS)

# Headless Chromium (Debian package) for the browser tests; shared by every target that needs one.
chromium:
	@command -v chromium >/dev/null || { \
	    SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	    $$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
	        --no-install-recommends chromium fonts-dejavu-core >/dev/null; }
	@command -v chromium >/dev/null || { echo "error: chromium could not be installed" >&2; exit 1; }

test: $(STAMP) $(SUPERSET_STAMP) $(AIRFLOW_STAMP) chromium lint ## Lint, then every test (unit, sandbox, loader, dbt, alerts, report, dashboards, Airflow DAG); TEST_WORKERS=1 for one process
	$(OPS) db start
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP) ## ruff and sqlfluff lint
	$(VENV)/bin/ruff check loader ops sandbox tests bench orchestration lint
	$(VENV)/bin/sqlfluff lint dbt_project --disable-progress-bar

bench: $(STAMP) ## Benchmarks as ratios against same-run baselines (BENCH_SCALE=0.1 for a quick look)
	$(PY) -m bench

db-start: $(STAMP) ## Start the embedded PostgreSQL (no-op with an external database)
	$(OPS) db start

db-stop: $(STAMP) ## Stop the embedded PostgreSQL
	$(OPS) db stop

db-shell: $(STAMP) ## psql on the configured database
	$(OPS) db shell

erase: $(STAMP) ## Right to erasure: EMAIL=address (or CUSTOMER_ID=n); rewrites the lake, rebuilds
	@if [ -n "$(EMAIL)" ]; then $(OPS) erase --email "$(EMAIL)"; \
	elif [ -n "$(CUSTOMER_ID)" ]; then $(OPS) erase --customer-id "$(CUSTOMER_ID)"; \
	else echo "error: give EMAIL=address or CUSTOMER_ID=n" >&2; exit 2; fi

airflow: $(STAMP) $(AIRFLOW_STAMP) ## Local Airflow on 127.0.0.1:$(AIRFLOW_PORT) running the helpscout_elt DAG
	$(OPS) airflow start --port $(AIRFLOW_PORT)

airflow-stop: $(STAMP) ## Stop the local Airflow (its whole process group)
	$(OPS) airflow stop

sandbox: $(STAMP) ## Serve a sandbox Help Scout API in the foreground
	$(PY) -m sandbox serve --size $(SIZE) --seed $(SEED)

clean: ## Stop the embedded database and remove every generated file (keeps nothing)
	-@test -x $(PY) && $(OPS) dashboards stop
	-@test -x $(PY) && $(OPS) airflow stop
	-@test -x $(PY) && $(OPS) db stop
	rm -rf $(VENV) .pgdata .build dbt_project/target dbt_project/logs logs .pytest_cache .ruff_cache *.egg-info
