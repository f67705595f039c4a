"""The fake provider writes only statuses a real API server accepts, as the providers do.

Every convergence test trusts it: a status the real CRDs refuse (a condition without a
reason, a field the status schema lacks) would make those tests prove nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import crdcheck
import pytest
from conftest import as_shape, case_name, example_files, load, platform_input

from function.offline.fakeprovider import TRANSITION_TIME, FakeProvider
from function.offline.simulate import simulate

if TYPE_CHECKING:
    from pathlib import Path

CASES = [
    pytest.param(path, shape, id=f"{case_name(path)}-{shape}")
    for path in example_files()
    for shape in ("legacy", "namespaced")
]
STAGE = {
    "apiVersion": "apigatewayv2.aws.upbound.io/v1beta2",
    "kind": "Stage",
    "metadata": {"annotations": {"crossplane.io/external-name": "prod"}},
    "spec": {"forProvider": {"region": "us-east-1", "apiIdSelector": {"matchControllerRef": True}}},
}
API = {
    "apiVersion": "apigatewayv2.aws.upbound.io/v1beta2",
    "kind": "API",
    "spec": {"forProvider": {"region": "us-east-1", "name": "x", "protocolType": "HTTP"}},
}


pytestmark = pytest.mark.usefixtures("crds_present")


def _status_errors(body: dict[str, Any]) -> list[str]:
    return [error for error in crdcheck.validate(body) if error.startswith("status")]


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_every_written_status_validates(path: Path, shape: str) -> None:
    """Each status written in any round of an example validates against its kind's CRD."""
    xr = as_shape(load(path), shape)
    result = simulate(xr, platform_input())
    last = result.rounds[-1]
    final = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    observed = [body for r in result.rounds for body in r.observed_before.values()]
    problems = [
        f"{body['kind']} {error}"
        for body in [*observed, *final.values()]
        if "status" in body
        for error in _status_errors(body)
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("others", "ready", "synced"),
    [
        pytest.param([], "False", "False", id="reference-unresolved"),
        pytest.param([API], "True", "True", id="reference-resolved"),
    ],
)  # fmt: skip
def test_conditions_as_the_crds_require(
    others: list[dict[str, Any]], ready: str, synced: str
) -> None:
    """Ready and Synced carry a reason and a fixed transition time, resolved or not."""
    observed = {str(i): {**other, "status": {}} for i, other in enumerate(others)}
    body = FakeProvider("env").apply({"stage": STAGE}, observed)["stage"]
    conditions = {c["type"]: c for c in body["status"]["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Synced"]["status"]) == (ready, synced)
    assert all(
        c["reason"] and c["lastTransitionTime"] == TRANSITION_TIME for c in conditions.values()
    )
    assert ("atProvider" in body["status"]) is (ready == "True")
    assert _status_errors(body) == []
