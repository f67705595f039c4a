"""Ingress routing on the host cluster: shared ingress -> this environment's vCluster services.

Every environment may share one listener, one VPC link and one ingress, so every
route matches the tenant header that only this environment's API Gateway
integration sets (``overwrite:header.x-vcluster-environment``), and every backend
is a Service that vCluster synced into this environment's own host namespace. A
request that entered through another environment's API never matches these
routes, and these routes never reach another environment's Services.

The apps become one validated, mode-neutral, ordered list of ``Route`` values;
``ingressMode`` then picks the renderer: an Istio Gateway and one VirtualService
(here) or HTTPRoutes on the platform's shared Gateway (``gatewayapi``). Circuit
breakers are Istio DestinationRules in both modes: Istio applies them to the
Service whichever routing API sent the request there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from function import gatewayapi, naming
from function.compose_errors import InvalidError
from function.model import Context, Desired
from function.vcluster import NAMESPACE

if TYPE_CHECKING:
    from collections.abc import Iterable

    from function.spec import App, CircuitBreaker, Cors, Retries

GATEWAY = "ingress-gateway"
ROUTES = "ingress-routes"
DESTINATION_RULE = "destination-rule"  # one per app: destination-rule-<app name>
ISTIO_API = "networking.istio.io/v1"
GATEWAY_API_MODE = "gatewayAPI"
INT32_MAX = 2**31 - 1

_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000}
_DURATION = re.compile(r"(\d+)(ms|s|m|h)")
# Proxies normalise request paths, so a prefix holding these never matches, and
# Gateway API's CEL rules reject them outright.
_UNNORMALIZED = ("//", "/./", "/../")
_UNNORMALIZED_END = ("/.", "/..")
# The origins both Istio and Gateway API can match: the HTTPRoute CORS filter's
# pattern ('*' alone, or as the first host label).
_ORIGIN = re.compile(r"^\*$|^https?://((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:[0-9]{1,5})?$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an RFC 9110 token
# Envoy's retry conditions, as Istio's validation webhook lists them (pkg/config/validation).
RETRY_ON = frozenset(
    {
        "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
        "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
        "envoy-ratelimited", "http3-post-connect-failure", "cancelled", "deadline-exceeded",
        "internal", "resource-exhausted", "unavailable",
    }
)  # fmt: skip
_STATUS_CODES = frozenset(str(status.value) for status in HTTPStatus)  # retryOn may list codes


@dataclass(frozen=True)
class Backend:
    """A Service inside the vCluster and its share of a route's traffic."""

    service: str
    namespace: str
    port: int
    weight: int | None = None  # None: the route's only backend


@dataclass(frozen=True)
class CorsPolicy:
    """An app's CORS settings, normalised so that both modes accept them."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    credentials: bool
    max_age_seconds: int | None  # None: the proxy's default

    def render(self, origins: list[Any], max_age: Any) -> dict[str, Any]:  # noqa: ANN401
        """The policy in the field names Istio and Gateway API share.

        Each mode passes origins and max age in its own format.
        """
        policy: dict[str, Any] = {"allowOrigins": origins, "allowCredentials": self.credentials}
        if self.methods:
            policy["allowMethods"] = list(self.methods)
        if self.headers:
            policy["allowHeaders"] = list(self.headers)
        if self.max_age_seconds is not None:
            policy["maxAge"] = max_age
        return policy


@dataclass(frozen=True)
class Route:
    """One routing rule, the same in both modes: what it matches and where it sends it."""

    name: str  # the app's name, or '<app>-canary'
    app: str
    field: str  # where errors point, e.g. 'spec.apps[2]'
    hosts: tuple[str, ...]  # empty: any host
    path_prefix: str
    headers: tuple[tuple[str, str], ...]  # exact matches, the tenant header first
    backends: tuple[Backend, ...]
    timeout: str | None = None  # None: no timeout
    retries: Retries | None = None
    rewrite: str | None = None
    cors: CorsPolicy | None = None

    @property
    def timeout_ms(self) -> int | None:
        """The timeout in milliseconds, for renderers that need another notation."""
        return None if self.timeout is None else duration_ms(self.timeout)


def duration_ms(text: str) -> int:
    """Milliseconds in a spec duration such as '500ms', '10s', '1m' or '2h'."""
    found = _DURATION.fullmatch(text)
    if found is None:
        msg = f"{text!r} is not a duration such as 500ms, 10s or 1m"
        raise ValueError(msg)
    return int(found.group(1)) * _UNIT_MS[found.group(2)]


def _positive(text: str | None) -> str | None:
    """A duration, or None for none or zero: a zero timeout means no timeout."""
    return text if text is not None and duration_ms(text) > 0 else None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """The values without repeats; '*' alone if listed, as it already allows everything."""
    unique = tuple(dict.fromkeys(values))
    return ("*",) if "*" in unique else unique


def _cors(cors: Cors | None) -> CorsPolicy | None:
    """The app's CORS policy; none without origins, as nothing is allowed then anyway."""
    if cors is None or not cors.allow_origins:
        return None
    return CorsPolicy(
        origins=_unique(cors.allow_origins),
        methods=_unique(cors.allow_methods),
        headers=_unique(cors.allow_headers),
        credentials=cors.allow_credentials,
        max_age_seconds=cors.max_age or None,
    )


