"""The real-tool suites: every test here is marked ``realtools`` and counts its failures."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import crdfiles
import pytest
from conftest import skip_or_fail

from realtools import controlplane, e2e, fnpackage, install, summary, timings, toolbox
from realtools.crank import Crank, FunctionServer
from realtools.providerloop import ProviderEmulator

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator

    from realtools.controlplane import ControlPlane

HERE = Path(__file__).resolve().parent
_TIMINGS_FILE = pytest.StashKey[Path]()


def pytest_collection_modifyitems(items: Iterable[pytest.Item]) -> None:
    """Mark the tests of this folder, so ``-m "not realtools"`` leaves them out."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.realtools)


def pytest_configure(config: pytest.Config) -> None:
    """Know xdist's group mark without xdist (``-p no:xdist``); name one timings file.

    The timings file is named once, by the controlling process: pytest-xdist workers
    inherit the variable.
    """
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")
    if not hasattr(config, "workerinput") and timings.ENV_VAR not in os.environ:
        handle, name = tempfile.mkstemp(prefix="realtools-timings-", suffix=".jsonl")
        os.close(handle)
        os.environ[timings.ENV_VAR] = name
        config.stash[_TIMINGS_FILE] = Path(name)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the timings file this run made."""
    made = config.stash.get(_TIMINGS_FILE, None)
    if made is not None:
        made.unlink(missing_ok=True)
        os.environ.pop(timings.ENV_VAR, None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the control-plane suite measured."""
    measured = timings.lines(Path(os.environ.get(timings.ENV_VAR, "/nonexistent")))
    if measured:
        terminalreporter.section("real tools: measured")
        for line in measured:
            terminalreporter.write_line(line)


# The running control plane, for the failure reports of the tests that use it.
_PLANES: list[ControlPlane] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, None, None]:
    """Attach the control plane's log tails to the report of a failed test that used it."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _PLANES and "control_plane" in getattr(item, "fixturenames", ()):
        report.sections.append(("control plane logs", _PLANES[-1].logs()))


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
    """The folders of CRDs composed resources use: the snapshot's but the vCluster chart's.

    And the folder of the CRDs the tests derive where the snapshot lacks them (crdfiles).
    """
    crds = toolbox.shared_dir() / "crds"
    if not crds.is_dir():
        skip_or_fail(f"shared CRDs not found at {crds}")
    return crdfiles.schema_folders(crds)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """etcd, kube-apiserver, kube-controller-manager and Crossplane core in a network namespace.

    One per session (per pytest-xdist worker: the suites that use it share one xdist group),
    torn down at the end whatever happens; its logs stay in the session's tmp folder.
    """
    if os.geteuid() != 0 or shutil.which("ip") is None:
        skip_or_fail("the control plane needs root and iproute2 (ip netns)")
    for tool in ("etcd", "kube-apiserver", "kube-controller-manager", "crossplane-core"):
        toolbox.need(tool)
    with controlplane.running(tmp_path_factory.mktemp("controlplane")) as plane:
        _PLANES.append(plane)
        try:
            yield plane
        finally:
            _PLANES.remove(plane)


@pytest.fixture(scope="session")
def provider_crds(control_plane: ControlPlane) -> list[str]:
    """Every CRD of the shared snapshot Established: the providers' applied, core's checked."""
    return install.provider_crds(control_plane)


@pytest.fixture(scope="session")
def project_apis(
    control_plane: ControlPlane, provider_crds: list[str]
) -> dict[str, install.XrdOutcome]:
    """The input CRD, the XRDs as shipped (how each fared) and the Compositions."""
    assert provider_crds
    return install.project_apis(control_plane)


@pytest.fixture(scope="session")
def installed_function(
    control_plane: ControlPlane, project_apis: dict[str, install.XrdOutcome]
) -> fnpackage.InstalledFunction:
    """The function served over mTLS in the namespace and installed as a healthy package."""
    refused = {name: o.warnings for name, o in project_apis.items() if o.seconds is None}
    assert not refused, f"XRDs not Established: {refused}"
    return fnpackage.install(control_plane)


@pytest.fixture(scope="module")
def emulator(
    control_plane: ControlPlane, installed_function: fnpackage.InstalledFunction
) -> Iterator[ProviderEmulator]:
    """The providers, emulated, for as long as the module that asks runs."""
    assert installed_function.server.running()
    running = ProviderEmulator(control_plane.client, e2e.COMPOSITES).start()
    yield running
    running.stop()
