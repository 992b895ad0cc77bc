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

test: setup browser pg-client lint typecheck  ## The whole suite: lint, types, tests on SQLite and PostgreSQL, browser
	$(BIN)/pytest

lint:
	$(BIN)/ruff check app tests alembic bench
	$(BIN)/ruff format --check app tests bench

typecheck:
	$(BIN)/mypy

setup: $(VENV)/.installed $(VENDOR)/.installed

# Every Python package, runtime and dev, installs at the version pinned in constraints.txt (see `make lock`).
$(VENV)/.installed: pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# Rewrites constraints.txt from pyproject.toml's dependencies (runtime and dev). Run it after changing them: pins that
# still fit are kept and new packages are added. `make lock UPGRADE=1` moves every pin to the newest allowed version.
.PHONY: lock audit pg-client
lock:
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'pip-tools>=7.4,<8'
	CUSTOM_COMPILE_COMMAND='make lock' $(BIN)/pip-compile --quiet --extra dev --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade) --output-file constraints.txt pyproject.toml

# Known vulnerabilities in the pinned packages, from PyPI's advisory data; skipped with a message when PyPI is out
# of reach (an offline machine). Ignored, with the reason in docs/security.md: GHSA-wj6h-64fc-37mp (CVE-2024-23342,
# a timing attack on ECDSA signing in `ecdsa`, which python-jose installs but this service never calls: HS256 only).
AUDIT_IGNORE := GHSA-wj6h-64fc-37mp
audit: $(VENV)/.installed
	@if $(BIN)/python -c "import urllib.request; urllib.request.urlopen('https://pypi.org/pypi/pip-audit/json', timeout=5)" 2>/dev/null; then \
		$(BIN)/pip-audit --requirement constraints.txt --no-deps --disable-pip --progress-spinner off \
			$(foreach id,$(AUDIT_IGNORE),--ignore-vuln $(id)); \
	else echo "make audit: PyPI is not reachable, so the audit was skipped."; fi

# Backups of PostgreSQL use pg_dump and pg_restore from Debian's postgresql-client (`supplier-intel backup`).
pg-client:
	@command -v pg_dump >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client >/dev/null; }

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

# HTTP benchmark: every bar of quality.md's Performance section over HTTP (one uvicorn worker), beside Datasette
# (installed in bench/.venv-datasette), on SQLite and on PostgreSQL at 127.0.0.1:5432; rewrites
# docs/benchmarks-http.md. 200,000 reviews by default; `make bench REVIEWS=20000` for a quick run.
.PHONY: bench
bench: $(VENV)/.installed
	$(BIN)/python -m bench.http --reviews $(if $(filter command line,$(origin REVIEWS)),$(REVIEWS),200000)

# Soak: several clients send the benchmark's mixed load at once for MINUTES minutes (5 by default) to one uvicorn
# worker; fails on any failed request or growing memory; rewrites docs/benchmarks-soak.md.
MINUTES ?= 5
.PHONY: soak
soak: $(VENV)/.installed
	$(BIN)/python -m bench.soak --minutes $(MINUTES)
