# Two entry points: `make demo` and `make test`. Each bootstraps .venv idempotently from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PIPFLAGS ?= --disable-pip-version-check -q

.PHONY: demo test lint bench clean install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# re-install only when the project or its pins change
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install $(PIPFLAGS) -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install $(PIPFLAGS) -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# the demo report (style transfer and DCGAN, explained): reports/demo/index.html
demo: $(VENV)/.installed
	$(BIN)/xstyle report demo --out reports/demo

test: $(VENV)/.installed-dev
	$(BIN)/ruff check xstyle tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check xstyle tests benchmarks
	$(BIN)/ruff format --check xstyle tests benchmarks

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_transfer.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
