"""Names, API groups and labels: every string that identifies a resource.

One place decides which API group and version each kind uses in each XR shape,
so the legacy (cluster-scoped) and the Crossplane v2 (namespaced) compositions
share one code path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

LB_NAME_MAX = 32  # elbv2 load balancer and target group names
K8S_NAME_MAX = 63
LABEL_RESOURCE = "platform.example.org/resource"
LABEL_ENVIRONMENT = "platform.example.org/environment"
EXTERNAL_NAME = "crossplane.io/external-name"
TENANT_HEADER = "x-vcluster-environment"
# The domain a request came in on ($context.domainName), set by the integration: HTTP
# APIs do not document which Host header a private integration passes on.
DOMAIN_HEADER = "x-vcluster-domain"


class Shape(Enum):
    """The two kinds of XR this function composes for."""

    LEGACY = "legacy"  # cluster-scoped XR (claims); composes *.aws.upbound.io
    NAMESPACED = "namespaced"  # Crossplane v2 XR; composes *.aws.m.upbound.io in its namespace


@dataclass(frozen=True)
class KindVersion:
    """A kind and the apiVersion it uses in each shape."""

    kind: str
    legacy: str
    namespaced: str
    regional: bool = True  # route53 is global: its Record has no region field

    def api_version(self, shape: Shape) -> str:
        """The apiVersion for this kind in the given shape."""
        return self.legacy if shape is Shape.LEGACY else self.namespaced


# Storage versions of provider-upjet-aws v2.6, provider-helm v1.4, provider-kubernetes v1.2.
API = KindVersion(
    "API", "apigatewayv2.aws.upbound.io/v1beta2", "apigatewayv2.aws.m.upbound.io/v1beta1"
)
VPC_LINK = KindVersion(
    "VPCLink", "apigatewayv2.aws.upbound.io/v1beta1", "apigatewayv2.aws.m.upbound.io/v1beta1"
)
INTEGRATION = KindVersion(
    "Integration", "apigatewayv2.aws.upbound.io/v1beta2", "apigatewayv2.aws.m.upbound.io/v1beta1"
)
ROUTE = KindVersion(
    "Route", "apigatewayv2.aws.upbound.io/v1beta1", "apigatewayv2.aws.m.upbound.io/v1beta1"
)
STAGE = KindVersion(
    "Stage", "apigatewayv2.aws.upbound.io/v1beta2", "apigatewayv2.aws.m.upbound.io/v1beta1"
)
AUTHORIZER = KindVersion(
    "Authorizer", "apigatewayv2.aws.upbound.io/v1beta2", "apigatewayv2.aws.m.upbound.io/v1beta1"
)
LOG_GROUP = KindVersion(
    "Group", "cloudwatchlogs.aws.upbound.io/v1beta1", "cloudwatchlogs.aws.m.upbound.io/v1beta1"
)
CERTIFICATE = KindVersion(
    "Certificate", "acm.aws.upbound.io/v1beta2", "acm.aws.m.upbound.io/v1beta1"
)
CERTIFICATE_VALIDATION = KindVersion(
    "CertificateValidation", "acm.aws.upbound.io/v1beta1", "acm.aws.m.upbound.io/v1beta1"
)
DOMAIN_NAME = KindVersion(
    "DomainName", "apigatewayv2.aws.upbound.io/v1beta2", "apigatewayv2.aws.m.upbound.io/v1beta1"
)
API_MAPPING = KindVersion(
    "APIMapping", "apigatewayv2.aws.upbound.io/v1beta1", "apigatewayv2.aws.m.upbound.io/v1beta1"
)
RECORD = KindVersion(
    "Record", "route53.aws.upbound.io/v1beta2", "route53.aws.m.upbound.io/v1beta1", regional=False
)
LB = KindVersion("LB", "elbv2.aws.upbound.io/v1beta2", "elbv2.aws.m.upbound.io/v1beta1")
TARGET_GROUP = KindVersion(
    "LBTargetGroup", "elbv2.aws.upbound.io/v1beta2", "elbv2.aws.m.upbound.io/v1beta1"
)
LISTENER = KindVersion(
    "LBListener", "elbv2.aws.upbound.io/v1beta2", "elbv2.aws.m.upbound.io/v1beta1"
)
SECURITY_GROUP = KindVersion(
    "SecurityGroup", "ec2.aws.upbound.io/v1beta1", "ec2.aws.m.upbound.io/v1beta1"
)
SECURITY_GROUP_INGRESS_RULE = KindVersion(
    "SecurityGroupIngressRule", "ec2.aws.upbound.io/v1beta1", "ec2.aws.m.upbound.io/v1beta1"
)
SECURITY_GROUP_EGRESS_RULE = KindVersion(
    "SecurityGroupEgressRule", "ec2.aws.upbound.io/v1beta1", "ec2.aws.m.upbound.io/v1beta1"
)
RELEASE = KindVersion("Release", "helm.crossplane.io/v1beta1", "helm.m.crossplane.io/v1beta1")
HELM_PROVIDER_CONFIG = KindVersion(
    "ProviderConfig", "helm.crossplane.io/v1beta1", "helm.m.crossplane.io/v1beta1"
)
OBJECT = KindVersion(
    "Object", "kubernetes.crossplane.io/v1alpha2", "kubernetes.m.crossplane.io/v1alpha1"
)
USAGE_API_VERSION = "protection.crossplane.io/v1beta1"  # Usage and ClusterUsage alike
# Inside Objects on the host cluster, so the same in both shapes.
ISTIO_API_VERSION = "networking.istio.io/v1"
GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"


# 64 bits. A v2 XR's namespace and name are its tenant's choice, so a clash must resist an
# offline search, not only chance: 8 hex digits fell to one loaded core in about 3 hours.
SUFFIX_HEX = 16


def identity_suffix(xr_name: str, xr_namespace: str | None) -> str:
    """A short, stable digest of the XR's identity, unique per XR in practice.

    A legacy XR's name is unique in the cluster (a claim's XR carries a random
    suffix); a v2 XR is unique by namespace and name. Derived from those, never
    from the uid, so ``crossplane render`` and a live cluster give the same names.
    """
    identity = f"{xr_namespace or ''}/{xr_name}"
    return hashlib.sha256(identity.encode()).hexdigest()[:SUFFIX_HEX]


@dataclass(frozen=True)
class Names:
    """Every derived name of one environment.

    Names that must be unique in the cluster or the AWS account carry the XR's
    identity suffix after the readable ``spec.name``, so two XRs with one
    ``spec.name`` (two claims in two namespaces) never compose the same name.
    Names inside the host namespace need no suffix: the namespace is unique.
    ``kept`` holds, by property, the names an environment created before the
    suffix keeps (``sticky.kept``): renaming them would replace live resources.
    """

    env: str
    suffix: str
    kept: Mapping[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """The environment's unique name: ``spec.name``, then the identity suffix."""
        return f"{self.env}-{self.suffix}"

    @property
    def tenant(self) -> str:
        """The tenant header value only this environment's integration sets."""
        return self.kept.get("tenant", self.slug)

    @property
    def host_namespace(self) -> str:
        """Host namespace the vCluster runs in."""
        return self.kept.get("host_namespace", self._fit("vcluster-", "", K8S_NAME_MAX))

    @property
    def vcluster_release(self) -> str:
        """Helm release name of the vCluster; also the vCluster's name."""
        return self.env

    @property
    def kubeconfig_secret(self) -> str:
        """Secret vCluster writes its kubeconfig to (chart default ``vc-<name>``)."""
        return f"vc-{self.vcluster_release}"

    @property
    def kubeconfig_copy(self) -> str:
        """The kubeconfig's copy in a v2 XR's namespace: two XRs there may share ``spec.name``."""
        return f"vc-{self.slug}"

    @property
    def vcluster_service_account(self) -> str:
        """ServiceAccount of the vCluster's control plane in the host namespace (chart default)."""
        return f"vc-{self.vcluster_release}"

    @property
    def kubeconfig_writer(self) -> str:
        """Role and RoleBinding letting the vCluster write its kubeconfig in a v2 XR's namespace."""
        return f"{self.slug}-vcluster-kubeconfig"

    @property
    def vcluster_provider_config(self) -> str:
        """Helm ProviderConfig that installs charts inside the vCluster (cluster-scoped)."""
        return self.kept.get("vcluster_provider_config", f"{self.slug}-vcluster")

    def _fit(self, prefix: str, tail: str, limit: int) -> str:
        """``prefix``, as much of ``spec.name`` as fits in ``limit``, the suffix, ``tail``.

        The suffix alone makes the name unique, so cutting the readable part loses nothing.
        """
        room = limit - len(f"{prefix}-{self.suffix}{tail}")
        return f"{prefix}{self.env[:room].rstrip('-')}-{self.suffix}{tail}"

    def _elbv2(self, kind: str) -> str:
        """An elbv2 name, at most 32 characters."""
        return self._fit("", f"-{kind}", LB_NAME_MAX)

    @property
    def load_balancer(self) -> str:
        """Network load balancer name (unique in the account and region, at most 32)."""
        return self.kept.get("load_balancer", self._elbv2("nlb"))

    @property
    def target_group(self) -> str:
        """Target group name (unique in the account and region, at most 32)."""
        return self.kept.get("target_group", self._elbv2("tg"))

    # A security group's name is unique within its VPC, which tenants may share.
    @property
    def vpc_link_security_group(self) -> str:
        """Security group of the VPC link's network interfaces."""
        return f"{self.slug}-vpclink"

    @property
    def load_balancer_security_group(self) -> str:
        """Security group of the NLB."""
        return f"{self.slug}-nlb"

    @property
    def api(self) -> str:
        """HTTP API name."""
        return self.kept.get("api", self.slug)

    @property
    def vpc_link(self) -> str:
        """VPC link name."""
        return self.kept.get("vpc_link", f"{self.slug}-vpclink")

    @property
    def gateway(self) -> str:
        """Ingress Gateway object name."""
        return f"{self.env}-gateway"

    @property
    def virtual_service(self) -> str:
        """VirtualService object name."""
        return f"{self.env}-routes"

    @property
    def target_group_binding(self) -> str:
        """TargetGroupBinding name in the ingress gateway's namespace, shared by all."""
        return self.kept.get("target_group_binding", f"{self.slug}-ingress")

    @property
    def tenant_policy(self) -> str:
        """AuthorizationPolicy name in the ingress gateway's namespace, shared by all."""
        return f"{self.slug}-tenant-header"

    @property
    def access_log_group(self) -> str:
        """CloudWatch log group for API access logs (unique in the account and region)."""
        return self.kept.get("access_log_group", f"/aws/apigateway/{self.slug}/access")

    def host_service(self, service: str, namespace: str) -> str:
        """Name vCluster gives a virtual cluster's Service when it syncs it to the host.

        vCluster joins name, "x", namespace, "x", vCluster name with dashes; above
        63 characters it keeps the first 52, then a dash and 10 hex digits of the
        SHA-256 of the whole joined name.
        """
        joined = f"{service}-x-{namespace}-x-{self.vcluster_release}"
        if len(joined) <= K8S_NAME_MAX:
            return joined
        digest = hashlib.sha256(joined.encode()).hexdigest()[:10]
        return f"{joined[:52]}-{digest}".replace(".-", "-")

    def host_service_fqdn(self, service: str, namespace: str) -> str:
        """Cluster DNS name of a synced Service in the host cluster."""
        return f"{self.host_service(service, namespace)}.{self.host_namespace}.svc.cluster.local"
