"""The API Gateway v2 HTTP API: API, VPC link, private integration, routes, stage, logs.

Private integration facts this module relies on: ``integrationUri`` must be the
NLB *listener ARN*, ``connectionId`` the VPC link id, and a named stage's prefix
is forwarded to the backend unless the path is overwritten with ``$request.path``.
"""

from __future__ import annotations

import json
from typing import Any

from function import loadbalancer, naming
from function.model import Context, Desired, selector

API = "api"
VPC_LINK = "vpc-link"
INTEGRATION = "integration"
ROUTE_PROXY = "route-proxy"
ROUTE_ROOT = "route-root"
STAGE = "stage"
ACCESS_LOGS = "access-log-group"

# Route keys: every path below the root, and the root itself, which {proxy+} misses.
ROUTE_KEYS = ((ROUTE_PROXY, "ANY /{proxy+}"), (ROUTE_ROOT, "ANY /"))

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
    return ctx.aws(naming.API, API, spec)


def _vpc_link(ctx: Context) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": ctx.names.vpc_link,
        "subnetIds": list(ctx.spec.vpc.subnet_ids),
        "tags": ctx.tags(),
    }
    if ctx.spec.vpc.security_group_ids:
        spec["securityGroupIds"] = list(ctx.spec.vpc.security_group_ids)
    return ctx.aws(naming.VPC_LINK, VPC_LINK, spec)


def listener_arn(ctx: Context) -> str | None:
    """The listener the integration targets: given, composed and observed, or as created."""
    return (
        ctx.listener_arn
        or ctx.observed.at_provider(loadbalancer.LISTENER, "arn")
        or ctx.observed.text(INTEGRATION, "spec", "forProvider", "integrationUri")
    )


def _integration(ctx: Context) -> Desired:
    uri = listener_arn(ctx)
    after: list[str] = [API]
    if ctx.listener_arn is None:
        after.append(loadbalancer.LISTENER)
    connection: dict[str, Any]
    if ctx.vpc_link_id is not None:
        connection = {"connectionId": ctx.vpc_link_id}
    else:
        connection = {"connectionIdSelector": selector()}
        after.append(VPC_LINK)
    timeout = ctx.spec.api_gateway.integration_timeout_ms or ctx.platform.integration_timeout_ms
    manifest = None
    if uri is not None:
        manifest = ctx.aws(
            naming.INTEGRATION,
            INTEGRATION,
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
                    f"overwrite:header.{naming.TENANT_HEADER}": ctx.spec.name,
                },
            },
        )
    return Desired(INTEGRATION, manifest, tuple(after), waiting_for="the listener ARN")


def _stage(ctx: Context) -> Desired:
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
    after = [API]
    if not ctx.spec.api_gateway.access_logs.enabled:
        return Desired(STAGE, ctx.aws(naming.STAGE, STAGE, spec, ctx.stage_name), tuple(after))
    after.append(ACCESS_LOGS)
    log_arn = ctx.observed.at_provider(ACCESS_LOGS, "arn") or ctx.observed.text(
        STAGE, "spec", "forProvider", "accessLogSettings", "destinationArn"
    )
    manifest = None
    if log_arn is not None:
        # CloudWatch reports a group ARN ending in ':*'; the stage wants it without.
        spec["accessLogSettings"] = {
            "destinationArn": log_arn.removesuffix(":*"),
            "format": ACCESS_LOG_FORMAT,
        }
        manifest = ctx.aws(naming.STAGE, STAGE, spec, ctx.stage_name)
    return Desired(STAGE, manifest, tuple(after), waiting_for="the access log group ARN")


def build(ctx: Context) -> list[Desired]:
    """Every API Gateway resource, or none without ``apiGatewaySupport``."""
    if not ctx.api_gateway:
        return []
    desired = [Desired(API, _api(ctx))]
    if ctx.vpc_link_id is None:
        desired.append(Desired(VPC_LINK, _vpc_link(ctx)))
    desired.append(_integration(ctx))
    desired.extend(
        Desired(
            key,
            ctx.aws(
                naming.ROUTE,
                key,
                {
                    "apiIdSelector": selector(),
                    "routeKey": route_key,
                    "targetSelector": selector(),
                    "authorizationType": "NONE",
                },
            ),
            after=(API, INTEGRATION),
        )
        for key, route_key in ROUTE_KEYS
    )
    logs = ctx.spec.api_gateway.access_logs
    if logs.enabled:
        desired.append(
            Desired(
                ACCESS_LOGS,
                ctx.aws(
                    naming.LOG_GROUP,
                    ACCESS_LOGS,
                    {"retentionInDays": logs.retention_days, "tags": ctx.tags()},
                    ctx.names.access_log_group,
                ),
            )
        )
    desired.append(_stage(ctx))
    return desired
