# journey — the README's commands. `make demo` and `make test` each create .venv and install the
# pinned, tested dependency set (constraints.txt) on a machine that has only Python 3.11.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
DEMO_DAYS ?= 90
DEMO_SCALE ?= 1.0

# No tool phones home (dbt, Great Expectations, Prefect).
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: help venv demo test test-fast lint bench bench-quick clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "journey needs Python 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)  ## create .venv with the pinned dependencies

demo: $(STAMP)  ## generate the demo hospital, run the nightly flow over every day, build the docs site
	$(BIN)/journey init
	@if [ -z "$$(ls -A $${JOURNEY_DATA_DIR:-data}/landing/ehr 2>/dev/null)" ]; then \
		$(BIN)/journey generate --days $(DEMO_DAYS) --scale $(DEMO_SCALE); \
	else echo "landing already holds drops: not regenerating (make clean to start over)"; fi
	$(BIN)/journey backfill
	@echo
	$(BIN)/journey info
	@echo
	$(BIN)/journey sql "$$($(BIN)/python -c 'from journey.cli import EXAMPLE_QUERY; print(EXAMPLE_QUERY)')"
	@echo
	$(BIN)/journey mf query --metrics nps,overall_top_box_pct --group-by metric_time__month,encounter__department

test: $(STAMP)  ## lint and type-check, then run the whole test suite
	$(BIN)/ruff check src flows tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: $(STAMP)  ## unit tests only
	$(BIN)/python -m pytest -m "not slow" -n 2

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check src flows tests bench
	$(BIN)/mypy

bench: $(STAMP)  ## the benchmark at a year x 2.1, >= 10 M touchpoints (~27 min, ~55 GB in bench/data; not part of make test)
	$(BIN)/python bench/run.py

bench-quick: $(STAMP)  ## the benchmark at 14 days x 0.2 (a few minutes)
	$(BIN)/python bench/run.py --days 14 --scale 0.2 --full-repeats 3 --out bench/results/quick.json

clean:  ## remove generated data (keeps .venv)
	rm -rf data/landing data/warehouse data/site data/logs data/generator data/dbt data/.prefect
