# Two entry points for a fresh machine: `make run` and `make test`.
# Both create .venv with a Python >= 3.12 found on the PATH and install the project into it.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint bench clean

$(STAMP): pyproject.toml
	@PYTHON=$$(sh .ci/find-python) || exit 1; \
	echo "using $$PYTHON ($$($$PYTHON --version 2>&1))"; \
	[ -x $(PY) ] || $$PYTHON -m venv $(VENV); \
	$(PY) -m pip install --quiet --upgrade pip; \
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m tokenomy.abm.warmup
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tokenomy viz classroom

# The model's tests in two worker processes, one per core (tests of one xdist_group share a worker); then the app's
# (tests/viz: servers, browsers and whole classroom games, whose waits are for pages a loaded machine draws late) in
# one process, with both cores to themselves.  The slowest tests are listed: the whole CI run must stay under 20
# minutes on a two-core machine.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15 --ignore=tests/viz
	$(VENV)/bin/pytest --durations=15 tests/viz

# the quick loop while editing: everything but whole-horizon runs, sweeps, wheel installs and the browser
test-fast: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup -m "not slow and not browser" --ignore=tests/viz
	$(VENV)/bin/pytest -m "not slow and not browser" tests/viz

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) benchmarks/bench_days.py
	$(PY) benchmarks/bench_browser.py

clean:
	rm -rf $(VENV) build *.egg-info
	find abm agents networks viz -name __pycache__ -type d -prune -exec rm -rf {} +  # compiled kernels too
