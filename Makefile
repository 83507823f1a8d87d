# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app auditflow
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Two workers: the suite runs every database test on SQLite and PostgreSQL. The slowest
# fifteen tests are listed at the end, so a slow newcomer is seen.
PYTEST_ARGS ?= -n 2 --durations=15

export AUDITFLOW_ENV ?= development

.PHONY: run prod test install migrate seed lint bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools  # the venv's own are old, with known flaws
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# KRDS (krds-uiux) styles, scripts and fonts, served by Flask from node_modules.
NPM_STAMP := node_modules/.installed
$(NPM_STAMP): package.json $(wildcard package-lock.json)
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

# hwpx-kit-cli, one of the independent readers the HWPX tests run, pins python-hwpx below 3
# while the application needs 6: it gets a virtual environment of its own.
HWPX_KIT := $(VENV)/hwpx-kit
$(HWPX_KIT)/.installed: Makefile
	test -x $(HWPX_KIT)/bin/python || $(PYTHON) -m venv $(HWPX_KIT)
	$(HWPX_KIT)/bin/pip install --quiet 'hwpx-kit-cli==0.13.1'
	touch $@

install: $(BIN)/.installed $(NPM_STAMP) $(HWPX_KIT)/.installed

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed --demo

# The web server and the background worker (e-mail, daily reminders) together (Procfile).
run: seed
	@echo "auditflow: http://$(HOST):$(PORT)/  (web and worker; Ctrl-C stops both)"
	HOST=$(HOST) $(BIN)/honcho start -f Procfile -p $(PORT)

# Production: gunicorn (deploy/gunicorn.conf.py: AUDITFLOW_WEB_WORKERS, _THREADS, _TIMEOUT) and
# the worker (Procfile.prod), with AUDITFLOW_ENV=production. Needs AUDITFLOW_SECRET_KEY and,
# for more than a trial, AUDITFLOW_DATABASE_URL (PostgreSQL) and AUDITFLOW_QUEUE_URL (Redis).
# It migrates the database, refuses what production must not run (flask production check:
# demo accounts; the settings: no secret key, SQLite on several machines), then serves on
# HOST:PORT. Request counts of every gunicorn worker add up in PROMETHEUS_MULTIPROC_DIR.
prod: export AUDITFLOW_ENV = production
prod: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/instance/prometheus
prod: install
	@test -n "$$AUDITFLOW_SECRET_KEY" || { echo "make prod: AUDITFLOW_SECRET_KEY를 설정하세요 / set AUDITFLOW_SECRET_KEY (python -c 'import secrets; print(secrets.token_hex(32))'), and AUDITFLOW_DATABASE_URL, AUDITFLOW_QUEUE_URL" >&2; exit 1; }
	$(FLASK) db upgrade
	$(FLASK) production check
	rm -rf "$$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"
	@echo "auditflow (production): http://$(HOST):$(PORT)/  (gunicorn and worker; Ctrl-C stops both)"
	HOST=$(HOST) $(BIN)/honcho start -f Procfile.prod -p $(PORT)

# Without PYTHONDONTWRITEBYTECODE (set in some shells and images): every worker, and every
# process a test starts (flask commands, report_files.py, the benchmarks), would otherwise
# compile the application and the tests (and pytest rewrite their asserts) anew each time;
# collecting alone takes some 18 s instead of 7. The compiled files go to __pycache__/
# (ignored by git).
test: install
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest $(PYTEST_ARGS)

# Style (ruff), types (mypy, strict, configured in pyproject.toml), the architecture
# (import-linter: the layers and the leaves, see docs/architecture.md) and the installed
# packages' known vulnerabilities (pip-audit: a finding fails; a service that cannot be
# reached is reported, see tools/dependency_audit.py).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/dependency_audit.py

bench: install
	$(BIN)/python bench/summary_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache
