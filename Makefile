# The two commands of the README: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JSSIP := src/teleplex/web/static/vendor/jssip.min.js
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres setup asterisk clean

# The browser tests drive Debian's chromium: installed here when missing and root; otherwise they skip, saying why.
setup: $(STAMP) $(JSSIP)
	@command -v chromium >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; \
	else echo "chromium is missing and this is not root: the browser tests will skip"; fi; }

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# The browser phone's JsSIP from npm (package-lock.json), bundled for the browser into a git-ignored file.
$(JSSIP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -q npm; } || \
		{ echo "npm is missing: install Node.js and npm (the browser phone's JsSIP comes from npm)"; exit 1; }
	npm ci --no-audit --no-fund
	npm run --silent build

# Voice runs on the Asterisk sandbox when this is root on a Debian-like machine; otherwise serve says why not.
run: setup
	$(BIN)/teleplex migrate
	$(BIN)/teleplex serve --sandbox

# The Asterisk sandbox (a Debian sid tree with Asterisk, cached under var/asterisk) needs root; without it the
# Asterisk tests skip with the reason, except in CI where they must run.
asterisk: setup
	$(BIN)/teleplex asterisk sandbox build || [ -z "$$CI" ]

# The whole suite on the embedded SQLite database, then every database test again on PostgreSQL.
test: setup asterisk
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: setup
	env -u TELEPLEX_DATABASE_URL $(BIN)/pytest -q --durations=10

test-postgres: setup
	TELEPLEX_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -m db --durations=10

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
