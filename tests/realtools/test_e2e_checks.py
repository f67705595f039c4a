"""What the end-to-end suites expect of a Ready environment and of a deletion, on their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from realtools import e2e

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
USED: e2e.AuditKey = ("g", "lbs", "ns", "nlb")
USER: e2e.AuditKey = ("g", "listeners", "ns", "listener")
OTHER: e2e.AuditKey = ("g", "apis", "ns", "api")
OBJECTS = {USED: "LB nlb", USER: "LBListener listener", OTHER: "API api"}
FULL_GATEWAY = {"id": "a", "endpoint": "https://a.example", "vpcLinkId": "v", "stage": "prod"}


def _deletion(
    went: dict[e2e.AuditKey, int], *, finalized: frozenset[e2e.AuditKey] = frozenset()
) -> e2e.Deletion:
    """A deletion of OBJECTS, the listener using the load balancer, gone at the given seconds."""
    deletion = e2e.Deletion(dict(OBJECTS), [(USER, USED)], set(finalized), seconds=5.0)
    deletion.deleted_at = {key: T0 + dt.timedelta(seconds=s) for key, s in went.items()}
    return deletion


@pytest.mark.parametrize(
    ("deletion", "problems"),
    [
        pytest.param(_deletion({USER: 1, USED: 2, OTHER: 0}), [], id="in-order"),
        # The user went first and everything went: what every deletion must look like.
        pytest.param(
            _deletion({USER: 2, USED: 1, OTHER: 0}),
            ["LB nlb went before its user LBListener listener"], id="used-first",
        ),  # The Usage's protected end went before its user: the order was not kept.
        pytest.param(
            _deletion({USER: 1, USED: 2}),
            ["deleted by no request we saw: ['API api']"], id="unseen",
        ),  # Gone without a delete request in the audit log: something else removed it.
        pytest.param(
            _deletion({USER: 1, USED: 2, OTHER: 0}, finalized=frozenset({USED})),
            ["LB nlb has finalizers"], id="finalized-end",
        ),  # With a finalizer, the successful request would not be the disappearance.
        pytest.param(
            e2e.Deletion(dict(OBJECTS), [], set(), seconds=None),
            ["not all gone"], id="timed-out",
        ),  # Still there when the wait ended: nothing else is worth saying.
    ],
)  # fmt: skip
def test_deletion_problems(deletion: e2e.Deletion, problems: list[str]) -> None:
    """Each way a deletion can go wrong is named, and a clean one has nothing to say."""
    assert deletion.problems() == problems


def test_deletion_without_usages_is_a_problem() -> None:
    """A deletion no Usage ordered proves nothing about the order."""
    deletion = _deletion({USER: 1, USED: 2, OTHER: 0})
    deletion.usages = []
    assert deletion.problems() == ["no Usage orders this deletion"]


@pytest.mark.parametrize(
    ("pairs", "early"),
    [
        pytest.param([("LB nlb", "LBListener listener")],
                     ["LB nlb went before LBListener listener"],
                     id="early"),  # A pair by labels, as the suites name them, out of order.
        pytest.param([("LBListener listener", "LB nlb")], [], id="kept"),
        # The same pair the other way round: the used one outlived its user.
        pytest.param([("Object namespace", "Release vcluster")], [], id="absent"),
        # A pair this environment does not compose says nothing.
    ],
)  # fmt: skip
def test_deletion_early(pairs: list[tuple[str, str]], early: list[str]) -> None:
    """Pairs that no Usage orders are checked by the labels of what went when."""
    assert _deletion({USER: 2, USED: 1, OTHER: 0}).early(pairs) == early


def _xr(ready: str, status: dict[str, Any]) -> e2e.Environment:
    environment = e2e.Environment("x", {"apiVersion": "v", "kind": "K", "metadata": {}})
    conditions = [{"type": "Ready", "status": ready}]
    environment.xr = {"status": {**status, "conditions": conditions}}
    return environment


@pytest.mark.parametrize(
    ("environment", "gaps"),
    [
        pytest.param(_xr("True", {"ready": True, "pending": [], "apiGateway": FULL_GATEWAY}), [],
                     id="ready"),  # Ready, nothing pending, every API Gateway field there.
        pytest.param(_xr("False", {"pending": ["nlb"]}),
                     ["not Ready: {'type': 'Ready', 'status': 'False'}, pending ['nlb']"],
                     id="not-ready"),  # Core's condition decides first, with what is pending.
        pytest.param(_xr("True", {"ready": True, "pending": ["x"], "apiGateway": FULL_GATEWAY}),
                     ["status.pending is ['x']"], id="pending"),
        # Ready while our status still lists a pending resource: the two disagree.
        pytest.param(
            _xr("True", {"ready": True, "pending": [],
                         "apiGateway": {**FULL_GATEWAY, "endpoint": "http://a", "stage": ""}}),
            ["no status.apiGateway.stage", "endpoint 'http://a' is not https"], id="gateway",
        ),  # An empty field, and an endpoint a client could not use, are both named.
    ],
)  # fmt: skip
def test_readiness_gaps(environment: e2e.Environment, gaps: list[str]) -> None:
    """What keeps an environment from counting as Ready with its API Gateway status."""
    assert e2e.readiness_gaps(environment) == gaps
