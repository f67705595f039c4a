"""Ingress routing in both modes: features, order, Fatal results, CRD validity, tenant isolation.

The Object's ``forProvider.manifest`` is preserve-unknown-fields, so the Istio and
Gateway API manifests inside it are validated against their own CRDs here.
"""

from __future__ import annotations

import re
from typing import Any

import crdcheck
import pytest
from conftest import EXAMPLES, SEED, as_shape, load, platform_input, skip_or_fail

from function.builders import destinationrules, gatewayapi, istio
from function.compose import compose
from function.model import keys, naming
from function.model.context import Context, Desired
from function.model.naming import Shape
from function.model.observed import Observed
from function.model.platform import parse_input
from function.model.spec import parse_spec
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate
from function.ordering import needs

ISTIO, GATEWAY_API = "istio", "gatewayAPI"
MODES = (ISTIO, GATEWAY_API)
SHAPES = ("legacy", "namespaced")
ENV = "prod-env"
LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shared/"
    "0123456789abcdef/0123456789abcdef"
)
SHARED = {"listenerArn": LISTENER, "vpcLinkId": "abc123"}
MISSING = object()  # a field the route must not carry
API = {"name": "api", "pathPrefix": "/api", "service": "api", "namespace": "backend", "port": 8080}
TENANT = {naming.TENANT_HEADER: {"exact": ENV}}
SPLIT = [
    {"service": "api", "weight": 90},
    {"service": "api-next", "namespace": "next", "port": 9090, "weight": 10},
]


def _xr(
    apps: list[dict[str, Any]], *, env: str = ENV, shape: str = "legacy", **spec: Any
) -> dict[str, Any]:
    xr = as_shape(load(SEED), shape)
    xr["spec"].update(name=env, apps=apps, **spec)
    return xr


def _input(mode: str | None = None, **ingress: Any) -> dict[str, Any]:
    function_input = platform_input()
    if mode is not None:
        function_input["ingressMode"] = mode
    function_input["ingressGateway"] = {**function_input["ingressGateway"], **ingress}
    return function_input


def _context(xr: dict[str, Any], function_input: dict[str, Any]) -> Context:
    namespace = xr["metadata"].get("namespace")
    return Context(
        spec=parse_spec(xr["spec"]),
        platform=parse_input(function_input),
        shape=Shape.NAMESPACED if namespace else Shape.LEGACY,
        xr_name=xr["metadata"]["name"],
        xr_namespace=namespace,
        observed=Observed({}),
    )


def _routing(ctx: Context) -> list[Desired]:
    """Every ingress builder's resources, in the pipeline's order."""
    return [
        d for build in (istio.build, gatewayapi.build, destinationrules.build) for d in build(ctx)
    ]


def _composed(
    apps: list[dict[str, Any]], mode: str | None = None, *, shape: str = "legacy", **spec: Any
) -> dict[str, dict[str, Any]]:
    """The routing builder's Objects by key (gating aside: routes wait only for the namespace)."""
    ctx = _context(_xr(apps, shape=shape, **spec), _input(mode))
    desired = _routing(ctx)
    assert all(needs(ctx, d, {"namespace"}) == ("namespace",) for d in desired)
    return {d.key: d.manifest for d in desired if d.manifest is not None}