def _backends(app: App) -> tuple[Backend, ...]:
    """The weighted canary split, or the app's own Service."""
    if not app.destinations:
        return (Backend(app.service, app.namespace, app.port),)
    return tuple(
        Backend(d.service, d.namespace or app.namespace, d.port or app.port, d.weight)
        for d in app.destinations
    )


def _app_routes(ctx: Context, index: int, app: App) -> list[Route]:
    """The app's header-canary route (if any) before its main route."""
    main = Route(
        name=app.name,
        app=app.name,
        field=f"spec.apps[{index}]",
        hosts=tuple(sorted(set(app.hosts))),
        path_prefix=app.path_prefix,
        headers=((naming.TENANT_HEADER, ctx.spec.name),),
        backends=_backends(app),
        timeout=_positive(app.timeout),
        retries=app.retries,
        rewrite=app.rewrite,
        cors=_cors(app.cors),
    )
    canary = app.header_canary
    if canary is None:
        return [main]
    return [
        replace(
            main,
            name=f"{app.name}-canary",
            # The tenant header stays: a canary header alone must not open a way in.
            headers=(*main.headers, (canary.header, canary.value)),
            backends=(
                Backend(canary.service, canary.namespace or app.namespace, canary.port or app.port),
            ),
        ),
        main,
    ]


def _specificity(app: App) -> tuple[bool, int, str, str]:
    """Host-bound apps first, then the longest prefix, so '/api/v2' wins over '/api'.

    Host-bound first is Gateway API's rule (the route with the matching hostname
    wins), so both modes send a request to the same app.
    """
    return (not app.hosts, -len(app.path_prefix), app.path_prefix, app.name)


def plan(ctx: Context) -> list[Route]:
    """Every app's routes, validated, in the order both modes match them.

    Raises:
        InvalidError: An app asks for something no route can express; names the field.
    """
    apps = list(ctx.spec.apps)
    for index, app in enumerate(apps):
        _check_app(ctx, index, app)
    _check_overlaps(apps)
    ordered = sorted(enumerate(apps), key=lambda pair: _specificity(pair[1]))
    return [route for index, app in ordered for route in _app_routes(ctx, index, app)]


def _check_path(field: str, value: str) -> None:
    if any(part in value for part in _UNNORMALIZED) or value.endswith(_UNNORMALIZED_END):
        msg = (
            f"{field}: {value!r} is not a normalized URL path (it contains '//', '/./' or "
            "'/../', or ends in '/.' or '/..'); proxies normalize request paths first"
        )
        raise InvalidError(msg)


def _check_cors(ctx: Context, field: str, cors: Cors) -> None:
    if cors.allow_origins and ctx.api_gateway and ctx.spec.api_gateway.cors.allow_origins:
        msg = (
            f"{field}.cors: spec.apiGateway.cors.allowOrigins is set too, and then API Gateway "
            "answers preflights itself and drops the CORS headers of the backend; configure "
            "CORS on the API or per app, not both"
        )
        raise InvalidError(msg)
    for origin in cors.allow_origins:
        if not _ORIGIN.match(origin):
            msg = (
                f"{field}.cors.allowOrigins: {origin!r} is not an origin the ingress can match "
                "(scheme://host[:port], with '*' only alone or as the first host label, "
                "e.g. https://*.example.com)"
            )
            raise InvalidError(msg)
    for header in cors.allow_headers:
        if not _HEADER_NAME.match(header):
            msg = f"{field}.cors.allowHeaders: {header!r} is not an HTTP header name"
            raise InvalidError(msg)


def _check_app(ctx: Context, index: int, app: App) -> None:
    field = f"spec.apps[{index}]"
    _check_path(f"{field}.pathPrefix", app.path_prefix)
    if app.rewrite is not None:
        _check_path(f"{field}.rewrite", app.rewrite)
    if app.header_canary is not None and app.header_canary.header == naming.TENANT_HEADER:
        msg = (
            f"{field}.headerCanary.header: {naming.TENANT_HEADER!r} is the tenant header the "
            "API Gateway integration sets; a canary cannot match on it"
        )
        raise InvalidError(msg)
    if app.cors is not None:
        _check_cors(ctx, field, app.cors)


