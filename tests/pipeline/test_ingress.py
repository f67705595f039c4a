"""Ingress through the pipeline: both modes, order, Fatal results, CRD validity, tenants.

The Object's ``forProvider.manifest`` is preserve-unknown-fields, so the Istio and
Gateway API manifests inside it are validated against their own CRDs here.
"""

from __future__ import annotations

from typing import Any

import crdcheck
import pytest
from apps import (
    API,
    GATEWAY_API,
    INGRESS,
    ISTIO,
    LISTENER,
    MODES,
    SHAPES,
    SHARED,
    composed,
    gateway_rules,
    ingress,
    ingress_input,
    istio_routes,
    manifest,
    xr,
)
from conftest import EXAMPLES, converged_observed, load
from contexts import SEED_SUFFIX, context

from function.compose import BUILDERS, compose
from function.model import naming
from function.ordering import needs

pytestmark = pytest.mark.usefixtures("crds_present")


ORDER_APPS = [
    {"name": "web", "pathPrefix": "/", "service": "web"},
    {"name": "api", "pathPrefix": "/api", "service": "api",
     "headerCanary": {"header": "x-v", "value": "2", "service": "api-v2"}},
    {"name": "v2", "pathPrefix": "/api/v2", "service": "api-v2"},
    {"name": "shop", "hosts": ["shop.example.com"], "pathPrefix": "/", "service": "shop"},
]  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "mode", "expected"),
    [
        pytest.param(
            "the longest prefix first, host-bound before others on one prefix (Gateway API's "
            "header-count precedence), each header canary just before its app",
            ISTIO, ["v2", "api-canary", "api", "shop", "web"], id="istio",
        ),
        pytest.param(
            "the HTTPRoutes and their rules come in the same order as the Istio routes",
            GATEWAY_API, ["v2", "api-canary", "api", "shop", "web"], id="gateway-api",
        ),
    ],
)  # fmt: skip
def test_route_order(reason: str, mode: str, expected: list[str]) -> None:
    """Both modes list routes most specific first, so the first match is the right one."""
    resources = composed(ORDER_APPS, mode)
    names = list(istio_routes(resources) if mode == ISTIO else gateway_rules(resources))
    assert names == expected, reason


@pytest.mark.parametrize(
    ("reason", "mode", "apps", "keys"),
    [
        pytest.param(
            "Istio mode keeps today's keys and adds one DestinationRule per circuit breaker",
            ISTIO, [API, {**API, "name": "cb", "pathPrefix": "/cb", "service": "cb",
                          "circuitBreaker": {}}],
            ["ingress-gateway", "ingress-routes", "destination-rule-cb"], id="istio",
        ),
        pytest.param(
            "Istio mode without apps composes the Gateway alone, as before",
            ISTIO, [], ["ingress-gateway"], id="istio-no-apps",
        ),
        pytest.param(
            "Gateway API mode composes one HTTPRoute per app and no Istio Gateway",
            GATEWAY_API, [API, {**API, "name": "cb", "pathPrefix": "/cb", "service": "cb",
                                "circuitBreaker": {}}],
            ["ingress-httproute-api", "ingress-httproute-cb", "destination-rule-cb"],
            id="gateway-api",
        ),
        pytest.param(
            "Gateway API mode without apps composes nothing: the Gateway is the platform's",
            GATEWAY_API, [], [], id="gateway-api-no-apps",
        ),
    ],
)  # fmt: skip
def test_composed_keys(reason: str, mode: str, apps: list[dict[str, Any]], keys: list[str]) -> None:
    """Keys are stable names (renaming one deletes and recreates the resource)."""
    assert list(composed(apps, mode)) == keys, reason


@pytest.mark.parametrize(
    ("reason", "spec_mode", "input_mode", "kind"),
    [
        pytest.param("the platform default is Istio", None, None, "VirtualService", id="default"),
        pytest.param("the platform may choose Gateway API for every environment",
                     None, GATEWAY_API, "HTTPRoute", id="platform"),
        pytest.param("an environment may choose Gateway API itself",
                     GATEWAY_API, None, "HTTPRoute", id="claim"),
        pytest.param("an environment's choice wins over the platform's",
                     ISTIO, GATEWAY_API, "VirtualService", id="claim-wins"),
    ],
)  # fmt: skip
def test_mode_selection(
    reason: str, spec_mode: str | None, input_mode: str | None, kind: str
) -> None:
    """The ingress builders follow the environment's, else the platform's, ingressMode."""
    spec = {} if spec_mode is None else {"ingressMode": spec_mode}
    ctx = context(xr([API], **spec), ingress_input(input_mode))
    kinds = {d.manifest["spec"]["forProvider"]["manifest"]["kind"] for d in ingress(ctx)}
    assert kind in kinds, reason


@pytest.mark.parametrize("mode", MODES)
def test_ingress_waits_only_for_its_namespace(mode: str) -> None:
    """Routes, HTTPRoutes and DestinationRules are created once the host namespace is."""
    breaker = {**API, "name": "cb", "pathPrefix": "/cb", "service": "cb", "circuitBreaker": {}}
    ctx = context(xr([API, breaker]), ingress_input(mode))
    desired = ingress(ctx)
    assert desired
    assert all(needs(ctx, d, {"namespace"}) == ("namespace",) for d in desired)


def test_ingress_builders_run_in_this_order() -> None:
    """The pipeline runs the ingress builders in the order these tests assume."""
    assert [build for build in BUILDERS if build in INGRESS] == list(INGRESS)


RETRIES_FATAL = (
    "spec.apps[0].retries: not supported with ingressMode gatewayAPI (Gateway API v1.6 "
    "standard HTTPRoute has no retry field); use ingressMode istio"
)
FATALS = [
    pytest.param(
        "Gateway API's standard HTTPRoute has no retries, so asking for them is refused",
        GATEWAY_API, [{**API, "retries": {}}], {}, RETRIES_FATAL,
        id="gateway-api-retries",
    ),
    pytest.param(
        "a canary on the tenant header could send another tenant's traffic here",
        ISTIO, [{**API, "headerCanary": {"header": naming.TENANT_HEADER, "value": "x",
                                         "service": "s"}}], {},
        "spec.apps[0].headerCanary.header: 'x-vcluster-environment' is the tenant header the "
        "API Gateway integration sets; a canary cannot match on it",
        id="canary-on-tenant-header",
    ),
    pytest.param(
        "two apps on one host and prefix would be routed in arbitrary order",
        GATEWAY_API, [{**API, "hosts": ["a.example.com", "b.example.com"]},
                      {**API, "name": "other", "hosts": ["b.example.com"]}], {},
        "spec.apps[1].pathPrefix: '/api' on host 'b.example.com' is already routed to app "
        "'api' (a trailing '/' makes no new route)",
        id="overlapping-hosts",
    ),
    pytest.param(
        "Gateway API ignores a trailing '/', so '/api/' is the same route as '/api'",
        ISTIO, [API, {**API, "name": "other", "pathPrefix": "/api/"}], {},
        "spec.apps[1].pathPrefix: '/api/' is already routed to app 'api' (a trailing '/' "
        "makes no new route)",
        id="trailing-slash",
    ),
    pytest.param(
        "a path with '//' never matches a normalized request path",
        ISTIO, [{**API, "pathPrefix": "/api//v1"}], {},
        "spec.apps[0].pathPrefix: '/api//v1' is not a normalized URL path (it contains '//', "
        "'/./' or '/../', or ends in '/.' or '/..'); proxies normalize request paths first",
        id="unnormalized-path",
    ),
    pytest.param(
        "API Gateway drops backend CORS headers when the API has CORS of its own",
        ISTIO, [{**API, "cors": {"allowOrigins": ["https://a.example.com"]}}],
        {"apiGateway": {"cors": {"allowOrigins": ["https://b.example.com"]}}},
        "spec.apps[0].cors: spec.apiGateway.cors.allowOrigins is set too, and then API Gateway "
        "answers preflights itself and drops the CORS headers of the backend; configure CORS "
        "on the API or per app, not both",
        id="cors-twice",
    ),
    pytest.param(
        "an origin with '*' inside a label matches nothing either proxy can express",
        GATEWAY_API, [{**API, "cors": {"allowOrigins": ["https://a*.example.com"]}}], {},
        "spec.apps[0].cors.allowOrigins: 'https://a*.example.com' is not an origin the ingress "
        "can match (scheme://host[:port], with '*' only alone or as the first host label, "
        "e.g. https://*.example.com)",
        id="cors-origin",
    ),
    pytest.param(
        "a header name with a space is not an HTTP token",
        ISTIO, [{**API, "cors": {"allowOrigins": ["https://a.example.com"],
                                 "allowHeaders": ["x a"]}}], {},
        "spec.apps[0].cors.allowHeaders[0]: 'x a' is not an HTTP header name",
        id="cors-header",
    ),
    pytest.param(
        "Istio's validation webhook rejects unknown retry conditions",
        ISTIO, [{**API, "retries": {"retryOn": "5xx,sometimes"}}], {},
        "spec.apps[0].retries.retryOn: 'sometimes' is not a retry condition Istio accepts (one "
        "of 5xx, cancelled, connect-failure, deadline-exceeded, envoy-ratelimited, "
        "gateway-error, http3-post-connect-failure, internal, refused-stream, reset, "
        "reset-before-request, resource-exhausted, retriable-4xx, retriable-headers, "
        "retriable-status-codes, unavailable, or an HTTP status code)",
        id="retry-on",
    ),
    pytest.param(
        "outlier detection needs a positive interval (Istio CEL: at least 1ms)",
        GATEWAY_API, [{**API, "circuitBreaker": {"interval": "0s"}}], {},
        "spec.apps[0].circuitBreaker.interval: '0s' must be at least 1ms",
        id="breaker-interval",
    ),
    pytest.param(
        "the connection pool limits are int32 in the DestinationRule CRD",
        ISTIO, [{**API, "circuitBreaker": {"maxConnections": 2**31}}], {},
        "spec.apps[0].circuitBreaker.maxConnections: 2147483648 is more than the maximum "
        "2147483647",
        id="breaker-int32",
    ),
    pytest.param(
        "Istio applies one DestinationRule per host, so a second breaker would be ignored",
        ISTIO, [{**API, "circuitBreaker": {}},
                {**API, "name": "other", "pathPrefix": "/other", "circuitBreaker": {}}], {},
        "spec.apps[1].circuitBreaker: app 'api' already has one for service 'api' in namespace "
        "'backend', and Istio applies one DestinationRule per host; set it on one of them",
        id="breaker-twice",
    ),
    pytest.param(
        "the Gateway API CORS filter takes at most 64 origins",
        GATEWAY_API, [{**API, "cors": {"allowOrigins": [f"https://a{i}.example.com"
                                                        for i in range(65)]}}], {},
        "spec.apps[0].cors.allowOrigins: 65 given; the Gateway API CORS filter takes at most 64",
        id="cors-too-many",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("reason", "mode", "apps", "spec", "fatal"), FATALS)
def test_fatal(
    reason: str, mode: str, apps: list[dict[str, Any]], spec: dict[str, Any], fatal: str
) -> None:
    """What no route can express is one Fatal result naming the field, never dropped silently."""
    outcome = compose(xr(apps, **spec), {}, ingress_input(mode))
    assert outcome.fatal == fatal, reason
    assert outcome.resources == {}


RICH_APPS = load(EXAMPLES / "routing" / "claim.yaml")["spec"]["apps"]
# Everything Gateway API supports: the rich example without retries.
RICH_GATEWAY_API_APPS = [{k: v for k, v in app.items() if k != "retries"} for app in RICH_APPS]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("mode", "apps"),
    [pytest.param(ISTIO, RICH_APPS, id=ISTIO), pytest.param(GATEWAY_API, RICH_GATEWAY_API_APPS,
                                                          id=GATEWAY_API)],
)  # fmt: skip
def test_embedded_manifests_are_crd_valid(
    mode: str, apps: list[dict[str, Any]], shape: str
) -> None:
    """Every Object and the Istio / Gateway API manifest inside it validate against their CRDs."""
    resources = composed(apps, mode, shape=shape)
    groups = {manifest(resources, key)["apiVersion"].split("/")[0] for key in resources}
    assert groups == {"networking.istio.io", "gateway.networking.k8s.io"} - (
        {"gateway.networking.k8s.io"} if mode == ISTIO else set()
    )
    problems = [
        f"{key} {body['kind']}: {error}"
        for key, body in resources.items()
        for error in crdcheck.validate(body) + crdcheck.validate(manifest(resources, key))
    ]
    assert problems == []


