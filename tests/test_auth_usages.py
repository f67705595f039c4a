"""JWT authorizer, per-route auth and throttling, Usages and the v2 connection Secret."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from conftest import EXAMPLES, SEED, as_shape, load, platform_input

from function.compose import Outcome, compose
from function.model import naming
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate

AUTH = EXAMPLES / "claim-auth-throttling.yaml"


def _converged(xr: dict[str, Any]) -> Outcome:
    result = simulate(xr, platform_input())
    assert result.converged, result.fatal
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    return compose(xr, observed, platform_input())


def _fp(outcome: Outcome, key: str) -> dict[str, Any]:
    return outcome.resources[key]["spec"]["forProvider"]


@pytest.fixture(scope="module")
def auth() -> Outcome:
    return _converged(as_shape(load(AUTH), "legacy"))


@pytest.mark.parametrize(
    ("key", "route_key", "auth_type", "scopes"),
    [
        pytest.param("route-proxy", "ANY /{proxy+}", "JWT", None, id="catch-all-protected"),
        pytest.param("route-root", "ANY /", "JWT", None, id="root-protected"),
        pytest.param("route-orders-proxy", "ANY /orders/{proxy+}", "JWT", ["orders:read"],
                     id="app-scoped"),
        pytest.param("route-orders-root", "ANY /orders", "JWT", ["orders:read"],
                     id="app-root-scoped"),
        pytest.param("route-health-proxy", "ANY /healthz/{proxy+}", "NONE", None,
                     id="public-explicit"),
    ],
)  # fmt: skip
def test_routes_auth(
    auth: Outcome, key: str, route_key: str, auth_type: str, scopes: list[str] | None
) -> None:
    """With an authorizer, routes are JWT-protected unless an app explicitly opts out."""
    route = _fp(auth, key)
    assert route["routeKey"] == route_key
    assert route["authorizationType"] == auth_type
    assert route.get("authorizationScopes") == scopes
    assert ("authorizerIdSelector" in route) is (auth_type == "JWT")


def test_authorizer(auth: Outcome) -> None:
    """The JWT authorizer carries issuer, audiences and the identity source."""
    authorizer = _fp(auth, "authorizer")
    assert authorizer["authorizerType"] == "JWT"
    assert authorizer["jwtConfiguration"] == {
        "issuer": "https://auth.mycompany.com/",
        "audience": ["orders-api"],
    }
    assert authorizer["identitySources"] == ["$request.header.Authorization"]


def test_throttling(auth: Outcome) -> None:
    """Stage default throttling plus a per-route override for the throttled app's routes."""
    stage = _fp(auth, "stage")
    assert stage["defaultRouteSettings"]["throttlingBurstLimit"] == 100
    assert stage["defaultRouteSettings"]["throttlingRateLimit"] == 50
    assert {r["routeKey"]: r["throttlingRateLimit"] for r in stage["routeSettings"]} == {
        "ANY /orders/{proxy+}": 10,
        "ANY /orders": 10,
    }


def test_route_settings_wait_for_routes() -> None:
    """Per-route settings are added only once the route exists (AWS rejects unknown keys)."""
    first = compose(as_shape(load(AUTH), "legacy"), {}, platform_input())
    assert "stage" not in first.resources or "routeSettings" not in _fp(first, "stage")


def test_conflicting_routes_are_refused() -> None:
    """Two apps on one API route with different auth cannot both be honoured: Fatal."""
    xr = as_shape(load(AUTH), "legacy")
    xr["spec"]["apps"] = [
        {"name": "a", "pathPrefix": "/x", "hosts": ["a.example.com"], "service": "a",
         "auth": {"type": "NONE"}},
        {"name": "b", "pathPrefix": "/x", "hosts": ["b.example.com"], "service": "b",
         "auth": {"scopes": ["s"]}},
    ]  # fmt: skip
    outcome = compose(xr, {}, platform_input())
    assert outcome.fatal == (
        "spec.apps[1].auth: apps 'a' and 'b' share the API route 'ANY /x/{proxy+}' "
        "but ask for different auth or throttling"
    )


