# Two commands for a newcomer: `make demo` and `make test`. Both set up first (idempotent).
PY := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV)/bin/python,.venv/bin/python)
DATA ?= ../shared/datasets

.PHONY: setup demo test test-fast

setup:
	bash scripts/setup.sh

demo: setup
	$(PY) -m graph_eigen demo --out runs/demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"