def _converged(claim: dict[str, Any], function_input: dict[str, Any]) -> dict[str, dict[str, Any]]:
    observed = converged_observed(claim, function_input)
    outcome = compose(claim, observed, function_input)
    assert outcome.fatal is None
    return outcome.resources


def _requirements(routes: dict[str, Any]) -> list[dict[str, str]]:
    """The exact headers each match of a VirtualService or HTTPRoute requires."""
    if routes["kind"] == "VirtualService":
        return [
            {name: m["exact"] for name, m in match["headers"].items()}
            for route in routes["spec"]["http"]
            for match in route["match"]
        ]
    return [
        {h["name"]: h["value"] for h in match["headers"] if h["type"] == "Exact"}
        for rule in routes["spec"]["rules"]
        for match in rule["matches"]
    ]


def _backends(routes: dict[str, Any]) -> list[str]:
    """Where each backend lives: the Service's namespace as the proxy resolves it."""
    namespace = routes["metadata"]["namespace"]
    if routes["kind"] == "VirtualService":
        return [
            d["destination"]["host"].split(".")[1]
            for route in routes["spec"]["http"]
            for d in route["route"]
        ]
    if routes["kind"] == "DestinationRule":
        return [routes["spec"]["host"].split(".")[1]]
    return [
        ref.get("namespace", namespace)
        for rule in routes["spec"]["rules"]
        for ref in rule["backendRefs"]
    ]


@pytest.mark.parametrize(
    ("mode", "apps"),
    [pytest.param(ISTIO, RICH_APPS, id=ISTIO), pytest.param(GATEWAY_API, RICH_GATEWAY_API_APPS,
                                                          id=GATEWAY_API)],
)  # fmt: skip
def test_tenants_sharing_listener_and_ingress_stay_apart(
    mode: str, apps: list[dict[str, Any]]
) -> None:
    """Two environments on one listener, VPC link and ingress reach only their own Services.

    Each API sends its own environment name in the tenant header; every route of an
    environment, header canaries included, requires exactly that value, so a
    request from the other API matches none of them; and every backend is a
    Service in the environment's own host namespace.
    """
    function_input = {**ingress_input(mode), "shared": SHARED}
    envs = ("team-a", "team-b")
    composed = {env: _converged(xr(apps, env=env), function_input) for env in envs}
    for env, resources in composed.items():
        integration = resources["integration"]["spec"]["forProvider"]
        assert integration["integrationUri"] == LISTENER
        assert integration["connectionId"] == SHARED["vpcLinkId"]
        sent = integration["requestParameters"][f"overwrite:header.{naming.TENANT_HEADER}"]
        assert sent == f"{env}-{SEED_SUFFIX['legacy']}"
        manifests = [
            r["spec"]["forProvider"]["manifest"]
            for r in resources.values()
            if r["kind"] == "Object"
            and r["spec"]["forProvider"]["manifest"]["kind"]
            in {"VirtualService", "HTTPRoute", "DestinationRule"}
        ]
        routes = [m for m in manifests if m["kind"] != "DestinationRule"]
        required = [match for m in routes for match in _requirements(m)]
        assert len(required) > len(apps)  # header canary and host matches are in here too
        assert all(match[naming.TENANT_HEADER] == sent for match in required)
        assert {ns for m in manifests for ns in _backends(m)} == {f"vcluster-{sent}"}
        assert {m["metadata"]["namespace"] for m in manifests} == {f"vcluster-{sent}"}
    for env in envs:
        other = next(e for e in envs if e != env)
        routes = composed[other].values()
        assert not any(
            match[naming.TENANT_HEADER] == f"{env}-{SEED_SUFFIX['legacy']}"
            for r in routes
            if r["kind"] == "Object"
            and r["spec"]["forProvider"]["manifest"]["kind"] in {"VirtualService", "HTTPRoute"}
            for match in _requirements(r["spec"]["forProvider"]["manifest"])
        )
