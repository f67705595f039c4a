"""The Istio builder alone: each app feature becomes the VirtualService field Istio defines."""

from __future__ import annotations

import re
from typing import Any

import crdcheck
import pytest
from apps import (
    API,
    GATEWAY_API,
    ISTIO,
    MISSING,
    SLUG,
    SPLIT,
    TENANT,
    composed,
    dig,
    fqdn,
    ingress_input,
    istio_routes,
    objects,
    xr,
)
from contexts import claim, context, embedded

from function.builders import istio
from function.model import keys, naming

ISTIO_CASES = [
    pytest.param(
        "a canary split sends weighted shares, namespace and port defaulting to the app's",
        {"destinations": SPLIT},
        "api", ("route",),
        [{"destination": {"host": fqdn("api"), "port": {"number": 8080}}, "weight": 90},
         {"destination": {"host": fqdn("api-next", "next"), "port": {"number": 9090}},
          "weight": 10}],
        id="weighted-canary",
    ),
    pytest.param(
        "the header canary matches its header AND the tenant header, and goes to its Service",
        {"headerCanary": {"header": "x-api-version", "value": "v2", "service": "api-v2"}},
        "api-canary", ("match",),
        [{"uri": {"prefix": "/api"},
          "headers": {**TENANT, "x-api-version": {"exact": "v2"}}}],
        id="header-canary-match",
    ),
    pytest.param(
        "the header canary's Service defaults to the app's namespace and port",
        {"headerCanary": {"header": "x-api-version", "value": "v2", "service": "api-v2"}},
        "api-canary", ("route",),
        [{"destination": {"host": fqdn("api-v2"), "port": {"number": 8080}}}],
        id="header-canary-backend",
    ),
    pytest.param(
        "each host is one match on the domain header the integration sets from "
        "$context.domainName, never on Host (FIELD-NOTES: HTTP API private integrations do not "
        "document the Host they pass on), each with the tenant header",
        {"hosts": ["b.example.com", "a.example.com"]},
        "api", ("match",),
        [{"uri": {"prefix": "/api"},
          "headers": {**TENANT, naming.DOMAIN_HEADER: {"exact": "a.example.com"}}},
         {"uri": {"prefix": "/api"},
          "headers": {**TENANT, naming.DOMAIN_HEADER: {"exact": "b.example.com"}}}],
        id="hosts",
    ),
    pytest.param(
        "retries carry attempts, the per-try timeout and the retry conditions",
        {"retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,503"}},
        "api", ("retries",), {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,503"},
        id="retries",
    ),
    pytest.param(
        "zero attempts disable retries and carry nothing else, which Istio would reject",
        {"retries": {"attempts": 0, "perTryTimeout": "2s"}},
        "api", ("retries",), {"attempts": 0},
        id="retries-disabled",
    ),
    pytest.param(
        "a zero per-try timeout is left out: Istio's CEL rejects durations under 1ms",
        {"retries": {"attempts": 2, "perTryTimeout": "0s"}},
        "api", ("retries", "perTryTimeout"), MISSING,
        id="retries-zero-per-try",
    ),
    pytest.param(
        "the timeout is the route's timeout",
        {"timeout": "15s"}, "api", ("timeout",), "15s",
        id="timeout",
    ),
    pytest.param(
        "a zero timeout means none, Istio's default, rather than a '0s' its CEL rejects",
        {"timeout": "0s"}, "api", ("timeout",), MISSING,
        id="timeout-zero",
    ),
    pytest.param(
        "the rewrite replaces the prefix as whole path segments",
        {"rewrite": "/v1"}, "api", ("rewrite",),
        {"uriRegexRewrite": {"match": "^/api(/|$)", "rewrite": r"/v1\1"}},
        id="rewrite",
    ),
    pytest.param(
        "CORS origins are exact matches, a wildcard first label a regex, max age in seconds",
        {"cors": {"allowOrigins": ["https://a.example.com", "https://*.example.org"],
                  "allowMethods": ["GET", "GET", "POST"], "allowCredentials": True,
                  "maxAge": 600}},
        "api", ("corsPolicy",),
        {"allowOrigins": [{"exact": "https://a.example.com"},
                          {"regex": r"https://[-a-z0-9.]+\.example\.org"}],
         "allowMethods": ["GET", "POST"], "allowHeaders": ["authorization", "content-type"],
         "allowCredentials": True, "maxAge": "600s"},
        id="cors",
    ),
    pytest.param(
        "'*' alone allows every origin, method and header, so nothing else is listed",
        {"cors": {"allowOrigins": ["*", "https://a.example.com"], "allowMethods": ["GET", "*"],
                  "allowHeaders": ["*", "x-a"], "maxAge": 0}},
        "api", ("corsPolicy",),
        {"allowOrigins": [{"regex": ".*"}], "allowMethods": ["*"], "allowHeaders": ["*"],
         "allowCredentials": False},
        id="cors-wildcard",
    ),
    pytest.param(
        "CORS without origins allows nothing, so no policy is composed",
        {"cors": {"allowMethods": ["GET"]}}, "api", ("corsPolicy",), MISSING,
        id="cors-no-origins",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("reason", "app", "route", "path", "expected"), ISTIO_CASES)
def test_istio_route_features(
    reason: str, app: dict[str, Any], route: str, path: tuple[str, ...], expected: Any
) -> None:
    """Each app feature becomes the VirtualService field Istio's v1 CRD defines for it."""
    routes = istio_routes(composed([{**API, **app}], build=istio.build))
    assert dig(routes[route], *path) == expected, reason


# Gateway API's ReplacePrefixMatch table (HTTPPathModifier in the HTTPRoute CRD) and
# what the Istio route's regex rewrite makes of the same paths.
REWRITES = [
    pytest.param("/foo", "/xyz", "/foo/bar", "/xyz/bar", id="segment"),
    pytest.param("/foo", "/xyz/", "/foo/bar", "/xyz/bar", id="target-trailing-slash"),
    pytest.param("/foo/", "/xyz", "/foo/bar", "/xyz/bar", id="prefix-trailing-slash"),
    pytest.param("/foo", "/xyz", "/foo", "/xyz", id="exact-prefix"),
    pytest.param("/foo", "/xyz", "/foo/", "/xyz/", id="prefix-with-slash"),
    pytest.param("/foo", "/", "/foo/bar", "/bar", id="strip-prefix"),
    pytest.param("/foo", "/", "/foo", "/", id="strip-to-root"),
    pytest.param("/foo", "/", "/foo/", "/", id="strip-slash-to-root"),
    pytest.param("/", "/v1", "/bar", "/v1/bar", id="root-prefix"),
    # Only '/' ends a prefix: a last 'X' is part of the segment's name, in either.
    pytest.param("/fooX", "/xyz", "/fooX/bar", "/xyz/bar", id="prefix-ends-in-x"),
    pytest.param("/foo", "/xyzX", "/foo/bar", "/xyzX/bar", id="target-ends-in-x"),
]


@pytest.mark.parametrize(("prefix", "rewrite", "path", "expected"), REWRITES)
def test_istio_rewrite_matches_gateway_api(
    prefix: str, rewrite: str, path: str, expected: str
) -> None:
    """The Istio regex rewrite gives the paths Gateway API's ReplacePrefixMatch defines."""
    app = {**API, "pathPrefix": prefix, "rewrite": rewrite}
    regex = istio_routes(composed([app], build=istio.build))["api"]["rewrite"]["uriRegexRewrite"]
    # Envoy substitutes RE2 groups as \1, as Python's re does.
    assert re.sub(regex["match"], regex["rewrite"], path, count=1) == expected


def test_rewrite_to_same_root_is_no_rewrite() -> None:
    """Rewriting '/' to '/' changes nothing, so no rewrite is composed."""
    routes = istio_routes(composed([{**API, "pathPrefix": "/", "rewrite": "/"}], build=istio.build))
    assert "rewrite" not in routes["api"]


def test_virtual_service_routes() -> None:
    """Longest prefix first, each route bound to this environment's tenant header."""
    apps = [
        {"name": "web", "pathPrefix": "/", "service": "web"},
        {"name": "api", "pathPrefix": "/api", "service": "api", "namespace": "backend",
         "port": 8080},
        {"name": "v2", "pathPrefix": "/api/v2", "service": "api-v2", "namespace": "backend"},
    ]  # fmt: skip
    vs = embedded(istio.build(context(claim(apps=apps))), keys.INGRESS_ROUTES)
    http = vs["spec"]["http"]
    assert [r["match"][0]["uri"]["prefix"] for r in http] == ["/api/v2", "/api", "/"]
    assert all(r["match"][0]["headers"] == {naming.TENANT_HEADER: {"exact": SLUG}} for r in http)
    destination = http[1]["route"][0]["destination"]
    assert destination == {
        "host": "api-x-backend-x-prod-env.vcluster-prod-env-381583e839d74e93.svc.cluster.local",
        "port": {"number": 8080},
    }
    assert vs["spec"]["gateways"] == ["vcluster-prod-env-381583e839d74e93/prod-env-gateway"]


@pytest.mark.usefixtures("crds_present")
def test_istio_resources_exactly() -> None:
    """A Gateway on the shared ingress gateway's pods and port, and one VirtualService bound to it.

    The Gateway listens on the platform's service port, plain HTTP, for any host: hosts and
    the tenant are matched on headers in the VirtualService, not by the Gateway.
    """
    ctx = context(xr([{"name": "web", "service": "web"}]),
                  ingress_input(ISTIO, selector={"app": "edge"}, servicePort=8081))  # fmt: skip
    desired = istio.build(ctx)
    assert [(item.key, item.role, item.waiting_for) for item in desired] == [
        (keys.INGRESS_GATEWAY, None, ""), (keys.INGRESS_ROUTES, None, "")
    ]  # fmt: skip
    # Each Object is labelled with its own key, as every composed resource is.
    assert [objects(desired)[item.key]["metadata"] for item in desired] == [
        ctx.metadata(item.key) for item in desired
    ]
    namespace = f"vcluster-{SLUG}"
    gateway = embedded(desired, keys.INGRESS_GATEWAY)
    assert gateway == {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "prod-env-gateway", "namespace": namespace,
                     "labels": ctx.labels(keys.INGRESS_GATEWAY)},
        "spec": {
            "selector": {"app": "edge"},
            "servers": [{"port": {"number": 8081, "name": "http", "protocol": "HTTP"},
                         "hosts": ["*"]}],
        },
    }  # fmt: skip
    routes = embedded(desired, keys.INGRESS_ROUTES)
    assert routes == {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "prod-env-routes", "namespace": namespace,
                     "labels": ctx.labels(keys.INGRESS_ROUTES)},
        "spec": {
            "hosts": ["*"],
            "gateways": [f"{namespace}/prod-env-gateway"],
            "http": [{"name": "web", "match": [{"uri": {"prefix": "/"}, "headers": TENANT}],
                      "route": [{"destination": {"host": fqdn("web", "default"),
                                                 "port": {"number": 80}}}]}],
        },
    }  # fmt: skip
    assert crdcheck.validate(gateway) == []
    assert crdcheck.validate(routes) == []


@pytest.mark.parametrize(
    ("reason", "mode", "apps", "keys_built"),
    [
        pytest.param("without apps there is nothing to route: the Gateway alone", ISTIO, [],
                     [keys.INGRESS_GATEWAY], id="no-apps"),
        pytest.param("in gatewayAPI mode the platform's Gateway takes HTTPRoutes instead",
                     GATEWAY_API, [API], [], id="gateway-api-mode"),
    ],
)  # fmt: skip
def test_istio_resources_built(
    reason: str, mode: str, apps: list[dict[str, Any]], keys_built: list[str]
) -> None:
    """Which of the Istio resources are composed."""
    desired = istio.build(context(xr(apps), ingress_input(mode)))
    assert [item.key for item in desired] == keys_built, reason
