"""The XR's status: one writer per field, derived only from spec and observed state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.model import keys
from function.model.reported import (
    alias_target,
    domain_live,
    endpoint,
    listener_arn,
    requested_record,
)

if TYPE_CHECKING:
    from function.model.context import Context
    from function.ordering import Plan

ISSUED = "ISSUED"


def api_gateway(ctx: Context) -> dict[str, Any]:
    """``status.apiGateway``: id, endpoint, vpcLinkId and stage, once known."""
    if not ctx.api_gateway:
        return {"enabled": False}
    observed = ctx.observed
    status: dict[str, Any] = {"enabled": True, "stage": ctx.stage_name}
    values = {
        "id": observed.at_provider(keys.API, "id"),
        "endpoint": endpoint(ctx),
        "vpcLinkId": ctx.vpc_link_id or observed.at_provider(keys.VPC_LINK, "id"),
        "listenerArn": listener_arn(ctx),
    }
    status.update({k: v for k, v in values.items() if v is not None})
    return status


def custom_domain(ctx: Context) -> dict[str, Any]:
    """``status.customDomain``: the domain, whether it is live, and what DNS needs."""
    if not ctx.custom_domain:
        return {"enabled": False}
    target, target_zone = alias_target(ctx)
    values: dict[str, Any] = {
        "certificateStatus": ctx.observed.at_provider(keys.CERTIFICATE, "status"),
        "targetDomainName": target,
        "targetHostedZoneId": target_zone,
    }
    if ctx.hosted_zone_id is None and (record := requested_record(ctx)) is not None:
        values["validationRecords"] = [record.as_status()]
    result: dict[str, Any] = {"enabled": True, "domain": ctx.spec.domain, "ready": domain_live(ctx)}
    result.update({k: v for k, v in values.items() if v is not None})
    return result


def _issued(ctx: Context) -> bool:
    return ctx.observed.at_provider(keys.CERTIFICATE, "status") == ISSUED or ctx.observed.ready(
        keys.CERTIFICATE_VALIDATION
    )


def _user_must_validate(ctx: Context) -> list[str]:
    """What the user must do before the certificate can be issued (no hosted zone)."""
    if not ctx.custom_domain or ctx.hosted_zone_id is not None or _issued(ctx):
        return []
    record = requested_record(ctx)
    if record is None:
        return []
    message = (
        f"{keys.CERTIFICATE}: waiting for DNS validation record {record.name} {record.type} "
        f"{record.value} (status.customDomain.validationRecords); create it in the DNS zone "
        f"of {ctx.spec.domain}"
    )
    return [message]


def build(ctx: Context, plan: Plan, not_ready: list[str]) -> dict[str, Any]:
    """The whole status the function owns."""
    names = ctx.names
    pending = [f"{key}: {reason}" for key, reason in plan.held]
    pending.extend(
        f"{item.key}: not synced: {error}"
        for item in plan.emit
        if (error := ctx.observed.sync_error(item.key)) is not None
    )
    pending.extend(f"{key}: not ready yet" for key in not_ready)
    pending.extend(_user_must_validate(ctx))
    return {
        "ready": not pending,
        "vcluster": {
            "name": names.vcluster_release,
            "namespace": names.host_namespace,
            "ready": ctx.observed.ready(keys.VCLUSTER),
        },
        "apiGateway": api_gateway(ctx),
        "customDomain": custom_domain(ctx),
        "pending": pending,
    }
