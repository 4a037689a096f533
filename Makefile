# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# The embedded default: SQLite file, Celery eager. DEBUG only for local runs.
export DEBUG ?= 1

.PHONY: demo test lint check-deploy openapi run bench-ledger bench-fund bench-loans bench-schedules clean system-deps fonts

# Installed with uv (from PyPI) when it can be had: it fetches and installs in parallel, about half
# pip's time on a fresh machine; plain pip otherwise.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	{ $(PY) -m pip install -q uv && $(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'; } || \
	  { $(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -e '.[dev]'; }
	rm -f $(VENV)/.installed-*
	touch $@

# The demo needs only the PDF font; Chromium is for the browser tests.
demo: $(STAMP) fonts
	$(PY) manage.py demo

test: $(STAMP) system-deps lint check-deploy
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

# Production-like settings: DEBUG off, a real secret, HTTPS. Must be clean.
check-deploy: $(STAMP)
	DEBUG=0 SECRET_KEY=$$(PYTHONWARNINGS=ignore $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  ALLOWED_HOSTS=trovon.example.org $(PY) manage.py check --deploy --fail-level WARNING

# The API's schema snapshot (docs/openapi.json), checked by tests/api/test_openapi_snapshot.py:
# run after an intended change to the API and commit the file with the change.
openapi: $(STAMP)
	$(PY) manage.py shell -v0 -c 'from apicommon.schema import snapshot_write; snapshot_write()'

# Debian packages: the DejaVu font renders every Vietnamese letter in PDFs; Chromium for the
# browser tests.
fonts:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf || \
	  { echo "installing fonts-dejavu-core"; apt-get update -qq && apt-get install -y -qq fonts-dejavu-core; }

system-deps: fonts
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  { echo "installing chromium and chromium-driver (browser tests)"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

# The web server and, beside it, the scheduled jobs (fund/scheduler.py: in-process on the
# embedded default, catching up the close of business first; celery worker --beat with Redis).
run: $(STAMP)
	$(PY) manage.py migrate -v0
	$(PY) manage.py run_jobs & jobs=$$!; trap 'kill $$jobs 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:8000

bench-ledger: $(STAMP)
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/trovon_bench} $(PY) bench/ledger.py

bench-fund: $(STAMP)
	$(PY) bench/fund_import.py

bench-loans: $(STAMP)
	$(PY) bench/loans.py

bench-schedules: $(STAMP)
	$(PY) bench/schedules.py

# PostgreSQL benchmarks of servicing, jobs and the web app (each ends with one JSON line).
BENCH_PG = DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/trovon_bench}

bench-servicing: $(STAMP)
	$(BENCH_PG) $(PY) bench/servicing.py

bench-jobs: $(STAMP)
	$(BENCH_PG) $(PY) bench/jobs.py

bench-web: $(STAMP)
	$(BENCH_PG) $(PY) bench/web.py

clean:
	rm -rf var/*.sqlite3 var/media var/reports
