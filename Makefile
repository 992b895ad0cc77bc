# Two commands for a newcomer: `make run` and `make test`. Everything they need is installed from here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := static/vendor
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint typecheck setup assets browser init seed serve clean

run: setup init  ## Set everything up, load reference and demo data, serve on http://127.0.0.1:8000
	$(BIN)/supplier-intel seed-demo --if-empty
	$(BIN)/supplier-intel serve

test: setup browser lint typecheck  ## The whole suite: lint, types, tests on SQLite and PostgreSQL, browser
	$(BIN)/pytest

lint:
	$(BIN)/ruff check app tests alembic bench
	$(BIN)/ruff format --check app tests bench

typecheck:
	$(BIN)/mypy

setup: $(VENV)/.installed $(VENDOR)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Front-end packages come from npm at the versions pinned in package-lock.json, copied into static/vendor.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/govuk-frontend $(VENDOR)/htmx
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(VENDOR)/govuk-frontend/
	cp -r node_modules/govuk-frontend/dist/govuk/assets $(VENDOR)/govuk-frontend/assets
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	touch $@

# Browser tests drive Debian's chromium (a browser download does not work here).
browser:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

init: setup
	$(BIN)/supplier-intel init

serve: setup
	$(BIN)/supplier-intel serve

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var .mypy_cache .ruff_cache .pytest_cache

# Search benchmark: builds a corpus in var/bench/, times reindex and searches (in-process and over HTTP with one
# uvicorn worker), and rewrites docs/benchmarks.md. REVIEWS=20000 for a quick run.
REVIEWS ?= 100000
.PHONY: bench-search
bench-search: $(VENV)/.installed
	$(BIN)/python -m bench.search --reviews $(REVIEWS)
