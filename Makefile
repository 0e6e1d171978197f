# Haven: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HASH := $(shell sha1sum pyproject.toml | cut -c1-10)
RUN_STAMP := $(VENV)/.run-$(HASH)
DEV_STAMP := $(VENV)/.dev-$(HASH)
PYTEST := $(PY) -m pytest -q -p no:cacheprovider

.PHONY: run test install install-dev test-sqlite test-postgres test-browser lint typecheck deploy-check messages clean bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	rm -f $(VENV)/.run-*; touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.dev-* $(VENV)/.run-*; touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

## make run: install, migrate, first-start setup, serve on http://127.0.0.1:8000
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py migrate --noinput --database keys --verbosity 0
	$(PY) manage.py first_start
	$(PY) manage.py demo_data
	$(PY) manage.py demo_cases
	$(PY) manage.py demo_monitoring
	$(PY) manage.py demo_referrals
	$(PY) manage.py serve

## make test: everything CI runs
test: install-dev
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory test-browser
	$(MAKE) --no-print-directory lint typecheck deploy-check

test-sqlite: install-dev
	@echo "== unit and integration tests on SQLite"
	$(PYTEST) -m "not browser"

test-postgres: install-dev
	@url=$$($(PY) -m tests.postgres_url); status=$$?; \
	if [ $$status -eq 0 ]; then \
		echo "== unit and integration tests on PostgreSQL"; \
		HAVEN_DATABASE_URL="$$url" $(PYTEST) -m "not browser"; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable, and CI=true makes that a failure." >&2; exit 1; \
	else \
		echo "== PostgreSQL is not reachable: skipped (set HAVEN_TEST_POSTGRES to a URL)"; \
	fi

test-browser: install-dev
	@echo "== browser tests (Chromium at /usr/bin/chromium)"
	$(PYTEST) -m browser

lint: install-dev
	@echo "== ruff"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	@echo "== mypy"
	$(VENV)/bin/mypy haven

deploy-check: install-dev
	@echo "== check --deploy on production settings"
	HAVEN_ENV=production \
	HAVEN_SECRET_KEY="deploy-check-$$(head -c 48 /dev/urandom | base64 | tr -d '/+=')" \
	HAVEN_ALLOWED_HOSTS=haven.example.org \
	HAVEN_DATABASE_URL=postgresql://haven@127.0.0.1:5432/haven \
	HAVEN_KEYSTORE_URL=postgresql://haven_keys@127.0.0.1:5432/haven_keys \
	HAVEN_KEY_PROVIDER=env HAVEN_KEY_SECRETS_DIR=/run/secrets/haven \
	HAVEN_WEBAUTHN_RP_ID=haven.example.org \
	HAVEN_WEBAUTHN_ORIGINS=https://haven.example.org \
	$(PY) manage.py check --deploy --fail-level WARNING

## make bench: the benchmarks of BENCHMARKS.md, on SQLite, then on PostgreSQL when it answers
BENCH_DATA ?= quick
BENCH_ARGS ?=
# The fault soak (bench/soak.py): this many injected faults per database; 0 skips it.
BENCH_SOAK_FAULTS ?= 1000
bench: install-dev
	@echo "== benchmarks on SQLite, data: $(BENCH_DATA)"
	$(PY) bench/run.py --data $(BENCH_DATA) --soak-faults $(BENCH_SOAK_FAULTS) $(BENCH_ARGS)
	@url=$$($(PY) -m tests.postgres_url); status=$$?; \
	if [ $$status -eq 0 ]; then \
		echo "== benchmarks on PostgreSQL (throwaway databases on that server), data: $(BENCH_DATA)"; \
		$(PY) bench/run.py --data $(BENCH_DATA) --database-url "$$url" --soak-faults $(BENCH_SOAK_FAULTS) $(BENCH_ARGS); \
	else \
		echo "== PostgreSQL is not reachable: benchmarks on SQLite only (set HAVEN_TEST_POSTGRES to a URL)"; \
	fi

## make messages: refresh the translation catalogues after changing user-facing text
messages: install-dev
	cd haven && ../$(PY) ../manage.py makemessages -l fr -l es -l ar -l ru --no-obsolete --add-location file
	cd haven && ../$(PY) ../manage.py compilemessages

clean:
	rm -rf $(VENV) var
