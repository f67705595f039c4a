"""Shared test helpers: examples, shapes and a way to run the function in-process."""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
import yaml

from function.offline import documents
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate
from function.serving import fn

if TYPE_CHECKING:
    from collections.abc import Iterator

    import grpc
    from crossplane.function.proto.v1 import run_function_pb2 as fnv1

    from function.serving.memo import Memo


ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
COMPOSITIONS = ROOT / "compositions"
COMPOSITE_KINDS = {"VClusterEnvironmentClaim", "XVClusterEnvironment", "VClusterEnvironment"}


def require_all() -> bool:
    """Whether a missing prerequisite fails its tests rather than skipping them.

    It fails unless the developer asks for a partial run (``ALLOW_SKIPS=1``), so that a
    green run never hides tests that did not run; CI's ``REQUIRE_ALL_TESTS=1`` wins over both.
    """
    return os.environ.get("REQUIRE_ALL_TESTS") == "1" or os.environ.get("ALLOW_SKIPS") != "1"


def skip_or_fail(reason: str) -> None:
    """Fail a test for a missing prerequisite, or skip it in a partial run (ALLOW_SKIPS=1)."""
    if require_all():
        pytest.fail(f"{reason} (set ALLOW_SKIPS=1 for a partial run that skips it)")
    pytest.skip(reason)


def require_crds() -> None:
    """The shared CRD snapshot must be there (see ``skip_or_fail``)."""
    import crdcheck  # noqa: PLC0415  # jsonschema, cel and re2 only for the tests that need them

    directory = crdcheck.crds_dir()
    if not directory.is_dir():
        skip_or_fail(f"shared CRDs not found at {directory} (set ${crdcheck.CRDS_ENV_VAR})")


@pytest.fixture
def crds_present() -> None:
    """For tests that validate against the real CRDs: the snapshot must be there."""
    require_crds()


def example_cases() -> list[Path]:
    """Every folder of examples/ that renders one of our Compositions (examples/README.md)."""
    return sorted(
        path.parent
        for path in EXAMPLES.glob("*/xr.yaml")
        if (path.parent / "composition.yaml").resolve().parent == COMPOSITIONS
    )


def example_files() -> list[Path]:
    """Every example as a user writes it: a legacy case's claim, or a v2 case's XR."""
    return [
        case / "claim.yaml" if (case / "claim.yaml").is_file() else case / "xr.yaml"
        for case in example_cases()
    ]


def case_name(path: Path) -> str:
    """The example's case (its folder), which names its golden files and test ids."""
    return path.parent.name


def platform_input() -> dict[str, Any]:
    """The function input from the legacy Composition (both Compositions share it)."""
    found = documents.input_from(documents.load_documents(COMPOSITIONS / "composition-legacy.yaml"))
    assert found is not None
    return found


def as_shape(document: dict[str, Any], shape: str) -> dict[str, Any]:
    """The example as a legacy cluster-scoped XR or as a Crossplane v2 namespaced XR."""
    xr = documents.composite_from(document)
    xr = copy.deepcopy(xr)
    metadata = xr.setdefault("metadata", {})
    if shape == "legacy":
        xr["kind"] = documents.LEGACY_XR_KIND
        metadata.pop("namespace", None)
    else:
        xr["kind"] = "VClusterEnvironment"
        metadata["namespace"] = metadata.get("namespace") or "team-a"
        xr.get("spec", {}).pop("claimRef", None)
    return xr


def load(path: Path) -> dict[str, Any]:
    """The first YAML document of a file."""
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


SEED = EXAMPLES / "seed" / "claim.yaml"


@functools.cache
def _converged_json(xr_json: str, input_json: str) -> str:
    xr, function_input = json.loads(xr_json), json.loads(input_json)
    result = simulate(xr, function_input)
    assert result.converged, result.fatal
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    return json.dumps(observed)


def converged_observed(
    xr: dict[str, Any], function_input: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Observed state once ``xr`` has converged against the fake provider (a fresh copy).

    Simulated once per XR and input in a test process: callers may change what they get.
    """
    inp = platform_input() if function_input is None else function_input
    found: dict[str, dict[str, Any]] = json.loads(
        _converged_json(json.dumps(xr, sort_keys=True), json.dumps(inp, sort_keys=True))
    )
    return found


def served(req: fnv1.RunFunctionRequest, memo: Memo) -> bytes:
    """The bytes the servicer answers ``req`` with, through the real ``FunctionRunner``."""
    runner = fn.FunctionRunner(memo)
    answer = asyncio.run(runner.RunFunction(req, cast("grpc.aio.ServicerContext", None)))
    return bytes(answer.SerializeToString(deterministic=True))


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Any]:
    """Function servers that live for one test, killed whatever its outcome."""
    from servers import Launcher  # noqa: PLC0415  # grpc and cryptography only when needed

    started = Launcher(tmp_path)
    try:
        yield started
    finally:
        started.close()
