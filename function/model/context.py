"""The values every builder receives and returns: a Context in, Desired resources out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from function.model import naming
from function.model.naming import KindVersion, Names, Shape
from function.model.spec import Include

if TYPE_CHECKING:
    from collections.abc import Callable

    from function.model.observed import Observed
    from function.model.platform import FunctionInput
    from function.model.spec import EnvironmentSpec, SecurityGroups


@dataclass(frozen=True)
class Context:
    """Everything a builder may read: the validated spec, platform input and observed state.

    ``names``: fresh ones, but those an existing environment keeps (``compose.context``).
    """

    spec: EnvironmentSpec
    platform: FunctionInput
    shape: Shape
    xr_name: str
    xr_namespace: str | None
    observed: Observed
    names: Names

    @property
    def region(self) -> str:
        """The claim's region, else the platform's."""
        return self.spec.region or self.platform.region

    @property
    def api_gateway(self) -> bool:
        """Whether the API Gateway part is composed."""
        return self.spec.includes(Include.API_GATEWAY)

    @property
    def custom_domain(self) -> bool:
        """Whether the custom domain is composed: API Gateway, a domain, and not opted out."""
        return (
            self.api_gateway
            and self.spec.domain is not None
            and self.spec.api_gateway.custom_domain
        )

    @property
    def listener_arn(self) -> str | None:
        """A listener given by the claim or the platform; None means compose one."""
        return self.spec.api_gateway.listener_arn or self.platform.shared.listener_arn

    @property
    def vpc_link_id(self) -> str | None:
        """A VPC link given by the claim or the platform; None means compose one."""
        return self.spec.api_gateway.vpc_link_id or self.platform.shared.vpc_link_id

    @property
    def ingress_mode(self) -> str:
        """Istio (Gateway + VirtualService) or gatewayAPI (HTTPRoute on a shared Gateway)."""
        return self.spec.ingress_mode or self.platform.ingress_mode

    @property
    def gateway_api(self) -> bool:
        """Whether the routes are Gateway API HTTPRoutes rather than an Istio VirtualService."""
        return self.ingress_mode == "gatewayAPI"

    @property
    def ingress_service(self) -> tuple[str, str, int]:
        """Namespace, name and pod port of the Service the NLB's targets come from.

        In gatewayAPI mode it is the Service Istio made for the shared Gateway,
        ``<gateway>-<gatewayClassName>``, not the classic ingress gateway's.
        """
        ingress = self.platform.ingress_gateway
        if self.gateway_api:
            return (
                ingress.gateway_namespace,
                f"{ingress.gateway_name}-{ingress.gateway_class_name}",
                ingress.gateway_target_port or ingress.service_port,
            )
        return ingress.namespace, ingress.service_name, ingress.target_port

    @property
    def vpc_link_groups(self) -> tuple[str, ...] | None:
        """The VPC link's security groups when brought along; None means compose one."""
        return self._groups(lambda groups: groups.vpc_link)

    @property
    def load_balancer_groups(self) -> tuple[str, ...] | None:
        """The NLB's security groups when brought along; None means compose one."""
        return self._groups(lambda groups: groups.load_balancer)

    def _groups(self, side: Callable[[SecurityGroups], list[str] | None]) -> tuple[str, ...] | None:
        vpc = self.spec.vpc
        if vpc.security_groups is not None and (given := side(vpc.security_groups)) is not None:
            return tuple(given)
        if vpc.security_group_ids:
            return tuple(vpc.security_group_ids)
        given = side(self.platform.security_groups)
        return None if given is None else tuple(given)

    @property
    def hosted_zone_id(self) -> str | None:
        """The Route53 zone for the custom domain's records, if any."""
        return self.spec.dns.hosted_zone_id or self.platform.dns.hosted_zone_id

    @property
    def stage_name(self) -> str:
        """The API stage name."""
        return self.spec.api_gateway.stage_name or self.platform.stage_name

    def labels(self, key: str) -> dict[str, str]:
        """Labels for a composed resource, so Usages and people can select it."""
        # Unique per XR: a legacy XR's Usages select across the whole cluster by it.
        return {naming.LABEL_ENVIRONMENT: self.names.slug, naming.LABEL_RESOURCE: key}

    def tags(self) -> dict[str, str]:
        """AWS tags on every AWS resource."""
        return {
            "crossplane-environment": self.spec.name,
            "crossplane-composite": self.xr_name,
            "managed-by": "function-vcluster-environment",
        }

    def metadata(self, key: str, external_name: str | None = None) -> dict[str, Any]:
        """Composed-resource metadata; Crossplane generates the object name."""
        meta: dict[str, Any] = {"labels": self.labels(key)}
        if external_name is not None:
            meta["annotations"] = {naming.EXTERNAL_NAME: external_name}
        if self.shape is Shape.NAMESPACED:
            meta["namespace"] = self.xr_namespace
        return meta

    def provider_config_ref(self, name: str, *, composed: bool = False) -> dict[str, str]:
        """A providerConfigRef in the form the shape's API group expects."""
        if self.shape is Shape.LEGACY:
            return {"name": name}
        kind = "ProviderConfig" if composed else self.platform.provider_configs.kind
        return {"kind": kind, "name": name}

    def aws(
        self,
        kind: KindVersion,
        key: str,
        for_provider: dict[str, Any],
        external_name: str | None = None,
    ) -> dict[str, Any]:
        """A provider-upjet-aws managed resource with region and provider config set."""
        region = {"region": self.region} if kind.regional else {}
        return {
            "apiVersion": kind.api_version(self.shape),
            "kind": kind.kind,
            "metadata": self.metadata(key, external_name),
            "spec": {
                "forProvider": {**for_provider, **region},
                "providerConfigRef": self.provider_config_ref(self.platform.provider_configs.aws),
            },
        }

    def k8s_object(self, key: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """A provider-kubernetes Object that applies a manifest to the host cluster."""
        return {
            "apiVersion": naming.OBJECT.api_version(self.shape),
            "kind": naming.OBJECT.kind,
            "metadata": self.metadata(key),
            "spec": {
                "forProvider": {"manifest": manifest},
                "providerConfigRef": self.provider_config_ref(
                    self.platform.provider_configs.kubernetes
                ),
            },
        }


@dataclass(frozen=True)
class Desired:
    """One composed resource a builder wants.

    ``manifest`` is None while a value it needs (an ARN, an id) is not known yet;
    ``waiting_for`` then says which. What it waits for before it is first created
    is not said here but in ``edges``, under its ``role``: its key, unless many
    keys share one row there (every JWT route is a ``keys.JWT_ROUTE``).
    """

    key: str
    manifest: dict[str, Any] | None
    waiting_for: str = ""
    role: str | None = None


def selector() -> dict[str, bool]:
    """A reference selector that picks the resource composed by the same XR."""
    return {"matchControllerRef": True}