def _manifest(resources: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    manifest: dict[str, Any] = resources[key]["spec"]["forProvider"]["manifest"]
    return manifest


def _istio_routes(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in _manifest(resources, keys.INGRESS_ROUTES)["spec"]["http"]}


def _gateway_rules(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        rule["name"]: rule
        for key in resources
        if key.startswith(keys.HTTPROUTE)
        for rule in _manifest(resources, key)["spec"]["rules"]
    }


def _dig(value: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


@pytest.fixture(autouse=True)
def _crds_present() -> None:
    if not crdcheck.crds_dir().is_dir():
        skip_or_fail(f"shared CRDs not found at {crdcheck.crds_dir()}")


def _fqdn(service: str, namespace: str = "backend") -> str:
    return f"{service}-x-{namespace}-x-{ENV}.vcluster-{ENV}.svc.cluster.local"


ISTIO_CASES = [
    pytest.param(
        "a canary split sends weighted shares, namespace and port defaulting to the app's",
        {"destinations": SPLIT},
        "api", ("route",),
        [{"destination": {"host": _fqdn("api"), "port": {"number": 8080}}, "weight": 90},
         {"destination": {"host": _fqdn("api-next", "next"), "port": {"number": 9090}},
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
        [{"destination": {"host": _fqdn("api-v2"), "port": {"number": 8080}}}],
        id="header-canary-backend",
    ),
    pytest.param(
        "each host is one authority match that ignores the port, each with the tenant header",
        {"hosts": ["b.example.com", "a.example.com"]},
        "api", ("match",),
        [{"uri": {"prefix": "/api"}, "headers": TENANT,
          "authority": {"regex": r"a\.example\.com(:[0-9]+)?"}},
         {"uri": {"prefix": "/api"}, "headers": TENANT,
          "authority": {"regex": r"b\.example\.com(:[0-9]+)?"}}],
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
    routes = _istio_routes(_composed([{**API, **app}]))
    assert _dig(routes[route], *path) == expected, reason


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
          "headers": [{"type": "Exact", "name": naming.TENANT_HEADER, "value": ENV},
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
    rules = _gateway_rules(_composed([{**API, **app}], GATEWAY_API))
    assert _dig(rules[rule], *path) == expected, reason


def test_gateway_api_http_route() -> None:
    """An app's HTTPRoute lives in the host namespace, attaches to the shared Gateway, has hosts."""
    ctx = _context(
        _xr([{**API, "hosts": ["b.example.com", "a.example.com"]}]),
        _input(GATEWAY_API, gatewayName="edge", gatewayNamespace="gateways", gatewaySection="http"),
    )
    (desired,) = [d for d in _routing(ctx) if d.key.startswith(keys.HTTPROUTE)]
    assert desired.key == "ingress-httproute-api"
    assert desired.manifest is not None
    route = desired.manifest["spec"]["forProvider"]["manifest"]
    assert route["metadata"]["namespace"] == f"vcluster-{ENV}"
    assert route["metadata"]["name"] == f"{ENV}-api"
    assert route["spec"]["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge",
         "namespace": "gateways", "sectionName": "http"}
    ]  # fmt: skip
    assert route["spec"]["hostnames"] == ["a.example.com", "b.example.com"]
    assert crdcheck.validate(route) == []


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
]


@pytest.mark.parametrize(("prefix", "rewrite", "path", "expected"), REWRITES)
def test_istio_rewrite_matches_gateway_api(
    prefix: str, rewrite: str, path: str, expected: str
) -> None:
    """The Istio regex rewrite gives the paths Gateway API's ReplacePrefixMatch defines."""
    app = {**API, "pathPrefix": prefix, "rewrite": rewrite}
    regex = _istio_routes(_composed([app]))["api"]["rewrite"]["uriRegexRewrite"]
    # Envoy substitutes RE2 groups as \1, as Python's re does.
    assert re.sub(regex["match"], regex["rewrite"], path, count=1) == expected


def test_rewrite_to_same_root_is_no_rewrite() -> None:
    """Rewriting '/' to '/' changes nothing, so no rewrite is composed."""
    routes = _istio_routes(_composed([{**API, "pathPrefix": "/", "rewrite": "/"}]))
    assert "rewrite" not in routes["api"]


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
            "host-bound first (Gateway API's hostname precedence), then the longest prefix, "
            "each header canary just before its app",
            ISTIO, ["shop", "v2", "api-canary", "api", "web"], id="istio",
        ),
        pytest.param(
            "the HTTPRoutes and their rules come in the same order as the Istio routes",
            GATEWAY_API, ["shop", "v2", "api-canary", "api", "web"], id="gateway-api",
        ),
    ],
)  # fmt: skip
def test_route_order(reason: str, mode: str, expected: list[str]) -> None:
    """Both modes list routes most specific first, so the first match is the right one."""
    resources = _composed(ORDER_APPS, mode)
    names = list(_istio_routes(resources) if mode == ISTIO else _gateway_rules(resources))
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
    assert list(_composed(apps, mode)) == keys, reason


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
    """``routing.build`` dispatches on the environment's, else the platform's, ingressMode."""
    spec = {} if spec_mode is None else {"ingressMode": spec_mode}
    ctx = _context(_xr([API], **spec), _input(input_mode))
    kinds = {d.manifest["spec"]["forProvider"]["manifest"]["kind"] for d in _routing(ctx)}
    assert kind in kinds, reason


@pytest.mark.parametrize("mode", MODES)
def test_destination_rule(mode: str) -> None:
    """A circuit breaker is a DestinationRule for the app's Service in both modes.

    Istio applies a DestinationRule to the Service whichever API routed the request.
    """
    breaker = {"maxConnections": 200, "maxPendingRequests": 50, "consecutive5xxErrors": 7,
               "interval": "5s", "baseEjectionTime": "1m", "maxEjectionPercent": 30}  # fmt: skip
    resources = _composed([{**API, "circuitBreaker": breaker}], mode)
    rule = _manifest(resources, "destination-rule-api")
    assert rule["metadata"]["namespace"] == f"vcluster-{ENV}"
    assert rule["spec"] == {
        "host": _fqdn("api"),
        "trafficPolicy": {
            "connectionPool": {
                "tcp": {"maxConnections": 200},
                "http": {"http1MaxPendingRequests": 50},
            },
            "outlierDetection": {
                "consecutive5xxErrors": 7,
                "interval": "5s",
                "baseEjectionTime": "1m",
                "maxEjectionPercent": 30,
            },
        },
    }


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
        "spec.apps[0].cors.allowHeaders: 'x a' is not an HTTP header name",
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
    outcome = compose(_xr(apps, **spec), {}, _input(mode))
    assert outcome.fatal == fatal, reason
    assert outcome.resources == {}


RICH_APPS = load(EXAMPLES / "claim-routing.yaml")["spec"]["apps"]
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
    resources = _composed(apps, mode, shape=shape)
    groups = {_manifest(resources, key)["apiVersion"].split("/")[0] for key in resources}
    assert groups == {"networking.istio.io", "gateway.networking.k8s.io"} - (
        {"gateway.networking.k8s.io"} if mode == ISTIO else set()
    )
    problems = [
        f"{key} {body['kind']}: {error}"
        for key, body in resources.items()
        for error in crdcheck.validate(body) + crdcheck.validate(_manifest(resources, key))
    ]
    assert problems == []


def _converged(xr: dict[str, Any], function_input: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = simulate(xr, function_input)
    assert result.converged, result.fatal
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    outcome = compose(xr, observed, function_input)
    assert outcome.fatal is None
    return outcome.resources


def _requirements(manifest: dict[str, Any]) -> list[dict[str, str]]:
    """The exact headers each match of a VirtualService or HTTPRoute requires."""
    if manifest["kind"] == "VirtualService":
        return [
            {name: m["exact"] for name, m in match["headers"].items()}
            for route in manifest["spec"]["http"]
            for match in route["match"]
        ]
    return [
        {h["name"]: h["value"] for h in match["headers"] if h["type"] == "Exact"}
        for rule in manifest["spec"]["rules"]
        for match in rule["matches"]
    ]


def _backends(manifest: dict[str, Any]) -> list[str]:
    """Where each backend lives: the Service's namespace as the proxy resolves it."""
    namespace = manifest["metadata"]["namespace"]
    if manifest["kind"] == "VirtualService":
        return [
            d["destination"]["host"].split(".")[1]
            for route in manifest["spec"]["http"]
            for d in route["route"]
        ]
    if manifest["kind"] == "DestinationRule":
        return [manifest["spec"]["host"].split(".")[1]]
    return [
        ref.get("namespace", namespace)
        for rule in manifest["spec"]["rules"]
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
    function_input = {**_input(mode), "shared": SHARED}
    envs = ("team-a", "team-b")
    composed = {env: _converged(_xr(apps, env=env), function_input) for env in envs}
    for env, resources in composed.items():
        integration = resources["integration"]["spec"]["forProvider"]
        assert integration["integrationUri"] == LISTENER
        assert integration["connectionId"] == SHARED["vpcLinkId"]
        sent = integration["requestParameters"][f"overwrite:header.{naming.TENANT_HEADER}"]
        assert sent == env
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
        assert all(match[naming.TENANT_HEADER] == env for match in required)
        assert {ns for m in manifests for ns in _backends(m)} == {f"vcluster-{env}"}
        assert {m["metadata"]["namespace"] for m in manifests} == {f"vcluster-{env}"}
    for env in envs:
        other = next(e for e in envs if e != env)
        routes = composed[other].values()
        assert not any(
            match[naming.TENANT_HEADER] == env
            for r in routes
            if r["kind"] == "Object"
            and r["spec"]["forProvider"]["manifest"]["kind"] in {"VirtualService", "HTTPRoute"}
            for match in _requirements(r["spec"]["forProvider"]["manifest"])
        )
