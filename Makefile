# The two commands a newcomer needs: `make run` and `make test`.
# Everything is installed into .venv from pyproject.toml; only Python 3.11+ is required.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint migrate seed bench clean

install: $(STAMP) .env

# Local developer defaults, git-ignored; settings never let it override the environment.
.env:
	printf '# Local development settings (git-ignored). Real environment variables win.\nDJANGO_DEBUG=1\n' > .env

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

migrate: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate --noinput

seed: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py seed_demo

# Web server on :8000 plus a Celery worker with embedded beat; one Ctrl-C stops all.
run: seed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} bin/run-dev

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The benchmark (issue 13) against the PostgreSQL in DATABASE_URL, seeded with seed_scale
# when needed; writes var/bench/latest.json. Options: make bench BENCH_ARGS="--clients 1000".
bench: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var
