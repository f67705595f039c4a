# Every target installs what it needs into .venv, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Where packages and images are built.
DIST ?= dist
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)
# function-pythonic, a peer in the benchmark, in a venv of its own: its SDK and protobuf pins
# are not ours. 0.1.4 is the last release that installs on Python 3.11.
PYTHONIC_VERSION := 0.1.4
PYTHONIC_VENV := .venv-pythonic
PYTHONIC_STAMP := $(PYTHONIC_VENV)/.installed-$(PYTHONIC_VERSION)

.PHONY: setup demo examples graph configuration image test test-all test-real lint typecheck unit unit-all golden bench bench-peers bench-smoke mutation mutation-check mutation-report clean

$(STAMP): pyproject.toml constraints.txt
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

setup: $(STAMP)

## The main job: the seed claim converging against the built-in fake provider.
demo: setup
	@cat examples/seed/claim.yaml && echo
	$(BIN)/function-vcluster-environment simulate examples/seed/claim.yaml \
		--input compositions/composition-legacy.yaml

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: setup
	$(BIN)/mypy function
	MYPYPATH=bench $(BIN)/mypy bench

## The fast loop's tests: everything but the slow ones (servers, load, property tests, real
## tools). loadgroup: tests of one xdist_group share a worker: a rendered example's, and the
## control-plane suites ("controlplane"), so that one control plane serves them all.
unit: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow and not realtools"

unit-all: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## Regenerate examples/<case>/xr.yaml from each claim.yaml and the observed.yaml files from simulate.
examples: setup
	$(BIN)/python hack/examples.py

## Redraw README.md's Mermaid graph of the seed claim from the code.
graph: setup
	$(BIN)/python hack/readme_graph.py

## Re-record tests/golden/ from the current code: only for a change meant to change the output.
golden: setup
	GOLDEN_UPDATE=1 $(BIN)/python -m pytest tests/test_golden.py -p no:xdist

$(PYTHONIC_STAMP):
	rm -rf $(PYTHONIC_VENV)
	$(PYTHON) -m venv $(PYTHONIC_VENV)
	$(PYTHONIC_VENV)/bin/pip install --quiet --disable-pip-version-check \
		crossplane-function-pythonic==$(PYTHONIC_VERSION)
	touch $@

## The benchmark's peers that install from PyPI: function-pythonic (function-go-templating
## comes from ../shared/bin).
bench-peers: $(PYTHONIC_STAMP)

## Server CPU per call on real-sized requests, latency, throughput and peak RSS against the SDK
## floor and the peers, in one run (~5 min); writes docs/benchmarks.md.
## BENCH_BEFORE: the code to measure beside today's on real-sized requests (the commit before
## issue 14's work, by default).
BENCH_BEFORE ?= 636fe5d
bench: setup bench-peers
	$(BIN)/python bench/run.py --before $(BENCH_BEFORE)

## The same in a few seconds, without touching docs/ (CI runs it through tests/test_bench_smoke.py).
bench-smoke: setup
	$(BIN)/python bench/run.py --smoke --no-peers

## Mutation testing (docs/mutation.md): re-run MODULES (paths; default all, about an hour on
## two idle cores) against the fast tests and update docs/mutation.json and docs/mutation.md.
mutation: setup
	$(BIN)/python hack/mutation.py run $(MODULES)

## CI's gate: re-run only the modules whose source or tests changed since the report, within
## MUTATION_BUDGET seconds; print every module's score; fail below 90% or when the budget
## runs out before a changed module is measured.
MUTATION_BUDGET ?= 900
mutation-check: setup
	$(BIN)/python hack/mutation.py check --budget-seconds $(MUTATION_BUDGET)

## What CI runs until every module is measured at 90% or more: re-run, within MUTATION_BUDGET,
## the measured modules whose source or tests changed; print every score; never fails.
mutation-report: setup
	$(BIN)/python hack/mutation.py report --budget-seconds $(MUTATION_BUDGET)

## The real-tool suites (tests/realtools): the Crossplane CLI and core, kube-apiserver and etcd
## from ../shared/bin (or $$CROSSPLANE_BIN, ... ; see tests/realtools/toolbox.py).
test-real: setup
	$(BIN)/python -m pytest tests/realtools

## The Configuration package (XRDs + Compositions + dependencies): $(DIST)/configuration.xpkg.
configuration:
	rm -rf $(DIST)/configuration && mkdir -p $(DIST)/configuration
	cp configuration/crossplane.yaml xrds/*.yaml compositions/*.yaml $(DIST)/configuration/
	$${CROSSPLANE_BIN:-../shared/bin/crossplane} xpkg build --package-root $(DIST)/configuration \
		--package-file $(DIST)/configuration.xpkg

## The runtime image and the function package embedding it, without Docker (needs root).
image:
	hack/image.sh $(DIST)/image

## The fast loop while working: lint, type check and every test not marked slow.
test: lint typecheck unit

## Everything CI runs: the fast loop and the slow tests too.
test-all: lint typecheck unit-all

clean:
	rm -rf $(VENV) $(PYTHONIC_VENV) .pytest_cache .mypy_cache .ruff_cache mutants