@pytest.mark.parametrize(
    ("shape", "kind"),
    [pytest.param("legacy", "ClusterUsage", id="legacy"), pytest.param("namespaced", "Usage",
                                                                       id="namespaced")],
)  # fmt: skip
def test_usages(shape: str, kind: str) -> None:
    """Each dependency pair gets a Usage selecting both ends by controller and resource label."""
    outcome = _converged(as_shape(load(SEED), shape))
    usages = {k: v for k, v in outcome.resources.items() if k.startswith("usage-")}
    assert set(usages) == {
        "usage-integration-uses-vpc-link", "usage-integration-uses-listener",
        "usage-listener-uses-nlb", "usage-listener-uses-target-group",
        "usage-target-group-binding-uses-target-group", "usage-grafana-uses-vcluster",
        "usage-prometheus-uses-vcluster", "usage-api-mapping-uses-domain-name",
    }  # fmt: skip
    usage = usages["usage-integration-uses-listener"]
    assert usage["kind"] == kind
    assert usage["spec"]["of"]["kind"] == "LBListener"
    assert usage["spec"]["of"]["resourceSelector"]["matchLabels"][naming.LABEL_RESOURCE] == (
        "listener"
    )
    assert usage["spec"]["by"]["kind"] == "Integration"
    assert usage["spec"]["replayDeletion"] is True


def test_usage_waits_for_both_ends() -> None:
    """A Usage appears only once both resources it names are ready."""
    first = compose(as_shape(load(SEED), "legacy"), {}, platform_input())
    assert not [k for k in first.resources if k.startswith("usage-")]


@pytest.mark.parametrize(
    ("shape", "secret"),
    [pytest.param("legacy", False, id="legacy-uses-connection-details"),
     pytest.param("namespaced", True, id="v2-composes-secret")],
)  # fmt: skip
def test_connection_publishing(shape: str, secret: bool) -> None:
    """A v2 XR publishes its endpoint in a composed Secret; a legacy XR via connection details."""
    outcome = _converged(as_shape(load(SEED), shape))
    endpoint = outcome.status["apiGateway"]["endpoint"]
    assert outcome.connection == {"endpoint": endpoint}
    assert ("connection-secret" in outcome.resources) is secret
    if secret:
        body = outcome.resources["connection-secret"]
        assert base64.b64decode(body["data"]["endpoint"]).decode() == endpoint
        assert body["metadata"]["namespace"] == "team-a"


@pytest.mark.parametrize(
    ("app", "keys"),
    [
        pytest.param({"cors": {"allowOrigins": ["https://a.example.com"]}},
                     {"route-web-preflight-proxy": "OPTIONS /web/{proxy+}",
                      "route-web-preflight-root": "OPTIONS /web"}, id="cors-behind-default-jwt"),
        pytest.param({"cors": {"allowOrigins": ["https://a.example.com"]},
                      "auth": {"type": "NONE"}},
                     {"route-web-proxy": "ANY /web/{proxy+}", "route-web-root": "ANY /web"},
                     id="public-app-needs-no-preflight-route"),
        pytest.param({}, {}, id="no-cors-no-extra-routes"),
    ],
)  # fmt: skip
def test_cors_preflight_routes(app: dict[str, Any], keys: dict[str, str]) -> None:
    """Apps answering CORS behind JWT get public OPTIONS routes; browsers send no token there."""
    xr = as_shape(load(AUTH), "legacy")
    xr["spec"]["apps"] = [{"name": "web", "pathPrefix": "/web", "service": "web", **app}]
    outcome = _converged(xr)
    extra = {
        k: _fp(outcome, k)["routeKey"]
        for k in outcome.resources
        if k.startswith("route-") and k not in {"route-proxy", "route-root"}
    }
    assert extra == keys
    for key in keys:
        expected = "NONE" if "preflight" in key or app.get("auth") else "JWT"
        assert _fp(outcome, key)["authorizationType"] == expected
