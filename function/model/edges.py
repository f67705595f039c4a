"""Who needs whom: the one table behind both the creation order and the deletion order.

A resource is first created only once every composed resource it needs is ready
(``ordering``); where deleting the needed resource first would break or stall
(AWS refuses to delete a listener an integration points at), a Crossplane Usage
keeps it until its user is gone (``builders.usages``). Both read these edges, so
the two orders cannot disagree.

An edge counts while both its ends are composed and, where it has one, ``when`` holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from function.model import keys

if TYPE_CHECKING:
    from collections.abc import Callable

    from function.model.context import Context


@dataclass(frozen=True)
class Edge:
    """``user`` needs ``used``, for the reason ``why``."""

    user: str  # a key, or a role many keys share (keys.JWT_ROUTE)
    used: str
    why: str
    # Deleting ``used`` first would break ``user``: a Usage protects it, listed in this
    # place among the Usages (status.pending shows them in that order).
    usage: int | None = None
    when: Callable[[Context], bool] | None = None


def _vpc_id_from_load_balancer(ctx: Context) -> bool:
    return ctx.spec.vpc.vpc_id is None


_NAMES_GROUP = "it {}, and AWS refuses to delete a group another group's rule names"
_WRITES_KUBECONFIG = "it writes the kubeconfig copy Helm reads into the XR's namespace with it"
_KUBECONFIG_THERE = "the vCluster and the kubeconfig Helm uninstalls it with are in the namespace"

# Each user's edges are in the order status.pending names what it waits for.
EDGES = (
    # The host namespace holds the vCluster and its kubeconfig Secret: deleting it first
    # would take the vCluster's pods and Secret before Helm can uninstall the releases.
    Edge(keys.VCLUSTER, keys.NAMESPACE, "the release is installed in the host namespace", usage=9),
    Edge(keys.VCLUSTER, keys.KUBECONFIG_ROLE, _WRITES_KUBECONFIG),
    Edge(keys.VCLUSTER, keys.KUBECONFIG_ROLE_BINDING, _WRITES_KUBECONFIG),
    Edge(
        keys.VCLUSTER_PROVIDER_CONFIG,
        keys.VCLUSTER,
        "it reaches the vCluster through the kubeconfig the vCluster exports",
    ),
    Edge(keys.GRAFANA, keys.NAMESPACE, _KUBECONFIG_THERE, usage=10),
    Edge(keys.GRAFANA, keys.VCLUSTER, "the chart runs inside the vCluster", usage=7),
    Edge(keys.GRAFANA, keys.VCLUSTER_PROVIDER_CONFIG, "the chart is installed through it"),
    Edge(keys.PROMETHEUS, keys.NAMESPACE, _KUBECONFIG_THERE, usage=11),
    Edge(keys.PROMETHEUS, keys.VCLUSTER, "the chart runs inside the vCluster", usage=8),
    Edge(keys.PROMETHEUS, keys.VCLUSTER_PROVIDER_CONFIG, "the chart is installed through it"),
    Edge(keys.INGRESS_GATEWAY, keys.NAMESPACE, "it lives in the host namespace"),
    Edge(keys.INGRESS_ROUTES, keys.NAMESPACE, "it lives in the host namespace"),
    Edge(keys.HTTPROUTE, keys.NAMESPACE, "it lives in the host namespace"),
    Edge(keys.DESTINATION_RULE, keys.NAMESPACE, "it lives in the host namespace"),
    Edge(
        keys.LOAD_BALANCER,
        keys.LOAD_BALANCER_SECURITY_GROUP,
        "an NLB created without security groups can never get one",
        usage=13,
    ),
    Edge(
        keys.VPC_LINK,
        keys.VPC_LINK_SECURITY_GROUP,
        "a VPC link's security groups cannot change after creation",
        usage=14,
    ),
    # A rule needs both groups' ids. AWS refuses to delete a group that another group's rule
    # names (DependencyViolation), so the group a rule names outlives the rule; the group a
    # rule belongs to may go first, as its rules go with it (and Terraform's rule deletion
    # takes a missing group for done: InvalidGroup.NotFound).
    Edge(
        keys.LOAD_BALANCER_INGRESS,
        keys.LOAD_BALANCER_SECURITY_GROUP,
        "it is a rule of the load balancer's group",
    ),
    Edge(
        keys.LOAD_BALANCER_INGRESS,
        keys.VPC_LINK_SECURITY_GROUP,
        _NAMES_GROUP.format("lets the VPC link's group in"),
        usage=15,
    ),
    Edge(
        keys.VPC_LINK_EGRESS, keys.VPC_LINK_SECURITY_GROUP, "it is a rule of the VPC link's group"
    ),
    Edge(
        keys.VPC_LINK_EGRESS,
        keys.LOAD_BALANCER_SECURITY_GROUP,
        _NAMES_GROUP.format("lets the VPC link's group reach the load balancer's"),
        usage=16,
    ),
    Edge(
        keys.LOAD_BALANCER_EGRESS,
        keys.LOAD_BALANCER_SECURITY_GROUP,
        "it is a rule of the load balancer's group",
    ),
    Edge(
        keys.TARGET_GROUP,
        keys.LOAD_BALANCER,
        "an ip target group needs the VPC id AWS reports for the load balancer",
        when=_vpc_id_from_load_balancer,
    ),
    Edge(keys.LISTENER, keys.LOAD_BALANCER, "it listens on the load balancer", usage=3),
    Edge(keys.LISTENER, keys.TARGET_GROUP, "it forwards to the target group", usage=4),
    Edge(
        keys.TARGET_GROUP_BINDING,
        keys.TARGET_GROUP,
        "it registers the ingress pods in the target group, by its ARN",
        usage=5,
    ),
    Edge(keys.INTEGRATION, keys.API, "it belongs to the API"),
    Edge(keys.INTEGRATION, keys.LISTENER, "its integrationUri is the listener ARN", usage=2),
    Edge(keys.INTEGRATION, keys.VPC_LINK, "it reaches the listener through the VPC link", usage=1),
    Edge(keys.AUTHORIZER, keys.API, "it belongs to the API"),
    Edge(keys.JWT_ROUTE, keys.API, "it belongs to the API"),
    Edge(keys.JWT_ROUTE, keys.INTEGRATION, "it targets the integration"),
    Edge(keys.JWT_ROUTE, keys.AUTHORIZER, "it is authorized by the JWT authorizer"),
    Edge(keys.PUBLIC_ROUTE, keys.API, "it belongs to the API"),
    Edge(keys.PUBLIC_ROUTE, keys.INTEGRATION, "it targets the integration"),
    Edge(keys.STAGE, keys.API, "it deploys the API"),
    Edge(keys.STAGE, keys.ACCESS_LOGS, "it writes access logs to the group, by its ARN"),
    Edge(
        keys.VALIDATION_RECORD,
        keys.CERTIFICATE,
        "it is the record the certificate asks for",
    ),
    Edge(keys.CERTIFICATE_VALIDATION, keys.CERTIFICATE, "it waits for the certificate's issue"),
    Edge(
        keys.CERTIFICATE_VALIDATION,
        keys.VALIDATION_RECORD,
        "it names the validation record's FQDN",
    ),
    Edge(
        keys.DOMAIN_NAME,
        keys.CERTIFICATE_VALIDATION,
        "AWS rejects a domain name whose certificate is not ISSUED yet",
    ),
    Edge(
        keys.DOMAIN_NAME,
        keys.CERTIFICATE,
        "it serves the certificate, and ACM refuses to delete a certificate in use",
        usage=12,
    ),
    Edge(keys.API_MAPPING, keys.DOMAIN_NAME, "it maps the domain name", usage=6),
    Edge(keys.API_MAPPING, keys.STAGE, "it maps to the stage"),
    Edge(keys.ALIAS_RECORD, keys.DOMAIN_NAME, "it points at the domain's regional target"),
)

# The edges a Usage protects, in their places.
USAGES = tuple(
    sorted((edge for edge in EDGES if edge.usage is not None), key=lambda e: e.usage or 0)
)
