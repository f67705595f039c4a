"""The Gateway API builder alone: an HTTPRoute per app on the platform's shared Gateway.

The Object's ``forProvider.manifest`` is preserve-unknown-fields, so the HTTPRoute
inside it is validated against its own CRD here.
"""

from __future__ import annotations

from typing import Any

import crdcheck
import pytest
from apps import (
    API,
    ENV,
    GATEWAY_API,
    ISTIO,
    MISSING,
    SLUG,
    SPLIT,
    composed,
    dig,
    gateway_rules,
    ingress_input,
    objects,
    xr,
)
from contexts import context, embedded

from function.builders import gatewayapi
from function.model import keys, naming
from function.model.errors import InvalidError

pytestmark = pytest.mark.usefixtures("crds_present")


GATEWAY_API_CASES = [
    pytest.param(
        "a canary split is backendRefs with weights, in the route's own namespace",
        {"destinations": SPLIT},
        "api", ("backendRefs",),
        [{"name": f"api-x-backend-x-{ENV}", "port": 8080, "weight": 90},
         {"name": f"api-next-x-next-x-{ENV}", "port": 9090, "weight": 10}],
        id="weighted-canary",
    ),
    pytest.param(
        "the header canary is an extra rule matching its header AND the tenant header",
        {"headerCanary": {"header": "x-api-version", "value": "v2", "service": "api-v2"}},
        "api-canary", ("matches",),
        [{"path": {"type": "PathPrefix", "value": "/api"},
          "headers": [{"type": "Exact", "name": naming.TENANT_HEADER, "value": SLUG},
                      {"type": "Exact", "name": "x-api-version", "value": "v2"}]}],
        id="header-canary",
    ),
    pytest.param(
        "the timeout is the rule's request timeout",
        {"timeout": "15s"}, "api", ("timeouts",), {"request": "15s"},
        id="timeout",
    ),
    pytest.param(
        "a timeout beyond five digits is rewritten into units Gateway API durations allow",
        {"timeout": "100000s"}, "api", ("timeouts",), {"request": "27h46m40s"},
        id="timeout-long",
    ),
    pytest.param(
        "a zero timeout means none, so no timeouts are set",
        {"timeout": "0ms"}, "api", ("timeouts",), MISSING,
        id="timeout-zero",
    ),
    pytest.param(
        "the rewrite is a URLRewrite filter replacing the matched prefix",
        {"rewrite": "/"}, "api", ("filters",),
        [{"type": "URLRewrite",
          "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
        id="rewrite",
    ),
    pytest.param(
        "CORS is the standard-channel CORS filter, without repeats and with max age in seconds",
        {"cors": {"allowOrigins": ["https://a.example.com", "https://*.example.org"],
                  "allowMethods": ["GET", "POST", "GET"], "allowHeaders": ["x-a"],
                  "allowCredentials": True, "maxAge": 600}},
        "api", ("filters",),
        [{"type": "CORS",
          "cors": {"allowOrigins": ["https://a.example.com", "https://*.example.org"],
                   "allowMethods": ["GET", "POST"], "allowHeaders": ["x-a"],
                   "allowCredentials": True, "maxAge": 600}}],
        id="cors",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("reason", "app", "rule", "path", "expected"), GATEWAY_API_CASES)
def test_gateway_api_rule_features(
    reason: str, app: dict[str, Any], rule: str, path: tuple[str, ...], expected: Any
) -> None:
    """Each app feature becomes the HTTPRoute field of the standard-channel v1.6 CRD."""
    rules = gateway_rules(composed([{**API, **app}], GATEWAY_API, build=gatewayapi.build))
    assert dig(rules[rule], *path) == expected, reason


def test_gateway_api_http_route() -> None:
    """An app's HTTPRoute lives in the host namespace and attaches to the shared Gateway.

    Its hosts are matches on the domain header the integration sets from
    $context.domainName, not hostnames: HTTP API private integrations do not document
    the Host they pass on (FIELD-NOTES).
    """
    ctx = context(
        xr([{**API, "hosts": ["b.example.com", "a.example.com"]}]),
        ingress_input(
            GATEWAY_API, gatewayName="edge", gatewayNamespace="gateways", gatewaySection="http"
        ),
    )
    (desired,) = gatewayapi.build(ctx)
    assert desired.key == "ingress-httproute-api"
    assert desired.manifest is not None
    route = desired.manifest["spec"]["forProvider"]["manifest"]
    assert route["metadata"]["namespace"] == f"vcluster-{SLUG}"
    assert route["metadata"]["name"] == f"{ENV}-api"
    assert route["spec"]["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge",
         "namespace": "gateways", "sectionName": "http"}
    ]  # fmt: skip
    assert "hostnames" not in route["spec"]
    (rule,) = route["spec"]["rules"]
    assert [match["headers"][-1] for match in rule["matches"]] == [
        {"type": "Exact", "name": naming.DOMAIN_HEADER, "value": host}
        for host in ("a.example.com", "b.example.com")
    ]
    assert crdcheck.validate(route) == []


def test_rewrite_with_hosts_is_a_rule_per_host() -> None:
    """A prefix rewrite allows one match per rule (the CRD's CEL rule): one rule per host."""
    app = {**API, "hosts": ["b.example.com", "a.example.com"], "rewrite": "/"}
    (desired,) = gatewayapi.build(context(xr([app]), ingress_input(GATEWAY_API)))
    assert desired.manifest is not None
    route = desired.manifest["spec"]["forProvider"]["manifest"]
    assert [len(rule["matches"]) for rule in route["spec"]["rules"]] == [1, 1]
    assert crdcheck.validate(route) == []


def _hosts(count: int) -> list[str]:
    """``count`` distinct hosts of the app."""
    return [f"h{index:02d}.example.com" for index in range(count)]


def test_rewrite_rule_per_host_matches_its_host() -> None:
    """Each of a rewritten route's rules matches the tenant header AND its own host."""
    app = {**API, "hosts": ["b.example.com", "a.example.com"], "rewrite": "/"}
    rules = gateway_rules(composed([app], GATEWAY_API, build=gatewayapi.build))
    assert {name: rule["matches"] for name, rule in rules.items()} == {
        f"api-{index}": [
            {"path": {"type": "PathPrefix", "value": "/api"},
             "headers": [{"type": "Exact", "name": naming.TENANT_HEADER, "value": SLUG},
                         {"type": "Exact", "name": naming.DOMAIN_HEADER, "value": host}]}
        ]
        for index, host in enumerate(("a.example.com", "b.example.com"))
    }  # fmt: skip


CANARY = {"header": "x-api-version", "value": "v2", "service": "api-v2"}


@pytest.mark.parametrize(
    ("reason", "app", "message"),
    [
        pytest.param("16 rules (8 hosts rewritten, doubled by a canary) fill one HTTPRoute",
                     {"hosts": _hosts(8), "rewrite": "/", "headerCanary": CANARY}, None,
                     id="16-rules"),
        pytest.param("18 rules are more than an HTTPRoute holds",
                     {"hosts": _hosts(9), "rewrite": "/", "headerCanary": CANARY},
                     "spec.apps[0].hosts: this app needs 18 HTTPRoute rules (a rewrite takes "
                     "one per host, a header canary doubles them); an HTTPRoute holds at most 16",
                     id="18-rules"),
        pytest.param("64 allowed headers are as many as the CORS filter takes",
                     {"cors": {"allowOrigins": ["https://a.example.com"],
                               "allowHeaders": [f"x-h{index}" for index in range(64)]}},
                     None, id="64-cors-headers"),
        pytest.param("65 allowed headers are more than the CORS filter takes",
                     {"cors": {"allowOrigins": ["https://a.example.com"],
                               "allowHeaders": [f"x-h{index}" for index in range(65)]}},
                     "spec.apps[0].cors.allowHeaders: 65 given; the Gateway API CORS filter "
                     "takes at most 64", id="65-cors-headers"),
        pytest.param("64 allowed origins are as many as the CORS filter takes",
                     {"cors": {"allowOrigins": [f"https://o{index}.example.com"
                                                for index in range(64)]}},
                     None, id="64-cors-origins"),
        pytest.param("65 allowed origins are more than the CORS filter takes",
                     {"cors": {"allowOrigins": [f"https://o{index}.example.com"
                                                for index in range(65)]}},
                     "spec.apps[0].cors.allowOrigins: 65 given; the Gateway API CORS filter "
                     "takes at most 64", id="65-cors-origins"),
        pytest.param("a timeout of more than 99999 hours has no Gateway API duration",
                     {"timeout": "100000h"},
                     "spec.apps[0].timeout: 100000h is longer than a Gateway API duration can "
                     "be (99999h)", id="timeout-too-long"),
    ],
)  # fmt: skip
def test_http_route_limits(reason: str, app: dict[str, Any], message: str | None) -> None:
    """What the standard-channel HTTPRoute cannot hold is refused with the field, not cut."""
    ctx = context(xr([{**API, **app}]), ingress_input(GATEWAY_API))
    if message is None:
        (desired,) = gatewayapi.build(ctx)
        assert desired.manifest is not None
        assert crdcheck.validate(desired.manifest["spec"]["forProvider"]["manifest"]) == [], reason
        return
    with pytest.raises(InvalidError) as raised:
        gatewayapi.build(ctx)
    assert str(raised.value) == message, reason


@pytest.mark.parametrize(
    ("reason", "milliseconds", "expected"),
    [
        pytest.param("nothing is zero seconds, the notation GEP-2257 gives", 0, "0s", id="zero"),
        pytest.param("each unit that is not zero, largest first", 3_723_004, "1h2m3s4ms",
                     id="every-unit"),
        pytest.param("99999 hours is the longest duration", 99_999 * 3_600_000, "99999h",
                     id="longest"),
    ],
)  # fmt: skip
def test_duration(reason: str, milliseconds: int, expected: str) -> None:
    """Milliseconds as a Gateway API duration."""
    assert gatewayapi._duration("spec.apps[0].timeout", milliseconds) == expected, reason  # noqa: SLF001


def _tenant_match(prefix: str, *headers: dict[str, str]) -> dict[str, Any]:
    """A rule's match of a path prefix AND the tenant header (then ``headers``)."""
    return {"path": {"type": "PathPrefix", "value": prefix},
            "headers": [{"type": "Exact", "name": naming.TENANT_HEADER, "value": SLUG},
                        *headers]}  # fmt: skip


def test_gateway_api_resources_exactly() -> None:
    """One HTTPRoute per app, longest prefix first, each holding only its own app's rules.

    Without a gatewaySection the route attaches to every listener of the shared Gateway.
    """
    canary = {"header": "x-v", "value": "v2", "service": "api-v2"}
    canary_header = {"type": "Exact", "name": "x-v", "value": "v2"}
    ctx = context(xr([{"name": "web", "service": "web"}, {**API, "headerCanary": canary}]),
                  ingress_input(GATEWAY_API))  # fmt: skip
    desired = gatewayapi.build(ctx)
    assert [(item.key, item.role, item.waiting_for) for item in desired] == [
        ("ingress-httproute-api", keys.HTTPROUTE, ""), ("ingress-httproute-web", keys.HTTPROUTE, "")
    ]  # fmt: skip
    parent = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "shared-ingress",
              "namespace": "istio-ingress"}  # fmt: skip
    # Each Object is labelled with its own key, as every composed resource is.
    assert [objects(desired)[item.key]["metadata"] for item in desired] == [
        ctx.metadata(item.key) for item in desired
    ]
    routes = {item.key: embedded(desired, item.key) for item in desired}
    assert routes == {
        "ingress-httproute-api": {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": f"{ENV}-api", "namespace": f"vcluster-{SLUG}",
                         "labels": ctx.labels("ingress-httproute-api")},
            "spec": {"parentRefs": [parent], "rules": [
                {"name": "api-canary",
                 "matches": [_tenant_match("/api", canary_header)],
                 "backendRefs": [{"name": f"api-v2-x-backend-x-{ENV}", "port": 8080}]},
                {"name": "api", "matches": [_tenant_match("/api")],
                 "backendRefs": [{"name": f"api-x-backend-x-{ENV}", "port": 8080}]},
            ]},
        },
        "ingress-httproute-web": {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": f"{ENV}-web", "namespace": f"vcluster-{SLUG}",
                         "labels": ctx.labels("ingress-httproute-web")},
            "spec": {"parentRefs": [parent], "rules": [
                {"name": "web", "matches": [_tenant_match("/")],
                 "backendRefs": [{"name": f"web-x-default-x-{ENV}", "port": 80}]},
            ]},
        },
    }  # fmt: skip
    assert [crdcheck.validate(route) for route in routes.values()] == [[], []]


def test_gateway_api_nothing_in_istio_mode() -> None:
    """In istio mode the Istio builder routes: no HTTPRoute is composed."""
    assert gatewayapi.build(context(xr([API]), ingress_input(ISTIO))) == []
