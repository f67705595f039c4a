"""Every composed resource's key: the name Crossplane knows it by between calls.

A key must never change, since Crossplane deletes a resource whose key disappears
from desired state. They live here, in one place, so that a builder, the edges
table and the status read the same strings without importing each other.

Some keys are made per app or per API route; the edges table names those by a
role shared by all of them (``JWT_ROUTE``, ``HTTPROUTE``, ...).
"""

from __future__ import annotations

import hashlib

# The vCluster and what is installed into it.
NAMESPACE = "namespace"
VCLUSTER = "vcluster"
VCLUSTER_PROVIDER_CONFIG = "vcluster-provider-config"
# A v2 XR's copy of the kubeconfig in its own namespace, and the rights vCluster writes it with.
KUBECONFIG_ROLE = "kubeconfig-role"
KUBECONFIG_ROLE_BINDING = "kubeconfig-role-binding"
GRAFANA = "grafana"
PROMETHEUS = "prometheus"

# Ingress on the host cluster.
INGRESS_GATEWAY = "ingress-gateway"
INGRESS_ROUTES = "ingress-routes"
HTTPROUTE = "ingress-httproute"  # role, and the stem of ingress-httproute-<app>
DESTINATION_RULE = "destination-rule"  # role, and the stem of destination-rule-<app>
TENANT_POLICY = "tenant-header-policy"

# The load balancer the VPC link reaches.
LOAD_BALANCER = "nlb"
# The security groups of the network path: VPC link -> NLB -> ingress pods.
VPC_LINK_SECURITY_GROUP = "security-group-vpc-link"
LOAD_BALANCER_SECURITY_GROUP = "security-group-nlb"
LOAD_BALANCER_INGRESS = "security-group-nlb-ingress"  # role, and the stem of one rule per source
# Egress (provider-upjet-aws creates groups without AWS's default allow-all egress rule):
# roles, and the stems of one rule per destination (and, for the NLB's, per port).
VPC_LINK_EGRESS = "security-group-vpc-link-egress"
LOAD_BALANCER_EGRESS = "security-group-nlb-egress"
TARGET_GROUP = "target-group"
LISTENER = "listener"
TARGET_GROUP_BINDING = "target-group-binding"

# The HTTP API.
API = "api"
VPC_LINK = "vpc-link"
INTEGRATION = "integration"
AUTHORIZER = "authorizer"
STAGE = "stage"
ACCESS_LOGS = "access-log-group"
JWT_ROUTE = "jwt-route"  # role of every API route behind the JWT authorizer
PUBLIC_ROUTE = "public-route"  # role of every API route without authorization

# The custom domain.
CERTIFICATE = "certificate"
VALIDATION_RECORD = "certificate-validation-record"
CERTIFICATE_VALIDATION = "certificate-validation"
DOMAIN_NAME = "domain-name"
API_MAPPING = "api-mapping"
ALIAS_RECORD = "domain-alias-record"

# A v2 XR's connection details.
CONNECTION_SECRET = "connection-secret"  # noqa: S105  # a resource name, not a credential


def httproute(app: str) -> str:
    """The key of an app's HTTPRoute."""
    return f"{HTTPROUTE}-{app}"


def destination_rule(app: str) -> str:
    """The key of an app's DestinationRule."""
    return f"{DESTINATION_RULE}-{app}"


def api_route(app: str | None, suffix: str) -> str:
    """The key of an API route: an app's, or with no app one of the catch-all pair's."""
    return f"route-{suffix}" if app is None else f"route-{app}-{suffix}"


ROUTE_PROXY = api_route(None, "proxy")
ROUTE_ROOT = api_route(None, "root")


def load_balancer_ingress(source: str | None) -> str:
    """The key of the NLB group's rule letting in a VPC link group: the composed one, or an id."""
    return LOAD_BALANCER_INGRESS if source is None else f"{LOAD_BALANCER_INGRESS}-{source}"


def vpc_link_egress(destination: str | None) -> str:
    """The key of the VPC link group's rule to the NLB: its composed group, or a group or CIDR."""
    return VPC_LINK_EGRESS if destination is None else _peer_key(VPC_LINK_EGRESS, destination)


def load_balancer_egress(port: int, destination: str) -> str:
    """The key of the NLB group's rule to the ingress gateway pods on one port."""
    return _peer_key(f"{LOAD_BALANCER_EGRESS}-{port}", destination)


_LABEL_MAX = 63  # a key is a label value too (the resource label Usages select by)
_DIGEST = 12


def _peer_key(stem: str, peer: str) -> str:
    """``stem-peer`` with a CIDR's dots, slash and colons as dashes; a digest if too long."""
    key = f"{stem}-{peer.replace('.', '-').replace('/', '-').replace(':', '-')}"
    if len(key) <= _LABEL_MAX:
        return key
    return f"{stem}-{hashlib.sha256(peer.encode()).hexdigest()[:_DIGEST]}"


def usage(user: str, used: str) -> str:
    """The key of the Usage that keeps ``used`` until ``user`` is gone."""
    return f"usage-{user}-uses-{used}"
