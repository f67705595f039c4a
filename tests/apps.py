"""Apps for the ingress tests, and what the ingress builders make of them.

Routes wait only for the host namespace, so the builders' output is all these
tests need: no simulation, no observed state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conftest import platform_input
from contexts import SEED_SUFFIX, claim, context

from function.builders import destinationrules, gatewayapi, istio
from function.model import keys, naming

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from function.model.context import Context, Desired

ISTIO, GATEWAY_API = "istio", "gatewayAPI"
MODES = (ISTIO, GATEWAY_API)
SHAPES = ("legacy", "namespaced")
ENV = "prod-env"
# The unique name of the environment (legacy shape), in its host namespace and tenant header.
SLUG = f"{ENV}-{SEED_SUFFIX['legacy']}"
LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shared/"
    "0123456789abcdef/0123456789abcdef"
)
SHARED = {"listenerArn": LISTENER, "vpcLinkId": "abc123"}
MISSING = object()  # a field the route must not carry
API = {"name": "api", "pathPrefix": "/api", "service": "api", "namespace": "backend", "port": 8080}
TENANT = {naming.TENANT_HEADER: {"exact": SLUG}}
SPLIT = [
    {"service": "api", "weight": 90},
    {"service": "api-next", "namespace": "next", "port": 9090, "weight": 10},
]
# The ingress builders, in the order the pipeline runs them.
INGRESS = (istio.build, gatewayapi.build, destinationrules.build)


def xr(
    apps: list[dict[str, Any]], *, env: str = ENV, shape: str = "legacy", **spec: Any
) -> dict[str, Any]:
    """The seed claim as an XR of ``shape``, named ``env``, with these apps."""
    return claim(shape=shape, name=env, apps=apps, **spec)


def ingress_input(mode: str | None = None, **ingress: Any) -> dict[str, Any]:
    """The platform input, with an ingress mode and ingress gateway settings."""
    function_input = platform_input()
    if mode is not None:
        function_input["ingressMode"] = mode
    function_input["ingressGateway"] = {**function_input["ingressGateway"], **ingress}
    return function_input


def ingress(ctx: Context) -> list[Desired]:
    """Every ingress builder's resources, in the pipeline's order."""
    return [item for build in INGRESS for item in build(ctx)]


def composed(
    apps: list[dict[str, Any]],
    mode: str | None = None,
    *,
    build: Callable[[Context], list[Desired]] = ingress,
    shape: str = "legacy",
    **spec: Any,
) -> dict[str, dict[str, Any]]:
    """The Objects ``build`` (every ingress builder) makes of ``apps``, by key."""
    ctx = context(xr(apps, shape=shape, **spec), ingress_input(mode))
    return objects(build(ctx))


def objects(desired: Iterable[Desired]) -> dict[str, dict[str, Any]]:
    """The manifests of ``desired``, by key."""
    return {item.key: item.manifest for item in desired if item.manifest is not None}


def manifest(resources: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    """The manifest the Object ``key`` applies to the host cluster."""
    found: dict[str, Any] = resources[key]["spec"]["forProvider"]["manifest"]
    return found


def istio_routes(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The VirtualService's HTTP routes by name."""
    return {r["name"]: r for r in manifest(resources, keys.INGRESS_ROUTES)["spec"]["http"]}


def gateway_rules(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every HTTPRoute's rules by name."""
    return {
        rule["name"]: rule
        for key in resources
        if key.startswith(keys.HTTPROUTE)
        for rule in manifest(resources, key)["spec"]["rules"]
    }


def dig(value: Any, *path: str) -> Any:
    """The value at ``path``, or MISSING."""
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def fqdn(service: str, namespace: str = "backend") -> str:
    """The host cluster's name for a Service the vCluster synced."""
    return f"{service}-x-{namespace}-x-{ENV}.vcluster-{SLUG}.svc.cluster.local"
