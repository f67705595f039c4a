"""Names an existing environment keeps across an upgrade.

Version 0.1.0 named every cluster- or account-unique resource after ``spec.name`` alone;
names now carry the XR's identity suffix (``naming.Names``). Renaming a live resource
replaces it: a new namespace and vCluster, a new NLB and target group, a new log group,
or, where the provider cannot replace, a resource stuck on an immutable field. So a name
0.1.0 gave is kept while the XR's own observed resource under the same key carries it,
with the apiVersion and kind this function composes there. Only that exact name is kept,
never whatever an observed resource carries: a resource can keep the name 0.1.0 gave
this XR's ``spec.name``, and never take any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from function.model import keys, naming

if TYPE_CHECKING:
    from function.model.naming import KindVersion, Shape
    from function.model.observed import Observed

_FOR_PROVIDER = ("spec", "forProvider")
_MANIFEST = (*_FOR_PROVIDER, "manifest")


@dataclass(frozen=True)
class Sticky:
    """Where one name sits in the resource composed under ``key``."""

    name: str  # the ``naming.Names`` property
    key: str
    kind: KindVersion
    path: tuple[str, ...]
    # For a provider-kubernetes Object: the apiVersion and kind of the manifest it applies.
    manifest: tuple[str, str] | None = None


STICKY = (
    Sticky("host_namespace", keys.NAMESPACE, naming.OBJECT, (*_MANIFEST, "metadata", "name"),
           ("v1", "Namespace")),
    Sticky("vcluster_provider_config", keys.VCLUSTER_PROVIDER_CONFIG,
           naming.HELM_PROVIDER_CONFIG, ("metadata", "name")),
    Sticky("load_balancer", keys.LOAD_BALANCER, naming.LB, (*_FOR_PROVIDER, "name")),
    Sticky("target_group", keys.TARGET_GROUP, naming.TARGET_GROUP, (*_FOR_PROVIDER, "name")),
    Sticky("api", keys.API, naming.API, (*_FOR_PROVIDER, "name")),
    Sticky("vpc_link", keys.VPC_LINK, naming.VPC_LINK, (*_FOR_PROVIDER, "name")),
    Sticky("target_group_binding", keys.TARGET_GROUP_BINDING, naming.OBJECT,
           (*_MANIFEST, "metadata", "name"), ("elbv2.k8s.aws/v1beta1", "TargetGroupBinding")),
    Sticky("access_log_group", keys.ACCESS_LOGS, naming.LOG_GROUP,
           ("metadata", "annotations", naming.EXTERNAL_NAME)),
    # Not a name, but changing it rewrites the integration and every route in two steps,
    # and requests fail in between.
    Sticky("tenant", keys.INTEGRATION, naming.INTEGRATION,
           (*_FOR_PROVIDER, "requestParameters", f"overwrite:header.{naming.TENANT_HEADER}")),
)  # fmt: skip


def version_0_1_0(env: str) -> dict[str, str]:
    """The names version 0.1.0 gave an environment, from ``spec.name`` alone."""
    return {
        "host_namespace": f"vcluster-{env}",
        "vcluster_provider_config": f"{env}-vcluster",
        "load_balancer": f"{env}-nlb",
        "target_group": f"{env}-tg",
        "api": env,
        "vpc_link": f"{env}-vpclink",
        "target_group_binding": f"{env}-ingress",
        "access_log_group": f"/aws/apigateway/{env}/access",
        "tenant": env,
    }


def _composed_here(observed: Observed, rule: Sticky, shape: Shape) -> bool:
    """Whether the observed resource is of the type this function composes under the key."""
    wanted = [rule.kind.api_version(shape), rule.kind.kind]
    if [observed.get(rule.key, "apiVersion"), observed.get(rule.key, "kind")] != wanted:
        return False
    if rule.manifest is None:
        return True
    found = (observed.get(rule.key, *_MANIFEST, "apiVersion"),
             observed.get(rule.key, *_MANIFEST, "kind"))  # fmt: skip
    return found == rule.manifest


def kept(observed: Observed, shape: Shape, env: str) -> dict[str, str]:
    """The 0.1.0 names this XR's observed resources still carry, by ``Names`` property."""
    earlier = version_0_1_0(env)
    found = {}
    for rule in STICKY:
        if rule.key not in observed or not _composed_here(observed, rule, shape):
            continue
        if observed.get(rule.key, *rule.path) == earlier[rule.name]:
            found[rule.name] = earlier[rule.name]
    return found
