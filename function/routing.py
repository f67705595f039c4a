"""Ingress routing on the host cluster: shared ingress gateway -> vCluster services.

Every environment may share one listener and one ingress gateway, so routes
match the tenant header that only this environment's API Gateway integration
sets (``overwrite:header.x-vcluster-environment``): a request that entered
through another environment's API never matches these routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function import naming
from function.model import Context, Desired
from function.vcluster import NAMESPACE

if TYPE_CHECKING:
    from function.spec import App

GATEWAY = "ingress-gateway"
ROUTES = "ingress-routes"


def _by_specificity(apps: list[App]) -> list[App]:
    """Longest prefix first, so '/api/v2' wins over '/api' and '/' comes last."""
    return sorted(apps, key=lambda a: (-len(a.path_prefix), a.path_prefix))


def _http_route(ctx: Context, app: App) -> dict[str, Any]:
    return {
        "name": app.name,
        "match": [
            {
                "uri": {"prefix": app.path_prefix},
                "headers": {naming.TENANT_HEADER: {"exact": ctx.spec.name}},
            }
        ],
        "route": [
            {
                "destination": {
                    "host": ctx.names.host_service_fqdn(app.service, app.namespace),
                    "port": {"number": app.port},
                }
            }
        ],
    }


def build(ctx: Context) -> list[Desired]:
    """An Istio Gateway on the shared ingress gateway and one VirtualService for the apps."""
    names = ctx.names
    ingress = ctx.platform.ingress_gateway
    gateway = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {
            "name": names.gateway,
            "namespace": names.host_namespace,
            "labels": ctx.labels(GATEWAY),
        },
        "spec": {
            "selector": dict(ingress.selector),
            "servers": [
                {
                    "port": {"number": ingress.service_port, "name": "http", "protocol": "HTTP"},
                    "hosts": ["*"],
                }
            ],
        },
    }
    desired = [Desired(GATEWAY, ctx.k8s_object(GATEWAY, gateway), after=(NAMESPACE,))]
    if not ctx.spec.apps:
        return desired
    virtual_service = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {
            "name": names.virtual_service,
            "namespace": names.host_namespace,
            "labels": ctx.labels(ROUTES),
        },
        "spec": {
            "hosts": ["*"],
            "gateways": [f"{names.host_namespace}/{names.gateway}"],
            "http": [_http_route(ctx, app) for app in _by_specificity(list(ctx.spec.apps))],
        },
    }
    desired.append(Desired(ROUTES, ctx.k8s_object(ROUTES, virtual_service), after=(NAMESPACE,)))
    return desired
