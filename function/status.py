"""The XR's status: one writer per field, derived only from spec and observed state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function import apigateway, domain, vcluster

if TYPE_CHECKING:
    from function.model import Context
    from function.ordering import Plan


def endpoint(ctx: Context) -> str | None:
    """The URL clients call: the custom domain once live, else the stage's invoke URL."""
    return domain.endpoint(ctx) or ctx.observed.at_provider(apigateway.STAGE, "invokeUrl")


def api_gateway(ctx: Context) -> dict[str, Any]:
    """``status.apiGateway``: id, endpoint, vpcLinkId and stage, once known."""
    if not ctx.api_gateway:
        return {"enabled": False}
    observed = ctx.observed
    status: dict[str, Any] = {"enabled": True, "stage": ctx.stage_name}
    values = {
        "id": observed.at_provider(apigateway.API, "id"),
        "endpoint": endpoint(ctx),
        "vpcLinkId": ctx.vpc_link_id or observed.at_provider(apigateway.VPC_LINK, "id"),
        "listenerArn": apigateway.listener_arn(ctx),
    }
    status.update({k: v for k, v in values.items() if v is not None})
    return status


def build(ctx: Context, plan: Plan, not_ready: list[str]) -> dict[str, Any]:
    """The whole status the function owns."""
    names = ctx.names
    pending = [f"{key}: {reason}" for key, reason in plan.held]
    pending.extend(f"{key}: not ready yet" for key in not_ready)
    pending.extend(domain.pending(ctx))
    return {
        "ready": not pending,
        "vcluster": {
            "name": names.vcluster_release,
            "namespace": names.host_namespace,
            "ready": ctx.observed.ready(vcluster.VCLUSTER),
        },
        "apiGateway": api_gateway(ctx),
        "customDomain": domain.status(ctx),
        "pending": pending,
    }
