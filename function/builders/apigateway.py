"""The API Gateway v2 HTTP API: API, VPC link, private integration, routes, stage, logs.

Private integration facts this module relies on: ``integrationUri`` must be the
NLB *listener ARN*, ``connectionId`` the VPC link id, and a named stage's prefix
is forwarded to the backend unless the path is overwritten with ``$request.path``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from function.model import keys, naming, network
from function.model.context import Context, Desired, selector
from function.model.errors import InvalidError
from function.model.reported import listener_arn
from function.model.spec import App, RouteAuth, Throttling

AUTHORIZER_NAME = "jwt"

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "path": "$context.path",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationStatus": "$context.integrationStatus",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
    },
    separators=(",", ":"),
)


def _api(ctx: Context) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": ctx.names.api,
        "protocolType": "HTTP",
        "description": f"vCluster environment {ctx.spec.name}",
        "tags": ctx.tags(),
    }
    cors = ctx.spec.api_gateway.cors
    if cors.allow_origins:
        spec["corsConfiguration"] = {
            "allowOrigins": list(cors.allow_origins),
            "allowMethods": list(cors.allow_methods),
            "allowHeaders": list(cors.allow_headers),
            "allowCredentials": cors.allow_credentials,
            "maxAge": cors.max_age,
        }
    return ctx.aws(naming.API, keys.API, spec)


def _vpc_link(ctx: Context) -> Desired:
    spec: dict[str, Any] = {
        "name": ctx.names.vpc_link,
        "subnetIds": list(ctx.spec.vpc.subnet_ids),
        "tags": ctx.tags(),
    }
    groups = network.vpc_link_group_ids(ctx)
    if groups:
        # Immutable: a VPC link keeps the groups it was created with.
        spec["securityGroupIds"] = groups
    manifest = None if groups is None else ctx.aws(naming.VPC_LINK, keys.VPC_LINK, spec)
    return Desired(keys.VPC_LINK, manifest, waiting_for="the id of its security group")


def _integration(ctx: Context) -> Desired:
    uri = listener_arn(ctx)
    connection: dict[str, Any]
    if ctx.vpc_link_id is not None:
        connection = {"connectionId": ctx.vpc_link_id}
    else:
        connection = {"connectionIdSelector": selector()}
    timeout = ctx.spec.api_gateway.integration_timeout_ms or ctx.platform.integration_timeout_ms
    manifest = None
    if uri is not None:
        manifest = ctx.aws(
            naming.INTEGRATION,
            keys.INTEGRATION,
            {
                "apiIdSelector": selector(),
                "description": f"{ctx.spec.name}: VPC link to the ingress gateway listener",
                "integrationType": "HTTP_PROXY",
                "integrationMethod": "ANY",
                "connectionType": "VPC_LINK",
                **connection,
                "integrationUri": uri,
                "payloadFormatVersion": "1.0",
                "timeoutMilliseconds": timeout,
                "requestParameters": {
                    # The backend sees the client's path, without any stage prefix.
                    "overwrite:path": "$request.path",
                    # Overwritten, so a client cannot pose as another environment.
                    f"overwrite:header.{naming.TENANT_HEADER}": ctx.names.tenant,
                    # Overwritten too: apps[].hosts route on it, never on Host.
                    f"overwrite:header.{naming.DOMAIN_HEADER}": "$context.domainName",
                },
            },
        )
    return Desired(keys.INTEGRATION, manifest, waiting_for="the listener ARN")


def _stage(ctx: Context, routes: list[ApiRoute]) -> Desired:
    spec: dict[str, Any] = {
        "apiIdSelector": selector(),
        "autoDeploy": True,
        "description": f"{ctx.spec.name} stage",
        "tags": ctx.tags(),
    }
    route_settings: dict[str, Any] = {"detailedMetricsEnabled": True}
    throttling = ctx.spec.api_gateway.throttling
    if throttling is not None:
        route_settings["throttlingBurstLimit"] = throttling.burst_limit
        route_settings["throttlingRateLimit"] = throttling.rate_limit
    spec["defaultRouteSettings"] = route_settings
    # AWS rejects settings for a route key that does not exist yet: add each one
    # only once its route is observed.
    per_route = [
        {
            "routeKey": route.route_key,
            "throttlingBurstLimit": route.throttling.burst_limit,
            "throttlingRateLimit": route.throttling.rate_limit,
        }
        for route in routes
        if route.throttling is not None and route.key in ctx.observed
    ]
    if per_route:
        spec["routeSettings"] = per_route
    if not ctx.spec.api_gateway.access_logs.enabled:
        return Desired(keys.STAGE, ctx.aws(naming.STAGE, keys.STAGE, spec, ctx.stage_name))
    log_arn = ctx.observed.reported_or_sent(
        (keys.ACCESS_LOGS, "arn"), (keys.STAGE, "accessLogSettings", "destinationArn")
    )
    if log_arn is not None:
        # CloudWatch reports a group ARN ending in ':*'; the stage wants it without.
        spec["accessLogSettings"] = {
            "destinationArn": log_arn.removesuffix(":*"),
            "format": ACCESS_LOG_FORMAT,
        }
    manifest: dict[str, Any] | None = ctx.aws(naming.STAGE, keys.STAGE, spec, ctx.stage_name)
    if log_arn is None and keys.STAGE not in ctx.observed:
        # A new stage waits for its log group; a live one (logs just switched on)
        # keeps serving without them until the ARN is known.
        manifest = None
    return Desired(keys.STAGE, manifest, waiting_for="the access log group ARN")


@dataclass(frozen=True)
class ApiRoute:
    """One API Gateway route and the auth and throttling it carries."""

    key: str
    route_key: str
    auth: RouteAuth
    throttling: Throttling | None
    app: str | None


def _default_auth(ctx: Context) -> RouteAuth:
    # With an authorizer configured, routes are protected unless an app opts out.
    return RouteAuth(type="JWT" if ctx.spec.api_gateway.jwt is not None else "NONE")


def _app_routes(app: App, default: RouteAuth, *, own: bool, preflight: bool) -> list[ApiRoute]:
    prefix = app.path_prefix.rstrip("/")
    # An app on '/' shares the catch-all routes' keys, which then take its settings.
    name = app.name if prefix else None
    paths = (("proxy", f"{prefix}/{{proxy+}}"), ("root", prefix or "/"))
    routes = []
    if own:
        auth = app.auth or default
        routes += [
            ApiRoute(keys.api_route(name, suffix), f"ANY {path}", auth, app.throttling, app.name)
            for suffix, path in paths
        ]
    if preflight:
        # Browsers send CORS preflights without credentials: a JWT route would
        # refuse them before the ingress could answer, so OPTIONS stays public.
        routes += [
            ApiRoute(keys.api_route(name, f"preflight-{suffix}"), f"OPTIONS {path}",
                     RouteAuth(type="NONE"), app.throttling, app.name)
            for suffix, path in paths
        ]  # fmt: skip
    return routes


def api_routes(ctx: Context) -> list[ApiRoute]:
    """The catch-all routes, plus a pair per app with its own auth or throttling.

    Path routing to apps happens at the ingress; API Gateway needs its own routes
    only where auth scopes or throttling differ, because both are per route, and
    public OPTIONS routes where an app answers CORS preflights behind JWT auth.
    """
    default = _default_auth(ctx)
    routes: dict[str, ApiRoute] = {
        keys.ROUTE_PROXY: ApiRoute(keys.ROUTE_PROXY, "ANY /{proxy+}", default, None, None),
        keys.ROUTE_ROOT: ApiRoute(keys.ROUTE_ROOT, "ANY /", default, None, None),
    }
    by_route_key: dict[str, ApiRoute] = {}
    for index, app in enumerate(ctx.spec.apps):
        own, preflight = ctx.spec.own_routes(app), ctx.spec.needs_preflight(app)
        for route in _app_routes(app, default, own=own, preflight=preflight):
            _check_key(index, routes.get(route.key), route)
            other = by_route_key.get(route.route_key)
            if other is not None and (other.auth, other.throttling) != (
                route.auth,
                route.throttling,
            ):
                msg = (
                    f"spec.apps[{index}].auth: apps '{other.app}' and '{app.name}' share the API "
                    f"route '{route.route_key}' but ask for different auth or throttling"
                )
                raise InvalidError(msg)
            by_route_key[route.route_key] = route
            routes[route.key] = route
    return list(routes.values())


def _check_key(index: int, other: ApiRoute | None, route: ApiRoute) -> None:
    """Refuse two routes under one key: one would vanish, or rewrite the other in place."""
    if other is None or other.route_key == route.route_key:
        return
    owner = f"app '{other.app}' uses" if other.app is not None else "the catch-all routes use"
    msg = (
        f"spec.apps[{index}].name: app '{route.app}' would compose its API route "
        f"'{route.route_key}' under the key '{route.key}', which {owner} for "
        f"'{other.route_key}'; rename the app"
    )
    raise InvalidError(msg)


def _route(ctx: Context, route: ApiRoute) -> Desired:
    spec: dict[str, Any] = {
        "apiIdSelector": selector(),
        "routeKey": route.route_key,
        "targetSelector": selector(),
        # Explicit even when NONE, so a public route is a visible decision.
        "authorizationType": route.auth.type,
    }
    role = keys.PUBLIC_ROUTE
    if route.auth.type == "JWT":
        spec["authorizerIdSelector"] = selector()
        role = keys.JWT_ROUTE
        if route.auth.scopes:
            spec["authorizationScopes"] = list(route.auth.scopes)
    return Desired(route.key, ctx.aws(naming.ROUTE, route.key, spec), role=role)


def build(ctx: Context) -> list[Desired]:
    """Every API Gateway resource, or none without ``apiGatewaySupport``."""
    if not ctx.api_gateway:
        return []
    desired = [Desired(keys.API, _api(ctx))]
    if ctx.vpc_link_id is None:
        desired.append(_vpc_link(ctx))
    desired.append(_integration(ctx))
    if (jwt := ctx.spec.api_gateway.jwt) is not None:
        desired.append(
            Desired(
                keys.AUTHORIZER,
                ctx.aws(
                    naming.AUTHORIZER,
                    keys.AUTHORIZER,
                    {
                        "apiIdSelector": selector(),
                        "name": AUTHORIZER_NAME,
                        "authorizerType": "JWT",
                        "identitySources": [jwt.identity_source],
                        "jwtConfiguration": {"issuer": jwt.issuer, "audience": list(jwt.audiences)},
                    },
                ),
            )
        )
    routes = api_routes(ctx)
    desired.extend(_route(ctx, route) for route in routes)
    logs = ctx.spec.api_gateway.access_logs
    if logs.enabled:
        desired.append(
            Desired(
                keys.ACCESS_LOGS,
                ctx.aws(
                    naming.LOG_GROUP,
                    keys.ACCESS_LOGS,
                    {"retentionInDays": logs.retention_days, "tags": ctx.tags()},
                    ctx.names.access_log_group,
                ),
            )
        )
    desired.append(_stage(ctx, routes))
    return desired
