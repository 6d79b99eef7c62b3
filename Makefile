# Two commands on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test bench browser install clean engines test-postgres test-spark

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "accord needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,browser,postgres]'
	@# byte-compile now, as a wheel install does: an editable install otherwise compiles every module
	@# again in each run wherever Python may not write its bytecode cache
	$(BIN)/python -m compileall -q accord
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/accord demo

# the test extras: `accord import` (import) and dbt with MetricFlow on DuckDB for the parity tests (dbt)
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,import,dbt]'
	@touch $(TEST_STAMP)

test: $(TEST_STAMP) browser engines
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

# Pages are checked in headless Chromium through Playwright, driving Debian's chromium (installed here when
# missing and we are root); Playwright's own browser download is never used.
CHROMIUM ?= /usr/bin/chromium
browser: $(STAMP)
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && apt-get install -y -q chromium; \
	  else echo "browser: $(CHROMIUM) not found; install Debian's chromium (apt-get install chromium)"; fi; \
	fi

# The engines the tests start themselves: psycopg and pyspark (extras), and, when root on Debian without
# them, the PostgreSQL server binaries (the tests run initdb and pg_ctl as the postgres system user).
engines: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,postgres,spark]'
	@if [ "$$(id -u)" = 0 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi

test-postgres: engines
	ACCORD_REQUIRE=postgres $(BIN)/python -m pytest -p no:cacheprovider tests/test_engine_postgres.py

test-spark: engines
	ACCORD_REQUIRE=spark $(BIN)/python -m pytest -p no:cacheprovider tests/test_engine_spark.py

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m compileall -q accord bench
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) accord-demo bench/data
