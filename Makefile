# Seven/Four — `make run` serves the site with a worker; `make demo` serves it offline against built-in
# demo providers; `make test` runs the linters and the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's own database, media and rendered audio; `make run` data in var/ is never touched.
DEMO_VAR_DIR ?= var/demo

# musicnn's metadata pins numpy<1.17 and TensorFlow 1, so it can only be installed without its
# dependencies; we use nothing but the pretrained weights it ships (see docs/model.md).
MUSICNN := musicnn==0.1.0
# BeatNet's metadata asks for torch, madmom and pyaudio; the worker reads nothing but its checkpoint 1
# (CC BY 4.0) with its own torch-free reader (worker/music/beatnet.py), so it too goes in without them.
BEATNET := BeatNet==1.1.3

.PHONY: help install install-dev run demo migrate superuser test test-fast lint format bench clean

help:
	@echo "make run        install, migrate and serve http://$(HOST):$(PORT) with a Celery worker"
	@echo "make demo       the whole product offline on http://127.0.0.1:8100 (demo catalog and samples)"
	@echo "make test       lint and run the whole test suite"
	@echo "make test-fast  the tests without the real model or a browser, no lint (the edit loop)"
	@echo "make superuser  create an admin account"
	@echo "make bench      print the inference benchmark"

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	@echo "make: creating the virtual environment $(VENV) (a few seconds)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps make a second run skip the install when pyproject.toml and the pins above have not changed.
# Each long step first says on one line what it does and how long it takes (pip itself is quiet).
$(VENV)/.installed: pyproject.toml Makefile | $(BIN)/python
	@echo "make: installing the Python packages into $(VENV) (a few minutes the first time, quietly)"
	$(BIN)/pip install --quiet .
	$(BIN)/pip install --quiet --no-deps $(MUSICNN) $(BEATNET)
	@# Compiles librosa's numba functions into its cache once, so a worker's first start is not
	@# a minute of compiling (worker/warm.py).
	@echo "make: compiling the audio analysis into librosa's cache (about a minute, once)"
	$(BIN)/python -m worker.warm
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	@echo "make: installing the development tools into $(VENV) (about a minute the first time)"
	$(BIN)/pip install --quiet ".[dev]"
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# `make run` is for a developer's machine: debug on unless the environment says otherwise.
run: export DEBUG ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@# Exports the model to ONNX the first time (about 20 s), then finds it cached under var/models.
	$(BIN)/python -m worker.backbone.serving
	@echo
	@echo "  The worker logs \"model ready\" when it can take jobs (also shown at /healthz)."
	@echo "  Seven/Four is starting on http://$(HOST):$(PORT)/"
	@echo "  Create an admin account in another terminal with: make superuser"
	@echo
	HOST=$(HOST) PORT=$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

# `make demo`: no network and no keys. Fixed ports: site 8100, demo Deezer 8101, demo Freesound 8102.
# demo/__main__.py sets every setting it relies on (see demo/config.py), so a .env written for
# `make run` (PostgreSQL, Redis, real keys) does not leak in. It prints a line per step, and on
# Ctrl-C stops every process and exits 0 (so make reports no error).
demo: install
	$(BIN)/python -m demo --var-dir $(DEMO_VAR_DIR)

migrate: export DEBUG ?= 1
migrate: install
	$(BIN)/python manage.py migrate --noinput

superuser: export DEBUG ?= 1
superuser: install
	$(BIN)/python manage.py createsuperuser

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# The layers and the Django-free worker/ (contracts in pyproject.toml, picture in docs/architecture.md).
	$(BIN)/lint-imports
	@# Types (config in pyproject.toml). The django-stubs plugin loads the settings: DEBUG=1 spares a SECRET_KEY.
	DEBUG=1 $(BIN)/mypy

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install-dev lint
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	@# pytest exits 5 when it collected nothing: treat that as the failure it is.
	$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

# The edit loop: no linters, and none of the tests that load the real model or drive Chromium.
test-fast: install-dev
	$(BIN)/pytest -m "not model and not browser" $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/inference.py

clean:
	rm -rf $(VENV) var
