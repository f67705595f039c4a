"""Gating, readiness, status and determinism: the rules that keep infrastructure alive."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import EXAMPLES, SEED, as_shape, converged_observed, load, platform_input
from contexts import claim, context

from function.compose import compose, desired
from function.model import keys
from function.model.context import Desired
from function.model.observed import Observed
from function.offline import documents
from function.ordering import gate, needs
from function.serving import fn


def _ready(kind: str = "API") -> dict[str, Any]:
    return {"kind": kind, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


@pytest.mark.parametrize(
    ("item", "after", "observed", "emitted", "reason"),
    [
        pytest.param(Desired("b", {"k": 1}), ("a",), {}, False, "waiting for a to be ready",
                     id="dependency-absent"),
        pytest.param(Desired("b", {"k": 1}), ("a",), {"a": {"kind": "API"}}, False,
                     "waiting for a to be ready", id="dependency-not-ready"),
        pytest.param(Desired("b", {"k": 1}), ("a",), {"a": _ready()}, True, None,
                     id="dependency-ready"),
        # Every dependency not ready yet is named, in the order given, so the user sees them all.
        pytest.param(Desired("b", {"k": 1}), ("a", "c", "d"), {"c": _ready()}, False,
                     "waiting for a, d to be ready", id="two-of-three-not-ready"),
        pytest.param(Desired("b", None, "the ARN"), (), {}, False, "waiting for the ARN",
                     id="value-missing"),
        pytest.param(Desired("b", {"k": 1}), ("a",), {"b": {"kind": "X"}}, True, None,
                     id="observed-kept-though-dependency-gone"),
    ],
)  # fmt: skip
def test_gate(
    item: Desired,
    after: tuple[str, ...],
    observed: dict[str, Any],
    emitted: bool,
    reason: str | None,
) -> None:
    """A new resource waits for its dependencies; an observed one is never held back."""
    plan = gate([item], Observed(observed), lambda _: after)
    assert (item in plan.emit) is emitted
    assert plan.held == (() if reason is None else (("b", reason),))


def test_gate_asks_what_an_item_waits_for_only_while_it_is_not_observed() -> None:
    """An observed item is sent whatever it waits for, so that is not worked out for it."""
    asked: list[str] = []

    def after(item: Desired) -> tuple[str, ...]:
        asked.append(item.key)
        return ()

    items = [Desired("a", {"kind": "X"}), Desired("b", {"kind": "X"})]
    plan = gate(items, Observed({"a": {"kind": "X"}}), after)
    assert (asked, plan.emit) == (["b"], tuple(items))


def test_gate_reports_unrenderable_observed_resource() -> None:
    """An observed resource whose manifest cannot be rebuilt is reported, not silently dropped."""
    plan = gate([Desired("b", None, "the ARN")], Observed({"b": {"kind": "X"}}), lambda _: ())
    assert plan.lost == ("b",)


LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
    "listener/net/a/0123456789abcdef/0123456789abcdef"
)


@pytest.mark.parametrize(
    ("reason", "spec", "key", "role", "expected"),
    [
        pytest.param("the integration needs the API, the listener and the VPC link it composes",
                     {}, keys.INTEGRATION, None,
                     (keys.API, keys.LISTENER, keys.VPC_LINK), id="integration"),
        pytest.param("a given listener and VPC link are not waited for",
                     {"apiGateway": {"listenerArn": LISTENER, "vpcLinkId": "abc123"}},
                     keys.INTEGRATION, None, (keys.API,), id="integration-byo"),
        pytest.param("without vpcId the target group needs the VPC id of the NLB",
                     {}, keys.TARGET_GROUP, None, (keys.LOAD_BALANCER,), id="target-group"),
        pytest.param("with vpcId the target group needs nothing",
                     {"vpc": {**load(SEED)["spec"]["vpc"], "vpcId": "vpc-0123456789abcdef0"}},
                     keys.TARGET_GROUP, None, (), id="target-group-vpc-given"),
        pytest.param("a JWT route needs its authorizer", {}, "route-x-proxy", keys.JWT_ROUTE,
                     (keys.API, keys.INTEGRATION, keys.AUTHORIZER), id="jwt-route"),
        pytest.param("a public route does not", {}, "route-x-proxy", keys.PUBLIC_ROUTE,
                     (keys.API, keys.INTEGRATION), id="public-route"),
        pytest.param("a Usage needs both its ends", {},
                     keys.usage(keys.INTEGRATION, keys.VPC_LINK), None,
                     (keys.INTEGRATION, keys.VPC_LINK), id="usage"),
    ],
)  # fmt: skip
def test_needs(
    reason: str, spec: dict[str, Any], key: str, role: str | None, expected: tuple[str, ...]
) -> None:
    """What a resource waits for comes from the edges table, for what the claim composes."""
    ctx = context(claim(**spec))
    composed = {item.key for item in desired(ctx)} | {keys.AUTHORIZER}
    assert needs(ctx, Desired(key, None, role=role), composed) == expected, reason


def _converged_state() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    xr = as_shape(load(SEED), "legacy")
    return xr, converged_observed(xr)


def _strip_status(observed: dict[str, dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    changed = copy.deepcopy(observed)
    changed[key]["status"] = {"conditions": [{"type": "Ready", "status": "False"}]}
    return changed


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param("listener", id="listener-lost-its-arn"),
        pytest.param("target-group", id="target-group-lost-its-arn"),
        pytest.param("nlb", id="nlb-lost-its-vpc-id"),
        pytest.param("api", id="api-not-ready"),
        pytest.param("vcluster", id="vcluster-not-ready"),
    ],
)
def test_flapping_dependency_never_drops_dependents(broken: str) -> None:
    """When a dependency flaps to not ready and loses its status, every dependent stays desired."""
    xr, observed = _converged_state()
    outcome = compose(xr, _strip_status(observed, broken), platform_input())
    assert outcome.fatal is None
    assert set(outcome.resources) == set(observed)
    assert outcome.ready[broken] is False
    assert outcome.xr_ready is False
    assert f"{broken}: not ready yet" in outcome.status["pending"]
    healthy = compose(xr, observed, platform_input())
    for key in observed:
        if key != broken:
            assert outcome.resources[key] == healthy.resources[key], key


def test_resource_deleted_behind_our_back_is_recreated() -> None:
    """A composed resource that vanished is desired again, everything else untouched."""
    xr, observed = _converged_state()
    del observed["route-root"]
    outcome = compose(xr, observed, platform_input())
    assert "route-root" in outcome.resources
    assert outcome.ready["route-root"] is False
    assert not outcome.xr_ready


def test_unknown_observed_resources_are_left_alone() -> None:
    """Resources composed by other pipeline steps are neither touched nor reported as ours."""
    xr, observed = _converged_state()
    observed["someone-elses"] = _ready("Bucket")
    outcome = compose(xr, observed, platform_input())
    assert "someone-elses" not in outcome.resources
    assert outcome.xr_ready


def test_ready_xr_and_ttl() -> None:
    """Converged: XR ready with the default TTL; while waiting: not ready with the short poll."""
    xr, observed = _converged_state()
    done = compose(xr, observed, platform_input())
    assert done.xr_ready
    assert done.ttl_seconds == 60
    assert all(done.ready.values())
    waiting = compose(xr, {}, platform_input())
    assert not waiting.xr_ready
    assert waiting.ttl_seconds == platform_input()["pollSeconds"]


def test_identical_calls_identical_bytes() -> None:
    """The same request gives byte-identical responses, and status does not flip between calls."""
    xr, observed = _converged_state()
    req = documents.request(xr, observed, platform_input())
    first, second = fn.run(req), fn.run(copy.deepcopy(req))
    assert first.SerializeToString() == second.SerializeToString()
    assert first.SerializeToString(deterministic=True) == second.SerializeToString(
        deterministic=True
    )


def test_response_sets_readiness_for_every_resource() -> None:
    """No composed resource is left READY_UNSPECIFIED."""
    xr, observed = _converged_state()
    rsp = fn.run(documents.request(xr, observed, platform_input()))
    assert rsp.desired.resources
    assert {r.ready for r in rsp.desired.resources.values()} == {fn.fnv1.READY_TRUE}
    assert rsp.desired.composite.ready == fn.fnv1.READY_TRUE
    assert rsp.desired.composite.connection_details["endpoint"].startswith(b"https://")


def test_status_merges_with_earlier_steps() -> None:
    """Status fields set by an earlier function survive; ours are set alongside."""
    xr, observed = _converged_state()
    req = documents.request(xr, observed, platform_input())
    req.desired.composite.resource.update({"status": {"fromEarlierStep": "kept"}})
    status = documents.status_of(fn.run(req))
    assert status["fromEarlierStep"] == "kept"
    assert status["ready"] is True


def test_nlb_and_vpc_link_wait_for_their_groups() -> None:
    """The NLB and VPC link are held until their composed group is ready, with its id.

    An NLB created without security groups can never get one, and a VPC link's groups
    cannot change (FIELD-NOTES): created a round early, both would lack them for good.
    """
    apps = as_shape(load(EXAMPLES / "apps" / "claim.yaml"), "legacy")
    reported_id = {"atProvider": {"id": "sg-0123456789abcdef0"}}
    observed = {
        key: {"kind": "SecurityGroup", "status": {**reported_id, "conditions": []}}
        for key in (keys.LOAD_BALANCER_SECURITY_GROUP, keys.VPC_LINK_SECURITY_GROUP)
    }
    held = compose(apps, observed, platform_input()).status["pending"]
    for key, group in ((keys.LOAD_BALANCER, keys.LOAD_BALANCER_SECURITY_GROUP),
                       (keys.VPC_LINK, keys.VPC_LINK_SECURITY_GROUP)):  # fmt: skip
        assert f"{key}: waiting for {group} to be ready" in held
