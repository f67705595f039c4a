"""Deletion order: Crossplane Usages that keep a resource until its users are gone.

Functions are not called when an XR is deleted, so without these Crossplane would
delete a listener while the integration still points at it (AWS refuses, and the
deletion stalls) or a vCluster before the charts installed into it. Which pairs
get one is the edges table's ``usage`` column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.model import keys, naming
from function.model.context import Context, Desired
from function.model.edges import USAGES
from function.model.naming import KindVersion, Shape

if TYPE_CHECKING:
    from collections.abc import Collection

# The kinds a Usage names. They are fixed, so a Usage never depends on its ends'
# manifests, which may be held back for a while.
KINDS = {
    keys.INTEGRATION: naming.INTEGRATION,
    keys.VPC_LINK: naming.VPC_LINK,
    keys.LISTENER: naming.LISTENER,
    keys.LOAD_BALANCER: naming.LB,
    keys.TARGET_GROUP: naming.TARGET_GROUP,
    keys.TARGET_GROUP_BINDING: naming.OBJECT,
    keys.VPC_LINK_SECURITY_GROUP: naming.SECURITY_GROUP,
    keys.LOAD_BALANCER_SECURITY_GROUP: naming.SECURITY_GROUP,
    keys.LOAD_BALANCER_INGRESS: naming.SECURITY_GROUP_INGRESS_RULE,
    keys.VPC_LINK_EGRESS: naming.SECURITY_GROUP_EGRESS_RULE,
    keys.API_MAPPING: naming.API_MAPPING,
    keys.DOMAIN_NAME: naming.DOMAIN_NAME,
    keys.CERTIFICATE: naming.CERTIFICATE,
    keys.NAMESPACE: naming.OBJECT,
    keys.VCLUSTER: naming.RELEASE,
    keys.GRAFANA: naming.RELEASE,
    keys.PROMETHEUS: naming.RELEASE,
}


def _ref(ctx: Context, key: str, kind: KindVersion) -> dict[str, Any]:
    return {
        "apiVersion": kind.api_version(ctx.shape),
        "kind": kind.kind,
        "resourceSelector": {
            "matchControllerRef": True,
            "matchLabels": {naming.LABEL_RESOURCE: key, naming.LABEL_ENVIRONMENT: ctx.names.slug},
        },
    }


def build(ctx: Context, composed: Collection[str]) -> list[Desired]:
    """A Usage for each protected edge whose ends the spec asks for (keys in ``composed``).

    Selectors only resolve to existing objects, so a new Usage waits until both
    ends are ready; an existing one is kept while the spec still asks for both ends.
    """
    usage_kind = "ClusterUsage" if ctx.shape is Shape.LEGACY else "Usage"
    desired = []
    for edge in USAGES:
        if edge.user not in composed or edge.used not in composed:
            continue
        key = keys.usage(edge.user, edge.used)
        manifest = {
            "apiVersion": naming.USAGE_API_VERSION,
            "kind": usage_kind,
            "metadata": ctx.metadata(key),
            "spec": {
                "of": _ref(ctx, edge.used, KINDS[edge.used]),
                "by": _ref(ctx, edge.user, KINDS[edge.user]),
                "replayDeletion": True,
            },
        }
        desired.append(Desired(key, manifest))
    return desired
