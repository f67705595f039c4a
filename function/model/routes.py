"""The apps as routes: one validated, ordered list that every ingress renderer shares.

Every environment may share one listener, one VPC link and one ingress, so every
route matches the tenant header that only this environment's API Gateway
integration sets (``overwrite:header.x-vcluster-environment``), and every backend
is a Service that vCluster synced into this environment's own host namespace. A
request that entered through another environment's API never matches these
routes, and these routes never reach another environment's Services.

``ingressMode`` then picks the renderer: an Istio Gateway and VirtualService
(``builders.istio``) or HTTPRoutes on the platform's shared Gateway
(``builders.gatewayapi``). Both list the routes in this order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from function.model import naming
from function.model.errors import InvalidError
from function.model.types import duration_ms, positive_duration

if TYPE_CHECKING:
    from collections.abc import Iterable

    from function.model.context import Context
    from function.model.spec import App, Cors, Retries

# Proxies normalise request paths, so a prefix holding these never matches, and
# Gateway API's CEL rules reject them outright.
_UNNORMALIZED = ("//", "/./", "/../")
_UNNORMALIZED_END = ("/.", "/..")
# The origins both Istio and Gateway API can match: the HTTPRoute CORS filter's
# pattern ('*' alone, or as the first host label).
_ORIGIN = re.compile(r"^\*$|^https?://((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:[0-9]{1,5})?$")


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
    hosts: tuple[str, ...]  # empty: any host; matched on naming.DOMAIN_HEADER
    path_prefix: str
    headers: tuple[tuple[str, str], ...]  # exact matches, the tenant header first
    backends: tuple[Backend, ...]
    timeout: str | None = None  # None: no timeout
    retries: Retries | None = None
    rewrite: str | None = None
    cors: CorsPolicy | None = None

    def header_matches(self, host: str | None) -> tuple[tuple[str, str], ...]:
        """The exact header matches for one of the route's hosts (None: any host)."""
        return self.headers if host is None else (*self.headers, (naming.DOMAIN_HEADER, host))

    @property
    def timeout_ms(self) -> int | None:
        """The timeout in milliseconds, for renderers that need another notation."""
        return None if self.timeout is None else duration_ms(self.timeout)


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
        headers=((naming.TENANT_HEADER, ctx.names.tenant),),
        backends=_backends(app),
        timeout=positive_duration(app.timeout),
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


def _specificity(app: App) -> tuple[int, bool, str, str]:
    """The longest prefix first, so '/api/v2' wins over '/api'; then host-bound apps.

    Hosts are matched on the domain header (``naming.DOMAIN_HEADER``), and Gateway
    API ranks the longest path before the most header matches: in this order both
    modes send a request to the same app.
    """
    return (-len(app.path_prefix), not app.hosts, app.path_prefix, app.name)


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
