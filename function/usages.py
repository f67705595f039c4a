"""Deletion order: Crossplane Usages that keep a resource until its users are gone.

Functions are not called when an XR is deleted, so without these Crossplane would
delete a listener while the integration still points at it (AWS refuses, and the
deletion stalls) or a vCluster before the charts installed into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function import apigateway, domain, loadbalancer, naming, vcluster
from function.model import Context, Desired
from function.naming import KindVersion, Shape

if TYPE_CHECKING:
    from collections.abc import Collection

USAGE_API_VERSION = "protection.crossplane.io/v1beta1"

# (user, used): the user must be deleted before what it uses. The kinds are fixed, so a
# Usage never depends on its ends' manifests, which may be held back for a while.
DEPENDENCIES = (
    ((apigateway.INTEGRATION, naming.INTEGRATION), (apigateway.VPC_LINK, naming.VPC_LINK)),
    ((apigateway.INTEGRATION, naming.INTEGRATION), (loadbalancer.LISTENER, naming.LISTENER)),
    ((loadbalancer.LISTENER, naming.LISTENER), (loadbalancer.LOAD_BALANCER, naming.LB)),
    ((loadbalancer.LISTENER, naming.LISTENER), (loadbalancer.TARGET_GROUP, naming.TARGET_GROUP)),
    (
        (loadbalancer.TARGET_GROUP_BINDING, naming.OBJECT),
        (loadbalancer.TARGET_GROUP, naming.TARGET_GROUP),
    ),
    ((domain.API_MAPPING, naming.API_MAPPING), (domain.DOMAIN_NAME, naming.DOMAIN_NAME)),
    ((vcluster.GRAFANA, naming.RELEASE), (vcluster.VCLUSTER, naming.RELEASE)),
    ((vcluster.PROMETHEUS, naming.RELEASE), (vcluster.VCLUSTER, naming.RELEASE)),
)


def _ref(ctx: Context, key: str, kind: KindVersion) -> dict[str, Any]:
    return {
        "apiVersion": kind.api_version(ctx.shape),
        "kind": kind.kind,
        "resourceSelector": {
            "matchControllerRef": True,
            "matchLabels": {naming.LABEL_RESOURCE: key, naming.LABEL_ENVIRONMENT: ctx.spec.name},
        },
    }


def build(ctx: Context, composed: Collection[str]) -> list[Desired]:
    """A Usage for each dependency pair whose ends the spec asks for (keys in ``composed``).

    Selectors only resolve to existing objects, so a new Usage waits until both
    ends are ready; an existing one is kept while the spec still asks for both ends.
    """
    usage_kind = "ClusterUsage" if ctx.shape is Shape.LEGACY else "Usage"
    desired = []
    for (user, user_kind), (used, used_kind) in DEPENDENCIES:
        if user not in composed or used not in composed:
            continue
        key = f"usage-{user}-uses-{used}"
        manifest = {
            "apiVersion": USAGE_API_VERSION,
            "kind": usage_kind,
            "metadata": ctx.metadata(key),
            "spec": {
                "of": _ref(ctx, used, used_kind),
                "by": _ref(ctx, user, user_kind),
                "replayDeletion": True,
            },
        }
        desired.append(Desired(key, manifest, after=(user, used)))
    return desired
