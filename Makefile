# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app auditflow
HOST   ?= 127.0.0.1
PORT   ?= 5000

export AUDITFLOW_ENV ?= development

.PHONY: run test install migrate seed lint bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed

run: seed
	@echo "auditflow: http://$(HOST):$(PORT)/"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/summary_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache
