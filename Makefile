# Every target installs what it needs into .venv, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: setup demo test test-real lint typecheck unit bench bench-smoke clean

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

## loadgroup: tests of one xdist_group share a worker: a rendered example's, and the
## control-plane suites ("controlplane"), so that one control plane serves them all.
unit: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## RunFunction latency, throughput and peak RSS against the SDK floor (~90 s); writes docs/benchmarks.md.
bench: setup
	$(BIN)/python bench/run.py

## The same in a few seconds, without touching docs/ (CI runs it through tests/test_bench_smoke.py).
bench-smoke: setup
	$(BIN)/python bench/run.py --smoke

## The real-tool suites (tests/realtools): the Crossplane CLI and core, kube-apiserver and etcd
## from ../shared/bin (or $$CROSSPLANE_BIN, ... ; see tests/realtools/toolbox.py).
test-real: setup
	$(BIN)/python -m pytest tests/realtools

## Everything CI runs.
test: lint typecheck unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
