# Entry points: `make demo`, `make test` (the fast tier, a few minutes) and `make test-all` (everything,
# what CI runs). Each bootstraps .venv idempotently from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PIPFLAGS ?= --disable-pip-version-check -q

.PHONY: demo test test-all lint bench bench-quick clean install install-dev

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

# the fast tier: every module and command on tiny inputs; a test that hangs fails after TEST_TIMEOUT s
TEST_TIMEOUT ?= 120
test: $(VENV)/.installed-dev
	$(BIN)/ruff check xstyle tests benchmarks notebooks/_build_notebooks.py docs/scripts
	$(BIN)/python -m pytest -q --timeout=$(TEST_TIMEOUT) --durations=15

# everything: the fast tier plus the slow end-to-end tier (real reports, Ray, training, notebooks,
# the browser, every benchmark's --quick run)
test-all: $(VENV)/.installed-dev
	$(BIN)/ruff check xstyle tests benchmarks notebooks/_build_notebooks.py docs/scripts
	$(BIN)/python -m pytest -q --run-slow --durations=30

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check xstyle tests benchmarks notebooks/_build_notebooks.py docs/scripts
	$(BIN)/ruff format --check xstyle tests benchmarks notebooks/_build_notebooks.py docs/scripts

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_transfer.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
