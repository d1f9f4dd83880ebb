# Two commands: `make run` (set up and start the portal) and `make test` (set up and run every check).
SHELL := /bin/bash
.DEFAULT_GOAL := run
PYTHON ?= python3.11
# Python keeps compiled modules (and pytest its rewritten test modules) in __pycache__: with
# PYTHONDONTWRITEBYTECODE set, as this kind of machine sets it, every process make starts (each pytest worker, each
# server and worker a test starts) compiled the project and its tests again, a third of a test run's collection.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# make run: nginx (the front door, deploy/nginx/) listens on PORT; gunicorn listens behind it, on loopback only.
GUNICORN_PORT ?= $(shell echo $$(( $(PORT) + 1 )))
export PORT GUNICORN_PORT
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/helpline
REDIS_URL ?= redis://127.0.0.1:6379/0
export DATABASE_URL REDIS_URL
# DATABASE_URL names the schema's owner, which runs migrations and the set-up. The services (make run, and
# the processes tests start) connect as RUNTIME_ROLE instead: INSERT and SELECT only on the audit trail
# (core/roles.py). make creates the role; the migrations grant its privileges.
RUNTIME_ROLE ?= helpline_app
export DATABASE_RUNTIME_ROLE := $(RUNTIME_ROLE)
RUNTIME_DATABASE_URL := $(subst ://postgres@,://$(RUNTIME_ROLE)@,$(DATABASE_URL))
PG_HOST := 127.0.0.1
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get
# Debian's clamd, mat2 and bubblewrap, which the workers run on attachments (their rules are below nginx's).
ATTACHMENT_TOOLS := /usr/sbin/clamd /usr/bin/mat2 /usr/bin/bwrap

.PHONY: run test test-fast fuzz setup setup-test venv lock assets services database migrate data lint typecheck bench bench-attachments bench-audit bench-stats bench-list bench-lifecycle bench-patterns soak screenshots clean

# Every package at the version and hash requirements/lock.txt pins (development extras included), then the
# project itself: hash-checking refuses an editable install, so it goes in on its own, adding nothing.
LOCK := requirements/lock.txt
PRODUCTION_LOCK := requirements/production.txt
$(BIN)/.installed: pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: $(BIN)/.installed

# Regenerate the lock from pyproject.toml with pip-tools, in a venv of its own (var/lock-venv). Pins already in
# the lock are kept while they still fit; `make lock LOCK_ARGS=--upgrade` moves everything to the newest.
PIP_TOOLS := pip-tools==7.6.2
LOCK_ARGS ?=
lock:
	test -x var/lock-venv/bin/pip-compile || { $(PYTHON) -m venv var/lock-venv \
		&& var/lock-venv/bin/pip install --quiet --disable-pip-version-check '$(PIP_TOOLS)'; }
	CUSTOM_COMPILE_COMMAND='make lock' var/lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev \
		--no-emit-index-url --no-emit-find-links $(LOCK_ARGS) --output-file $(LOCK) pyproject.toml
	# The production image's lock (Dockerfile): the same pins without the development extras, seeded from the
	# full lock so both name the same versions.
	cp $(LOCK) $(PRODUCTION_LOCK)
	CUSTOM_COMPILE_COMMAND='make lock' var/lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file $(PRODUCTION_LOCK) pyproject.toml

static/vendor/govuk/.built: package.json package-lock.json
	# --ignore-scripts: vnu-jar's install script would fetch a Java runtime when none is found; ours is Debian's.
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf static/vendor/govuk && mkdir -p static/vendor/govuk
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/vendor/govuk/
	# The stylesheet points its fonts and images at /assets/: serve them from our static folder instead.
	sed 's#/assets/#/static/vendor/govuk/assets/#g' node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css \
		> static/vendor/govuk/govuk-frontend.min.css
	cp -r node_modules/govuk-frontend/dist/govuk/assets static/vendor/govuk/
	touch $@

assets: static/vendor/govuk/.built

# PostgreSQL and Redis normally run already; start them if not (commands from the machine notes). Redis on the
# port REDIS_URL names (6379 when it names none).
REDIS_PORT := $(or $(shell echo '$(REDIS_URL)' | sed -nE 's#^rediss?://([^@/]*@)?[^:/]+:([0-9]+).*#\2#p'),6379)
services:
	@pg_isready -q -h $(PG_HOST) || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -q -h $(PG_HOST) && break; sleep 1; done
	@redis-cli -h 127.0.0.1 -p $(REDIS_PORT) ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 \
		--port $(REDIS_PORT) --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci-$(REDIS_PORT).log
	@for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p $(REDIS_PORT) ping >/dev/null 2>&1 && break; sleep 1; done

# The database DATABASE_URL names (its last path segment), created if it is missing.
DB_NAME := $(firstword $(subst ?, ,$(lastword $(subst /, ,$(DATABASE_URL)))))
database: services
	@psql -h $(PG_HOST) -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(DB_NAME)'" | grep -q 1 \
		|| createdb -h $(PG_HOST) -U postgres "$(DB_NAME)"
	@psql -h $(PG_HOST) -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$(RUNTIME_ROLE)'" | grep -q 1 \
		|| psql -q -h $(PG_HOST) -U postgres -c 'CREATE ROLE "$(RUNTIME_ROLE)" LOGIN'

migrate: venv database
	$(BIN)/python manage.py migrate --no-input -v 0

data: migrate
	$(BIN)/python manage.py generate_dev_keys
	$(BIN)/python manage.py load_local_authorities
	$(BIN)/python manage.py seed_demo -v 0

# The last step renders the GOV.UK pages nginx answers with itself (413, 502, …) from the project's templates.
setup: venv assets data /usr/sbin/nginx $(ATTACHMENT_TOOLS)
	$(BIN)/python manage.py collectstatic --no-input -v 0
	$(BIN)/python deploy/nginx/error_pages.py var/nginx/pages
	$(BIN)/python manage.py clamav_setup --test-signatures

# Debian's Chromium for the browser tests, and Debian's docker-compose to validate docker-compose.yml.
/usr/bin/chromium:
	$(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null

# Java for the Nu HTML Checker (vnu-jar from npm), which checks every page the browser tests load.
/usr/bin/java:
	$(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null

/usr/bin/docker-compose:
	$(APT_GET) update -qq && $(APT_GET) install -y -qq docker-compose >/dev/null

# Debian's nginx, the front door of `make run` and of the tests that need one (deploy/nginx/). apt-get update only
# when the install fails without it. RUNLEVEL=1: without systemd (CI), the package does not start its own default
# server on port 80; ours is started by make run and the tests, with its own configuration.
NGINX_INSTALL := RUNLEVEL=1 $(APT_GET) install -y -qq --no-install-recommends nginx >/dev/null
/usr/sbin/nginx:
	$(NGINX_INSTALL) 2>&1 || { $(APT_GET) update -qq && $(NGINX_INSTALL); }

# The workers' tools for attachments (docs/attachments.md): Debian's ClamAV daemon (clamd), mat2 and bubblewrap,
# each without its recommends. A machine that already has them skips this; one that has not gets them here.
# RUNLEVEL=1: without systemd (CI) the packages start no service. With systemd, the packaged clamav-daemon and
# clamav-freshclam services are stopped and disabled once installed: clamd runs with the project's own
# configuration (manage.py clamav_setup, var/clamav/), started by make run's supervisord and by the tests.
APT_INSTALL = RUNLEVEL=1 $(APT_GET) install -y -qq --no-install-recommends $(1) >/dev/null
/usr/sbin/clamd:
	$(call APT_INSTALL,clamav-daemon) 2>&1 || { $(APT_GET) update -qq && $(call APT_INSTALL,clamav-daemon); }
	if [ -d /run/systemd/system ]; then \
		systemctl disable --now clamav-daemon.service clamav-daemon.socket clamav-freshclam.service 2>/dev/null || true; fi

/usr/bin/mat2:
	$(call APT_INSTALL,mat2) 2>&1 || { $(APT_GET) update -qq && $(call APT_INSTALL,mat2); }

/usr/bin/bwrap:
	$(call APT_INSTALL,bubblewrap) 2>&1 || { $(APT_GET) update -qq && $(call APT_INSTALL,bubblewrap); }

setup-test: venv assets database /usr/bin/chromium /usr/bin/docker-compose /usr/sbin/nginx /usr/bin/java $(ATTACHMENT_TOOLS)
	$(BIN)/python manage.py generate_dev_keys
	$(BIN)/python manage.py collectstatic --no-input -v 0

# make run pages by SMS through GOV.UK Notify's own client, sent to the project's fake Notify on loopback
# (notify/fakenotify.py, started by supervisord): its texts are listed at http://127.0.0.1:FAKE_NOTIFY_PORT/_fake/requests.
FAKE_NOTIFY_PORT ?= 8025
DEV_NOTIFY_API_KEY := helplinedev-0d1c6a52-3f7e-4b8a-9c21-6e5d4f3a2b10-7f3e2d1c-0b9a-4c8d-8e7f-6a5b4c3d2e1f
DEV_NOTIFY_PAGE_TEMPLATE_ID := 5b7c1f0e-2d3a-4e6b-8f9a-0c1d2e3f4a5b
run: export FAKE_NOTIFY_PORT := $(FAKE_NOTIFY_PORT)
run: export NOTIFY_API_KEY := $(DEV_NOTIFY_API_KEY)
run: export NOTIFY_BASE_URL := http://127.0.0.1:$(FAKE_NOTIFY_PORT)
run: export NOTIFY_PAGE_TEMPLATE_ID := $(DEV_NOTIFY_PAGE_TEMPLATE_ID)
run: export DUTY_MANAGER_PHONE ?= 07700 900999
run: setup
	@$(BIN)/python manage.py seed_demo --print-only
	@echo "Starting the portal on http://127.0.0.1:$(PORT)/ (staff workspace at /staff/). Ctrl-C stops everything."
	@echo "Pages by SMS go to the fake GOV.UK Notify: http://127.0.0.1:$(FAKE_NOTIFY_PORT)/_fake/requests"
	@$(BIN)/supervisorctl -c deploy/supervisord.dev.conf shutdown >/dev/null 2>&1 || true  # an earlier make run
	mkdir -p var && MIGRATION_DATABASE_URL=$(DATABASE_URL) DATABASE_URL=$(RUNTIME_DATABASE_URL) \
		exec $(BIN)/supervisord -c deploy/supervisord.dev.conf

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

typecheck: venv
	$(BIN)/mypy .

# The whole suite in two passes that together run every test once: the unit tier on two pytest-xdist workers
# (each with its own test database), then the browser, real-process and slow tests one at a time, since they
# share ports, a broker database and the browser. Measured in docs/testing.md.
FAST_TIER := not e2e and not worker and not slow
# Browser tests with no real worker or server process of their own (each xdist worker has its own test
# database, live server, Chromium and Nu checker on free ports), and slow tests marked isolated (their own
# test database and nothing else: tests/conftest.py refuses one that starts anything), two at a time too.
BROWSER_TIER := (e2e and not worker and not slow) or (isolated and not worker and not e2e)
test: setup-test lint typecheck
	$(BIN)/python manage.py makemigrations --check --dry-run
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pytest -n 2 --durations=15 -m "$(FAST_TIER)"
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pytest -n 2 --durations=25 -m "$(BROWSER_TIER)"
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pytest --durations=25 -m "not ($(FAST_TIER)) and not ($(BROWSER_TIER))"

# The unit tier for the edit-test loop (about 4,600 tests in 5 to 7 minutes here): no browser (e2e), no real worker, gunicorn or
# nginx (worker), nothing slow; two pytest-xdist workers, each with its own test database. Lint and types are
# `make lint typecheck`. `make test` stays the whole suite and is what CI runs.
test-fast: venv assets database
	$(BIN)/python manage.py generate_dev_keys
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/pytest -q -n 2 -m "$(FAST_TIER)"

# Hypothesis and schemathesis with fresh random seeds and FUZZ_EXAMPLES_FACTOR times the examples, round after
# round until FUZZ_MINUTES have passed (a round that has started runs to its end). Stops at the first failure
# and prints the round's seed: `make fuzz FUZZ_SEED=<seed>` replays that round. Not part of `make test`.
FUZZ_MINUTES ?= 10
FUZZ_EXAMPLES_FACTOR ?= 5
FUZZ_SEED ?=
FUZZ_TESTS := tests/reports/test_bad_input.py tests/reports/test_api_schemathesis.py tests/helpline/test_malformed_requests.py \
	tests/oversight/test_suppression.py tests/oversight/test_suppression_equivalence.py \
	tests/test_bad_input_forms_and_staff_api.py
fuzz: setup-test
	@start=$$(date +%s); end=$$(( start + $(FUZZ_MINUTES) * 60 )); round=0; \
	while [ $$round -eq 0 ] || [ $$(date +%s) -lt $$end ]; do \
		round=$$(( round + 1 )); seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
		echo "== fuzz round $$round, seed $$seed, $(FUZZ_EXAMPLES_FACTOR)x examples"; \
		HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES_FACTOR=$(FUZZ_EXAMPLES_FACTOR) PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
			$(BIN)/pytest -q -x --hypothesis-seed=$$seed $(FUZZ_TESTS) \
			|| { echo "== fuzz FAILED in round $$round: replay with make fuzz FUZZ_SEED=$$seed"; exit 1; }; \
		[ -z "$(FUZZ_SEED)" ] || break; \
	done; \
	echo "== fuzz passed: $$round rounds in $$(( ($$(date +%s) - start) / 60 )) minutes, no server error"

# Intake, routing and memory (bench/run.py), then attachments (bench/attachments.py): both on the bench's own
# database (helpline_bench, BENCH_DATABASE) and Redis database 14 (BENCH_REDIS_URL), one after the other; then
# the lifecycle (bench/lifecycle.py, below) on databases of its own.
bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/attachments.py
	$(BIN)/python bench/lifecycle.py --cases $(BENCH_LIFECYCLE_CASES)

# Attachments alone: a 10 MiB upload against its floor, scan + strip + re-seal per type, and gunicorn's and the
# worker's RSS with 4 uploads of 5 and then 20 MiB at once, against a clamd of its own and Debian's mat2.
bench-attachments: setup
	$(BIN)/python bench/attachments.py

# Statistics, their CSVs and the alerts (bench/oversight_stats.py), and the helpline's case list and home
# (bench/list_page.py), at BENCH_CASES cases (1,000,000 unless given) on their own databases. Not in `make test`.
BENCH_CASES ?= 1000000
bench-stats: setup
	$(BIN)/python bench/oversight_stats.py --cases $(BENCH_CASES)

bench-list: setup
	$(BIN)/python bench/list_page.py --cases $(BENCH_CASES)

# Legal hold, extension, retention shredding, key rotation (cases/s) and backup + restore (seconds), each against a
# floor measured in the same run, at BENCH_LIFECYCLE_CASES seeded cases (100,000 unless given), on a copy of a
# database seeded once and kept (helpline_bench_lifecycle_<N>; its keys in var/bench-lifecycle/). Not in `make test`.
BENCH_LIFECYCLE_CASES ?= 100000
bench-lifecycle: setup
	$(BIN)/python bench/lifecycle.py --cases $(BENCH_LIFECYCLE_CASES)

# Events per second with 1, 2 and 8 concurrent audit writers, and the case page under concurrent views
# (bench/audit_lock.py, its own database; docs/adr/0003-audit-chain-lock.md). Not part of `make test`.
bench-audit: setup
	$(BIN)/python bench/audit_lock.py

# Every kind of user at once for SOAK_MINUTES against gunicorn, a Celery worker and beat on their own database
# (helpline_soak) and Redis database 12: p95 per page type, errors, RSS per minute (bench/soak.py; the summary
# goes to var/soak/summary.md). Not part of `make test`. `make soak SOAK_MINUTES=1` is a smoke run.
SOAK_MINUTES ?= 10
# Pattern detection measured (issue 29): a seeded 3-year history with injected clusters, replayed week by week
# beside the old threshold rules (bench/patterns.py, its own database helpline_bench_patterns). Not in `make test`.
bench-patterns: setup
	$(BIN)/python bench/patterns.py

soak: setup
	SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python bench/soak.py

# Full-page screenshots at 1280 px (the helpline's home, case page and case list, staff administration,
# statistics, the authority's referral list and referral, the reporter's follow-up page) into docs/screenshots/, from their own database
# (helpline_screenshots) served by gunicorn: bench/screenshots.py. Not part of `make test`.
screenshots: setup
	$(BIN)/python bench/screenshots.py

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles var