def _check_overlaps(apps: list[App]) -> None:
    """No two apps may claim the same host and path: which one wins would be arbitrary."""
    owners: dict[tuple[str, str], str] = {}
    for index, app in enumerate(apps):
        # Gateway API ignores a trailing '/', so '/api' and '/api/' are one route.
        prefix = app.path_prefix.rstrip("/") or "/"
        for host in app.hosts or ["*"]:
            owner = owners.setdefault((host, prefix), app.name)
            if owner != app.name:
                on = f" on host {host!r}" if app.hosts else ""
                msg = (
                    f"spec.apps[{index}].pathPrefix: {app.path_prefix!r}{on} is already routed "
                    f"to app {owner!r} (a trailing '/' makes no new route)"
                )
                raise InvalidError(msg)


def _literal(text: str) -> str:
    """A host or path as an RE2 literal: of the characters the spec allows only '.' is special."""
    return text.replace(".", r"\.")


def _istio_match(route: Route, host: str | None) -> dict[str, Any]:
    match: dict[str, Any] = {
        "uri": {"prefix": route.path_prefix},
        "headers": {name: {"exact": value} for name, value in route.headers},
    }
    if host is not None:
        # Any port, as Gateway API's hostnames: a Host header may carry one.
        match["authority"] = {"regex": f"{_literal(host)}(:[0-9]+)?"}
    return match


def _istio_destination(ctx: Context, backend: Backend) -> dict[str, Any]:
    destination: dict[str, Any] = {
        "destination": {
            "host": ctx.names.host_service_fqdn(backend.service, backend.namespace),
            "port": {"number": backend.port},
        }
    }
    if backend.weight is not None:
        destination["weight"] = backend.weight
    return destination


def _istio_retries(field: str, retries: Retries) -> dict[str, Any]:
    """Istio retries; with 0 attempts only the attempts, as Istio rejects anything more."""
    if retries.attempts == 0:
        return {"attempts": 0}
    for condition in retries.retry_on.split(","):
        if condition not in RETRY_ON and condition not in _STATUS_CODES:
            msg = (
                f"{field}.retries.retryOn: {condition!r} is not a retry condition Istio accepts "
                f"(one of {', '.join(sorted(RETRY_ON))}, or an HTTP status code)"
            )
            raise InvalidError(msg)
    policy: dict[str, Any] = {"attempts": retries.attempts, "retryOn": retries.retry_on}
    if (per_try := _positive(retries.per_try_timeout)) is not None:
        policy["perTryTimeout"] = per_try
    return policy


def _istio_rewrite(prefix: str, rewrite: str) -> dict[str, Any] | None:
    """Gateway API's ReplacePrefixMatch in Istio terms, or None when nothing changes.

    A plain ``rewrite.uri`` replaces only the matched characters, so prefix '/api'
    with rewrite '/' turns '/api/users' into '//users'. The regex replaces the
    prefix as whole path segments: '/api' -> '/', '/api/users' -> '/users'.
    """
    base, target = prefix.rstrip("/"), rewrite.rstrip("/")
    if not base and not target:
        return None
    return {
        "uriRegexRewrite": {
            "match": f"^{_literal(base)}(/|$)",
            "rewrite": rf"{target}\1" if target else "/",
        }
    }


def _istio_origin(origin: str) -> dict[str, str]:
    if origin == "*":
        return {"regex": ".*"}
    if "*" in origin:
        # '*' matches one or more labels to its left, as in Gateway API's CORS filter.
        return {"regex": _literal(origin).replace("*", "[-a-z0-9.]+")}
    return {"exact": origin}


def _istio_cors(cors: CorsPolicy) -> dict[str, Any]:
    return cors.render([_istio_origin(o) for o in cors.origins], f"{cors.max_age_seconds}s")


def _istio_http(ctx: Context, route: Route) -> dict[str, Any]:
    """One VirtualService HTTP route: one match per host (any host without hosts)."""
    hosts: tuple[str | None, ...] = route.hosts or (None,)
    http: dict[str, Any] = {
        "name": route.name,
        "match": [_istio_match(route, host) for host in hosts],
        "route": [_istio_destination(ctx, backend) for backend in route.backends],
    }
    if route.timeout is not None:
        http["timeout"] = route.timeout
    if route.retries is not None:
        http["retries"] = _istio_retries(route.field, route.retries)
    if route.rewrite is not None and (rewrite := _istio_rewrite(route.path_prefix, route.rewrite)):
        http["rewrite"] = rewrite
    if route.cors is not None:
        http["corsPolicy"] = _istio_cors(route.cors)
    return http


