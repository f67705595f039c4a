"""Deletion order: Crossplane Usages that keep a resource until its users are gone.

Functions are not called when an XR is deleted, so without these Crossplane would
delete a listener while the integration still points at it (AWS refuses, and the
deletion stalls) or a vCluster before the charts installed into it.
"""

from __future__ import annotations

from typing import Any

from function import apigateway, domain, loadbalancer, naming, vcluster
from function.model import Context, Desired
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


def _ref(ctx: Context, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": body["apiVersion"],
        "kind": body["kind"],
        "resourceSelector": {
            "matchControllerRef": True,
            "matchLabels": {naming.LABEL_RESOURCE: key, naming.LABEL_ENVIRONMENT: ctx.spec.name},
        },
    }


def build(ctx: Context, composed: dict[str, dict[str, Any]]) -> list[Desired]:
    """A Usage for each dependency pair whose both ends already exist.

    Selectors only resolve to existing objects, so a Usage waits until both its
    ends are observed; ``composed`` holds the manifests the other builders emit.
    """
    kind = "ClusterUsage" if ctx.shape is Shape.LEGACY else "Usage"
    desired = []
    for user, used in DEPENDENCIES:
        if user not in composed or used not in composed:
            continue
        key = f"usage-{user}-uses-{used}"
        manifest = {
            "apiVersion": USAGE_API_VERSION,
            "kind": kind,
            "metadata": ctx.metadata(key),
            "spec": {
                "of": _ref(ctx, used, composed[used]),
                "by": _ref(ctx, user, composed[user]),
                "replayDeletion": True,
            },
        }
        desired.append(Desired(key, manifest, after=(user, used)))
    return desired
