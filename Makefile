# Every target installs what it needs into .venv, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: setup demo test test-all lint typecheck unit unit-all golden bench bench-smoke clean

$(STAMP): pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

setup: $(STAMP)

## The main job: the seed claim converging against the built-in fake provider.
demo: setup
	$(BIN)/function-vcluster-environment simulate examples/claim-seed.yaml \
		--input compositions/composition-legacy.yaml

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: setup
	$(BIN)/mypy function

## The fast loop's tests: everything but the slow ones (servers, load, property tests).
unit: setup
	$(BIN)/python -m pytest -n 2 -m "not slow"

unit-all: setup
	$(BIN)/python -m pytest -n 2

## Re-record tests/golden/ from the current code: only for a change meant to change the output.
golden: setup
	GOLDEN_UPDATE=1 $(BIN)/python -m pytest tests/test_golden.py -p no:xdist

## RunFunction latency, throughput and peak RSS against the SDK floor (~90 s); writes docs/benchmarks.md.
bench: setup
	$(BIN)/python bench/run.py

## The same in a few seconds, without touching docs/ (CI runs it through tests/test_bench_smoke.py).
bench-smoke: setup
	$(BIN)/python bench/run.py --smoke

## The fast loop while working: lint, type check and every test not marked slow.
test: lint typecheck unit

## Everything CI runs: the fast loop and the slow tests too.
test-all: lint typecheck unit-all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