def _istio(ctx: Context, routes: list[Route]) -> list[Desired]:
    """An Istio Gateway on the shared ingress gateway and one VirtualService for the apps.

    One VirtualService with authority matches, rather than one per host set: Istio
    merges VirtualServices of one host in no defined order and does not fall back
    from a host's VirtualService to the '*' one, while here the order is exactly
    the list's, and the composed resources keep their keys when hosts change.
    """
    names = ctx.names
    ingress = ctx.platform.ingress_gateway
    gateway = {
        "apiVersion": ISTIO_API,
        "kind": "Gateway",
        "metadata": {
            "name": names.gateway,
            "namespace": names.host_namespace,
            "labels": ctx.labels(GATEWAY),
        },
        "spec": {
            "selector": dict(ingress.selector),
            "servers": [
                {
                    "port": {"number": ingress.service_port, "name": "http", "protocol": "HTTP"},
                    "hosts": ["*"],
                }
            ],
        },
    }
    desired = [Desired(GATEWAY, ctx.k8s_object(GATEWAY, gateway), after=(NAMESPACE,))]
    if not routes:
        return desired
    virtual_service = {
        "apiVersion": ISTIO_API,
        "kind": "VirtualService",
        "metadata": {
            "name": names.virtual_service,
            "namespace": names.host_namespace,
            "labels": ctx.labels(ROUTES),
        },
        "spec": {
            "hosts": ["*"],
            "gateways": [f"{names.host_namespace}/{names.gateway}"],
            "http": [_istio_http(ctx, route) for route in routes],
        },
    }
    desired.append(Desired(ROUTES, ctx.k8s_object(ROUTES, virtual_service), after=(NAMESPACE,)))
    return desired


def _at_least_1ms(field: str, text: str) -> str:
    if duration_ms(text) == 0:
        msg = f"{field}: {text!r} must be at least 1ms"
        raise InvalidError(msg)
    return text


def _int32(field: str, value: int) -> int:
    if value > INT32_MAX:
        msg = f"{field}: {value} is more than the maximum {INT32_MAX}"
        raise InvalidError(msg)
    return value


def _traffic_policy(field: str, breaker: CircuitBreaker) -> dict[str, Any]:
    field = f"{field}.circuitBreaker"
    return {
        "connectionPool": {
            "tcp": {"maxConnections": _int32(f"{field}.maxConnections", breaker.max_connections)},
            "http": {
                "http1MaxPendingRequests": _int32(
                    f"{field}.maxPendingRequests", breaker.max_pending_requests
                )
            },
        },
        "outlierDetection": {
            "consecutive5xxErrors": _int32(
                f"{field}.consecutive5xxErrors", breaker.consecutive_5xx_errors
            ),
            "interval": _at_least_1ms(f"{field}.interval", breaker.interval),
            "baseEjectionTime": _at_least_1ms(
                f"{field}.baseEjectionTime", breaker.base_ejection_time
            ),
            "maxEjectionPercent": breaker.max_ejection_percent,
        },
    }


def destination_rules(ctx: Context) -> list[Desired]:
    """A DestinationRule per app with a circuit breaker, for the app's own Service.

    Raises:
        InvalidError: Two apps put a circuit breaker on one Service (Istio would
            apply only one DestinationRule per host).
    """
    desired: list[Desired] = []
    owners: dict[str, str] = {}
    for index, app in enumerate(ctx.spec.apps):
        if app.circuit_breaker is None:
            continue
        field = f"spec.apps[{index}]"
        host = ctx.names.host_service_fqdn(app.service, app.namespace)
        if (owner := owners.setdefault(host, app.name)) != app.name:
            msg = (
                f"{field}.circuitBreaker: app {owner!r} already has one for service "
                f"{app.service!r} in namespace {app.namespace!r}, and Istio applies one "
                "DestinationRule per host; set it on one of them"
            )
            raise InvalidError(msg)
        key = f"{DESTINATION_RULE}-{app.name}"
        rule = {
            "apiVersion": ISTIO_API,
            "kind": "DestinationRule",
            "metadata": {
                "name": f"{ctx.names.env}-{app.name}",
                "namespace": ctx.names.host_namespace,
                "labels": ctx.labels(key),
            },
            "spec": {"host": host, "trafficPolicy": _traffic_policy(field, app.circuit_breaker)},
        }
        desired.append(Desired(key, ctx.k8s_object(key, rule), after=(NAMESPACE,)))
    return desired


def build(ctx: Context) -> list[Desired]:
    """The ingress routes of ``ingressMode`` and the apps' circuit breakers.

    Raises:
        InvalidError: The apps ask for routing the chosen mode cannot express.
    """
    routes = plan(ctx)
    if ctx.ingress_mode == GATEWAY_API_MODE:
        desired = gatewayapi.build(ctx, routes)
    else:
        desired = _istio(ctx, routes)
    return desired + destination_rules(ctx)
