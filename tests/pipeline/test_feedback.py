"""The EnvironmentReady condition and its event: what kubectl describe and trace show."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import SEED, load, platform_input
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function import feedback
from function.offline import documents
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate
from function.serving import fn


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(
            {"ready": True, "pending": []},
            feedback.Condition(
                ready=True, reason="Available", message="every composed resource is ready"
            ),
            id="ready",
        ),  # Nothing pending: the environment is ready.
        pytest.param(
            {"ready": False, "pending": ["vcluster: waiting for namespace to be ready"]},
            feedback.Condition(
                ready=False, reason="Waiting", message="vcluster: waiting for namespace to be ready"
            ),
            id="one-wait",
        ),  # The one thing waited for is the message.
        pytest.param(
            {"ready": False, "pending": ["a: not ready yet", "b: not ready yet", "c: x"]},
            feedback.Condition(
                ready=False,
                reason="Waiting",
                message="a: not ready yet (and 2 more in status.pending)",
            ),
            id="first-of-many",
        ),  # The first reason, and where to find the rest.
        pytest.param(
            {"ready": True, "pending": ["a: not ready yet"]},
            feedback.Condition(ready=False, reason="Waiting", message="a: not ready yet"),
            id="pending-wins",
        ),  # Anything pending means not ready, whatever else says so.
    ],
)
def test_condition_from_status(status: dict[str, Any], expected: feedback.Condition) -> None:
    """The condition follows the status the function wrote, and nothing else."""
    assert feedback.condition(status) == expected


def _converged_request(conditions: list[dict[str, str]] | None) -> fnv1.RunFunctionRequest:
    xr = load(SEED)
    result = simulate(xr, platform_input())
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    xr = copy.deepcopy(xr)
    if conditions is not None:
        xr["status"] = {"conditions": conditions}
    return documents.request(xr, observed, platform_input())


def _told(rsp: fnv1.RunFunctionResponse) -> tuple[list[tuple[int, str, int]], list[str]]:
    conditions = [
        (c.status, c.reason, c.target) for c in rsp.conditions if c.type == feedback.CONDITION
    ]
    events = [r.message for r in rsp.results if r.severity == fnv1.SEVERITY_NORMAL]
    return conditions, events


READY = (fnv1.STATUS_CONDITION_TRUE, "Available", fnv1.TARGET_COMPOSITE_AND_CLAIM)


@pytest.mark.parametrize(
    ("carried", "events"),
    [
        pytest.param(None, 1, id="first-time"),  # A new XR hears once that it became ready.
        pytest.param(
            [{"type": "EnvironmentReady", "status": "True", "reason": "Available", "message": "x"}],
            0,
            id="already-told",
        ),  # The XR already says so: no event on every reconcile.
        pytest.param(
            [{"type": "EnvironmentReady", "status": "False", "reason": "Waiting", "message": "x"}],
            1,
            id="changed",
        ),  # Waiting -> Available is news.
        pytest.param(
            [{"type": "Synced", "status": "True", "reason": "ReconcileSuccess"}],
            1,
            id="other-conditions",
        ),  # Crossplane's own conditions are not ours.
    ],
)
def test_event_only_when_the_condition_changes(
    carried: list[dict[str, str]] | None, events: int
) -> None:
    """The converged seed always carries the condition; an event only when it is news."""
    rsp = fn.run(_converged_request(carried))
    conditions, told = _told(rsp)
    assert conditions == [READY]
    assert told == ["EnvironmentReady: every composed resource is ready"] * events


def test_waiting_claim_says_what_it_waits_for() -> None:
    """A claim's first call: the condition is False and names the first thing it waits for."""
    xr = documents.composite_from(load(SEED))
    rsp = fn.run(documents.request(xr, {}, platform_input()))
    (condition,) = [c for c in rsp.conditions if c.type == feedback.CONDITION]
    assert condition.status == fnv1.STATUS_CONDITION_FALSE
    assert condition.reason == "Waiting"
    pending = documents.status_of(rsp)["pending"]
    assert condition.message.startswith(pending[0])


def test_fatal_carries_no_condition() -> None:
    """Bad input is Crossplane's Synced=False with the Fatal message, not a stale condition."""
    xr = documents.composite_from(load(SEED))
    xr["spec"]["name"] = "Not A Name"
    rsp = fn.run(documents.request(xr, {}, platform_input()))
    assert documents.fatal_of(rsp) is not None
    assert list(rsp.conditions) == []
