"""The function input: platform-wide settings from the Composition, as typed models."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from function.model.errors import short
from function.model.spec import (
    MAX_SECURITY_GROUPS,
    MAX_TIMEOUT_MS,
    MIN_TIMEOUT_MS,
    Dns,
    SecurityGroups,
)
from function.model.types import (
    CHART_VERSION_MAX,
    SEMVER,
    SUBDOMAIN_MAX,
    VOLUME_SIZE,
    Bool,
    ChartName,
    ChartRepository,
    Cidr,
    DnsLabel,
    DnsSubdomain,
    HttpPath,
    Int,
    LabelKey,
    LabelValue,
    ListenerArn,
    Port,
    Region,
    SecurityGroupId,
    StageName,
    Strict,
    VpcLinkId,
    whole_numbers,
)

# The addresses AWS accepts for ip targets outside the VPC's own subnets, which are private
# too in practice (RegisterTargets, TargetDescription.Id): RFC 1918 and RFC 6598.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
MAX_CIDR_BLOCKS = 10  # a VPC has at most 5 IPv4 and 5 IPv6 CIDR blocks by default


def _distinct(values: list[str]) -> list[str]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        msg = f"'{repeated[0]}' appears more than once"
        raise ValueError(msg)
    return values


TargetGroupIds = Annotated[
    list[SecurityGroupId],
    Field(min_length=1, max_length=MAX_SECURITY_GROUPS),
    AfterValidator(_distinct),
]
CidrBlocks = Annotated[
    list[Cidr], Field(min_length=1, max_length=MAX_CIDR_BLOCKS), AfterValidator(_distinct)
]


class ProviderConfigs(Strict):
    """Names of the ProviderConfigs the composed resources use."""

    aws: DnsSubdomain = "default"
    helm: DnsSubdomain = "default"
    kubernetes: DnsSubdomain = "default"
    kind: Literal["ClusterProviderConfig", "ProviderConfig"] = Field(
        default="ClusterProviderConfig",
        description="Kind of the configs above in namespaced (Crossplane v2) XRs.",
    )


class Chart(Strict):
    """A pinned Helm chart."""

    repository: ChartRepository
    name: ChartName
    version: Annotated[str, StringConstraints(pattern=SEMVER, max_length=CHART_VERSION_MAX)]


def _chart(repository: str, name: str, version: str) -> Any:  # noqa: ANN401
    return Field(default_factory=lambda: Chart(repository=repository, name=name, version=version))


class Charts(Strict):
    """Chart versions, pinned so that an environment never changes under a user."""

    vcluster: Chart = _chart("https://charts.loft.sh", "vcluster", "0.36.1")
    grafana: Chart = _chart("https://grafana.github.io/helm-charts", "grafana", "8.8.2")
    prometheus: Chart = _chart(
        "https://prometheus-community.github.io/helm-charts", "prometheus", "27.3.0"
    )


# A pod selector names a few labels; the bound keeps every answer that copies it small.
MAX_SELECTOR_LABELS = 16


class IngressGateway(Strict):
    """The shared Istio ingress gateway in the host cluster."""

    namespace: DnsLabel = "istio-ingress"
    selector: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: {"istio": "ingressgateway"}, max_length=MAX_SELECTOR_LABELS
    )
    service_name: DnsLabel = Field(default="istio-ingressgateway", alias="serviceName")
    service_port: Port = Field(default=80, alias="servicePort")
    target_port: Port = Field(
        default=8080,
        alias="targetPort",
        description="The pods' port behind servicePort (8080 on Istio's classic gateway).",
    )
    health_check_port: Port = Field(default=15021, alias="healthCheckPort")
    health_check_path: HttpPath = Field(default="/healthz/ready", alias="healthCheckPath")
    gateway_name: DnsLabel = Field(
        default="shared-ingress",
        alias="gatewayName",
        description="The platform's shared Gateway API Gateway (ingressMode gatewayAPI).",
    )
    gateway_namespace: DnsLabel = Field(default="istio-ingress", alias="gatewayNamespace")
    gateway_section: DnsLabel | None = Field(default=None, alias="gatewaySection")
    gateway_class_name: DnsLabel = Field(
        default="istio",
        alias="gatewayClassName",
        description="Class of that Gateway: Istio names its Service <gatewayName>-<class>.",
    )
    gateway_target_port: Port | None = Field(
        default=None,
        alias="gatewayTargetPort",
        description="The Gateway pods' port behind servicePort; by default servicePort itself.",
    )
    trusted_source_ranges: list[Cidr] = Field(
        default_factory=list,
        max_length=50,
        alias="trustedSourceRanges",
        description=(
            "Where the load balancer's connections come from (its subnets' CIDR blocks): "
            "only these may send the tenant header; empty sends no policy."
        ),
    )
    target_security_group_ids: TargetGroupIds | None = Field(
        default=None,
        alias="targetSecurityGroupIds",
        description=(
            "Groups of the ingress gateway pods' network interfaces (the nodes' groups with "
            "the VPC CNI, the pods' own with security groups for pods): a composed load "
            "balancer group may send only to them; without them, to vpcCidrBlocks."
        ),
    )

    @model_validator(mode="after")
    def _label_prefixes(self) -> Self:
        for key in self.selector:
            prefix, _, _ = key.rpartition("/")
            if len(prefix) > SUBDOMAIN_MAX:
                msg = (
                    f"selector: the prefix of label key {short(key)!r} is {len(prefix)} "
                    f"characters long; Kubernetes allows at most {SUBDOMAIN_MAX}"
                )
                raise ValueError(msg)
        return self


class Shared(Strict):
    """A listener and VPC link shared by every environment of this Composition."""

    listener_arn: ListenerArn | None = Field(default=None, alias="listenerArn")
    vpc_link_id: VpcLinkId | None = Field(default=None, alias="vpcLinkId")


class PrometheusPersistence(Strict):
    """Prometheus server storage: off by default, as a cluster may have no default StorageClass."""

    enabled: Bool = False
    size: Annotated[str, StringConstraints(pattern=VOLUME_SIZE)] = "8Gi"
    storage_class: DnsLabel | None = Field(
        default=None,
        alias="storageClassName",
        description="Host StorageClass of the volume; none means the cluster's default.",
    )


class Prometheus(Strict):
    """Prometheus inside the vCluster, made to become ready on a cluster with pod security."""

    persistence: PrometheusPersistence = Field(default_factory=PrometheusPersistence)
    node_exporter: Bool = Field(
        default=False,
        alias="nodeExporter",
        description="The node exporter needs hostNetwork, hostPID and hostPath volumes.",
    )


class FunctionInput(Strict):
    """The function's input in the Composition: platform-wide settings."""

    api_version: Literal["vclusterenvironment.fn.platform.example.org/v1beta1"] = Field(
        default="vclusterenvironment.fn.platform.example.org/v1beta1", alias="apiVersion"
    )
    kind: Literal["Input"] = "Input"
    metadata: dict[str, Any] = Field(default_factory=dict)
    region: Region = "us-east-1"
    provider_configs: ProviderConfigs = Field(
        default_factory=ProviderConfigs, alias="providerConfigs"
    )
    charts: Charts = Field(default_factory=Charts)
    ingress_gateway: IngressGateway = Field(default_factory=IngressGateway, alias="ingressGateway")
    shared: Shared = Field(default_factory=Shared)
    stage_name: StageName = Field(default="$default", alias="stageName")
    integration_timeout_ms: Int = Field(
        default=MAX_TIMEOUT_MS, ge=MIN_TIMEOUT_MS, le=MAX_TIMEOUT_MS, alias="integrationTimeoutMs"
    )
    poll_seconds: Int = Field(default=15, ge=1, le=600, alias="pollSeconds")
    ingress_mode: Literal["istio", "gatewayAPI"] = Field(default="istio", alias="ingressMode")
    dns: Dns = Field(default_factory=Dns)
    prometheus: Prometheus = Field(default_factory=Prometheus)
    security_groups: SecurityGroups = Field(default_factory=SecurityGroups, alias="securityGroups")
    vpc_cidr_blocks: CidrBlocks = Field(
        default_factory=lambda: list(PRIVATE_RANGES),
        alias="vpcCidrBlocks",
        description=(
            "Where composed groups may send when no group names the other end: the ingress "
            "gateway pods without targetSecurityGroupIds, a load balancer without groups. "
            "By default every private range an ip target may have (RFC 1918 and RFC 6598)."
        ),
    )


def parse_input(raw: dict[str, Any] | None) -> FunctionInput:
    """Validate the function input; no input means every platform default."""
    return FunctionInput.model_validate(whole_numbers(raw or {}))
