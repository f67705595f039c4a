"""Istio ingress (``ingressMode: istio``): a Gateway and one VirtualService per environment.

The Gateway binds the shared ingress gateway's port; the VirtualService lists
``routes.plan``'s routes in order, each matching the tenant header, and sends
them to the Services vCluster synced into the host namespace.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from function.model import keys, naming
from function.model.context import Context, Desired
from function.model.errors import InvalidError
from function.model.routes import plan
from function.model.types import positive_duration

if TYPE_CHECKING:
    from function.model.routes import Backend, CorsPolicy, Route
    from function.model.spec import Retries

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


def _literal(text: str) -> str:
    """A host or path as an RE2 literal: of the characters the spec allows only '.' is special."""
    return text.replace(".", r"\.")


def _match(route: Route, host: str | None) -> dict[str, Any]:
    return {
        "uri": {"prefix": route.path_prefix},
        "headers": {name: {"exact": value} for name, value in route.header_matches(host)},
    }


def _destination(ctx: Context, backend: Backend) -> dict[str, Any]:
    destination: dict[str, Any] = {
        "destination": {
            "host": ctx.names.host_service_fqdn(backend.service, backend.namespace),
            "port": {"number": backend.port},
        }
    }
    if backend.weight is not None:
        destination["weight"] = backend.weight
    return destination


def _retries(field: str, retries: Retries) -> dict[str, Any]:
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
    if (per_try := positive_duration(retries.per_try_timeout)) is not None:
        policy["perTryTimeout"] = per_try
    return policy


def _rewrite(prefix: str, rewrite: str) -> dict[str, Any] | None:
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


def _origin(origin: str) -> dict[str, str]:
    if origin == "*":
        return {"regex": ".*"}
    if "*" in origin:
        # '*' matches one or more labels to its left, as in Gateway API's CORS filter.
        return {"regex": _literal(origin).replace("*", "[-a-z0-9.]+")}
    return {"exact": origin}


def _cors(cors: CorsPolicy) -> dict[str, Any]:
    return cors.render([_origin(o) for o in cors.origins], f"{cors.max_age_seconds}s")


def _http(ctx: Context, route: Route) -> dict[str, Any]:
    """One VirtualService HTTP route: one match per host (any host without hosts)."""
    hosts: tuple[str | None, ...] = route.hosts or (None,)
    http: dict[str, Any] = {
        "name": route.name,
        "match": [_match(route, host) for host in hosts],
        "route": [_destination(ctx, backend) for backend in route.backends],
    }
    if route.timeout is not None:
        http["timeout"] = route.timeout
    if route.retries is not None:
        http["retries"] = _retries(route.field, route.retries)
    if route.rewrite is not None and (rewrite := _rewrite(route.path_prefix, route.rewrite)):
        http["rewrite"] = rewrite
    if route.cors is not None:
        http["corsPolicy"] = _cors(route.cors)
    return http


def build(ctx: Context) -> list[Desired]:
    """A Gateway on the shared ingress gateway and one VirtualService, in ``ingressMode`` istio.

    One VirtualService with authority matches, rather than one per host set: Istio
    merges VirtualServices of one host in no defined order and does not fall back
    from a host's VirtualService to the '*' one, while here the order is exactly
    the list's, and the composed resources keep their keys when hosts change.
    """
    if ctx.gateway_api:
        return []
    routes = plan(ctx)
    names = ctx.names
    ingress = ctx.platform.ingress_gateway
    gateway = {
        "apiVersion": naming.ISTIO_API_VERSION,
        "kind": "Gateway",
        "metadata": {
            "name": names.gateway,
            "namespace": names.host_namespace,
            "labels": ctx.labels(keys.INGRESS_GATEWAY),
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
    desired = [Desired(keys.INGRESS_GATEWAY, ctx.k8s_object(keys.INGRESS_GATEWAY, gateway))]
    if not routes:
        return desired
    virtual_service = {
        "apiVersion": naming.ISTIO_API_VERSION,
        "kind": "VirtualService",
        "metadata": {
            "name": names.virtual_service,
            "namespace": names.host_namespace,
            "labels": ctx.labels(keys.INGRESS_ROUTES),
        },
        "spec": {
            "hosts": ["*"],
            "gateways": [f"{names.host_namespace}/{names.gateway}"],
            "http": [_http(ctx, route) for route in routes],
        },
    }
    desired.append(
        Desired(keys.INGRESS_ROUTES, ctx.k8s_object(keys.INGRESS_ROUTES, virtual_service))
    )
    return desired
