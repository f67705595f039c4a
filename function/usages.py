"""Deletion order: Crossplane Usages that keep a resource until its users are gone.

Functions are not called when an XR is deleted, so without these Crossplane would
delete a listener while the integration still points at it (AWS refuses, and the
deletion stalls) or a vCluster before the charts installed into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function import apigateway, domain, loadbalancer, naming, vcluster
from function.model import Context, Desired

if TYPE_CHECKING:
    from collections.abc import Mapping
from function.naming import Shape

USAGE_API_VERSION = "protection.crossplane.io/v1beta1"

# (user, used): the user must be deleted before what it uses.
DEPENDENCIES = (
    (apigateway.INTEGRATION, apigateway.VPC_LINK),
    (apigateway.INTEGRATION, loadbalancer.LISTENER),
    (loadbalancer.LISTENER, loadbalancer.LOAD_BALANCER),
    (loadbalancer.LISTENER, loadbalancer.TARGET_GROUP),
    (loadbalancer.TARGET_GROUP_BINDING, loadbalancer.TARGET_GROUP),
    (domain.API_MAPPING, domain.DOMAIN_NAME),
    (vcluster.GRAFANA, vcluster.VCLUSTER),
    (vcluster.PROMETHEUS, vcluster.VCLUSTER),
)


def _ref(ctx: Context, key: str, api_version: str, kind: str) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "resourceSelector": {
            "matchControllerRef": True,
            "matchLabels": {naming.LABEL_RESOURCE: key, naming.LABEL_ENVIRONMENT: ctx.spec.name},
        },
    }


def _kind(
    ctx: Context, usage: str, side: str, key: str, composed: Mapping[str, Desired]
) -> tuple[str, str] | None:
    """ApiVersion and kind of one end: from its manifest, else as the Usage named it before."""
    manifest = composed[key].manifest
    if manifest is not None:
        return str(manifest["apiVersion"]), str(manifest["kind"])
    api_version = ctx.observed.text(usage, "spec", side, "apiVersion")
    kind = ctx.observed.text(usage, "spec", side, "kind")
    return (api_version, kind) if api_version and kind else None


def build(ctx: Context, composed: Mapping[str, Desired]) -> list[Desired]:
    """A Usage for each dependency pair whose ends the spec asks for.

    Selectors only resolve to existing objects, so a new Usage waits until both
    ends are ready; an existing one is kept while the spec still asks for both
    ends, even when one of them is held back for a while.
    """
    usage_kind = "ClusterUsage" if ctx.shape is Shape.LEGACY else "Usage"
    desired = []
    for user, used in DEPENDENCIES:
        if user not in composed or used not in composed:
            continue
        key = f"usage-{user}-uses-{used}"
        ends = (_kind(ctx, key, "by", user, composed), _kind(ctx, key, "of", used, composed))
        manifest = None
        if ends[0] is not None and ends[1] is not None:
            manifest = {
                "apiVersion": USAGE_API_VERSION,
                "kind": usage_kind,
                "metadata": ctx.metadata(key),
                "spec": {
                    "of": _ref(ctx, used, *ends[1]),
                    "by": _ref(ctx, user, *ends[0]),
                    "replayDeletion": True,
                },
            }
        desired.append(Desired(key, manifest, after=(user, used), waiting_for=f"{user}, {used}"))
    return desired
