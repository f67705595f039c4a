"""The real-tool suites: every test here is marked ``realtools`` and counts its failures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import skip_or_fail

from realtools import summary, toolbox
from realtools.crank import Crank, FunctionServer

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    """Know xdist's group mark when xdist is not loaded (``-p no:xdist``)."""
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


def pytest_collection_modifyitems(items: Iterable[pytest.Item]) -> None:
    """Mark the tests of this folder, so ``-m "not realtools"`` leaves them out."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.realtools)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count a failed real-tool test (set-up, call or tear-down) in the summary line."""
    if report.failed and "realtools" in report.keywords:
        summary.record("failures")


@pytest.fixture(scope="session")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Crank:
    """The Crossplane CLI for validate and xpkg build (no function, no core)."""
    return Crank(binary=toolbox.need("crossplane"), workdir=tmp_path_factory.mktemp("crank"))


@pytest.fixture(scope="session")
def function_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FunctionServer]:
    """The function, served insecurely once per session for render to call."""
    server = FunctionServer(tmp_path_factory.mktemp("served") / "function.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def renderer(function_server: FunctionServer, tmp_path_factory: pytest.TempPathFactory) -> Crank:
    """The CLI with Crossplane core, rendering through the served function."""
    binary = toolbox.need("crossplane")
    core = toolbox.need("crossplane-core")
    workdir = tmp_path_factory.mktemp("render")
    return Crank(binary, workdir, core=core, functions=function_server.functions_file(workdir))


@pytest.fixture(scope="session")
def schemas() -> list[Path]:
    """The folders of real CRDs composed resources use: every one but the vCluster chart's."""
    crds = toolbox.shared_dir() / "crds"
    if not crds.is_dir():
        skip_or_fail(f"shared CRDs not found at {crds}")
    return sorted(path for path in crds.iterdir() if path.is_dir() and path.name != "vcluster")
