"""Gateway API ingress (``ingressMode: gatewayAPI``): HTTPRoutes on the platform's shared Gateway.

The platform owns one Gateway (``ingressGateway.gatewayName`` in
``gatewayNamespace``, optionally one listener of it, ``gatewaySection``): every
environment shares its listener and the ingress behind the NLB, which is Gateway
API's role model (the platform owns the Gateway, each tenant only attaches routes).
No Istio Gateway is composed in this mode.

Each app gets its own HTTPRoute in the environment's host namespace, where
vCluster syncs its Services: backends need no namespace and no ReferenceGrant, so
these routes can reach only this environment's Services, and every rule matches
the path prefix AND the tenant header.

One HTTPRoute per app (key ``ingress-httproute-<app>``) rather than one for all:
an HTTPRoute holds at most 16 rules; Gateway API's precedence (longest prefix,
then most header matches) orders rules across routes exactly as the Istio
VirtualService lists them; and a key per app does not move when other apps are
added, removed or reordered. Hosts are header matches on the domain the API
Gateway integration sets, never ``hostnames``, which match the untrusted Host.

Only what the standard-channel v1.6 HTTPRoute has is used. It has no retry field
(retries are experimental), so an app with ``retries`` gets a Fatal result instead
of silently losing them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from function.model import keys, naming
from function.model.context import Context, Desired
from function.model.errors import InvalidError
from function.model.routes import plan

if TYPE_CHECKING:
    from function.model.routes import Backend, CorsPolicy, Route

MAX_RULES = 16  # an HTTPRoute's maxItems for rules
MAX_CORS_ITEMS = 64  # the HTTPRoute CORS filter's maxItems for origins and headers
_UNITS = (("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1))
_DURATION = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")  # GEP-2257, as in the CRD


def _duration(field: str, milliseconds: int) -> str:
    """A Gateway API duration: at most five digits per unit, so '100000s' becomes '27h46m40s'."""
    parts = []
    for unit, size in _UNITS:
        count, milliseconds = divmod(milliseconds, size)
        if count:
            parts.append(f"{count}{unit}")
    text = "".join(parts) or "0s"
    if not _DURATION.match(text):
        msg = f"{field}: {text} is longer than a Gateway API duration can be (99999h)"
        raise InvalidError(msg)
    return text


def _parent_ref(ctx: Context) -> dict[str, Any]:
    gateway = ctx.platform.ingress_gateway
    ref: dict[str, Any] = {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": gateway.gateway_name,
        "namespace": gateway.gateway_namespace,
    }
    if gateway.gateway_section is not None:
        ref["sectionName"] = gateway.gateway_section
    return ref


def _backend_ref(ctx: Context, backend: Backend) -> dict[str, Any]:
    # No namespace: the route's own, the host namespace vCluster syncs Services to.
    ref: dict[str, Any] = {
        "name": ctx.names.host_service(backend.service, backend.namespace),
        "port": backend.port,
    }
    if backend.weight is not None:
        ref["weight"] = backend.weight
    return ref


def _cors_filter(field: str, cors: CorsPolicy) -> dict[str, Any]:
    for name, values in (("allowOrigins", cors.origins), ("allowHeaders", cors.headers)):
        if len(values) > MAX_CORS_ITEMS:
            msg = (
                f"{field}.cors.{name}: {len(values)} given; the Gateway API CORS filter "
                f"takes at most {MAX_CORS_ITEMS}"
            )
            raise InvalidError(msg)
    return {"type": "CORS", "cors": cors.render(list(cors.origins), cors.max_age_seconds)}


def _filters(route: Route) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if route.rewrite is not None:
        filters.append(
            {
                "type": "URLRewrite",
                "urlRewrite": {
                    "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": route.rewrite}
                },
            }
        )
    if route.cors is not None:
        filters.append(_cors_filter(route.field, route.cors))
    return filters


def _match(route: Route, host: str | None) -> dict[str, Any]:
    return {
        "path": {"type": "PathPrefix", "value": route.path_prefix},
        "headers": [
            {"type": "Exact", "name": name, "value": value}
            for name, value in route.header_matches(host)
        ],
    }


def _rules(ctx: Context, route: Route) -> list[dict[str, Any]]:
    """A route's rules: one match per host, or with a rewrite one rule per host.

    URLRewrite's ReplacePrefixMatch allows exactly one match per rule (a CEL rule
    of the CRD), so a rewritten route with several hosts becomes several rules.
    """
    if route.retries is not None:
        msg = (
            f"{route.field}.retries: not supported with ingressMode gatewayAPI (Gateway API "
            "v1.6 standard HTTPRoute has no retry field); use ingressMode istio"
        )
        raise InvalidError(msg)
    hosts: tuple[str | None, ...] = route.hosts or (None,)
    if route.rewrite is None or len(hosts) == 1:
        return [_rule(ctx, route, route.name, [_match(route, host) for host in hosts])]
    return [
        _rule(ctx, route, f"{route.name}-{index}", [_match(route, host)])
        for index, host in enumerate(hosts)
    ]


def _rule(ctx: Context, route: Route, name: str, matches: list[dict[str, Any]]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": name,
        "matches": matches,
        "backendRefs": [_backend_ref(ctx, backend) for backend in route.backends],
    }
    if filters := _filters(route):
        rule["filters"] = filters
    if route.timeout_ms is not None:
        rule["timeouts"] = {"request": _duration(f"{route.field}.timeout", route.timeout_ms)}
    return rule


def _http_route(ctx: Context, resource: str, routes: list[Route]) -> dict[str, Any]:
    """One app's HTTPRoute: its routes share the app's name and hosts."""
    first = routes[0]
    rules = [rule for route in routes for rule in _rules(ctx, route)]
    if len(rules) > MAX_RULES:
        msg = (
            f"{first.field}.hosts: this app needs {len(rules)} HTTPRoute rules (a rewrite "
            f"takes one per host, a header canary doubles them); an HTTPRoute holds at most "
            f"{MAX_RULES}"
        )
        raise InvalidError(msg)
    # No hostnames: they match the Host header, which the HTTP API's private
    # integration is not documented to keep; hosts are header matches instead.
    spec: dict[str, Any] = {"parentRefs": [_parent_ref(ctx)], "rules": rules}
    return {
        "apiVersion": naming.GATEWAY_API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {
            "name": f"{ctx.names.env}-{first.app}",
            "namespace": ctx.names.host_namespace,
            "labels": ctx.labels(resource),
        },
        "spec": spec,
    }


def build(ctx: Context) -> list[Desired]:
    """An HTTPRoute per app, in ``ingressMode`` gatewayAPI, in ``routes.plan``'s order.

    Raises:
        InvalidError: A route needs something the standard-channel HTTPRoute lacks.
    """
    if not ctx.gateway_api:
        return []
    by_app: dict[str, list[Route]] = {}
    for route in plan(ctx):
        by_app.setdefault(route.app, []).append(route)
    desired = []
    for app, app_routes in by_app.items():
        key = keys.httproute(app)
        manifest = _http_route(ctx, key, app_routes)
        desired.append(Desired(key, ctx.k8s_object(key, manifest), role=keys.HTTPROUTE))
    return desired
