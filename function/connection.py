"""Connection details: how a consumer learns the environment's endpoint.

A legacy XR publishes them through Crossplane's connection details (set by
``fn``); a Crossplane v2 XR has none, so it gets a composed Secret instead.
"""

from __future__ import annotations

import base64

from function import status
from function.model import Context, Desired
from function.naming import Shape

SECRET = "connection-secret"  # noqa: S105  # a resource name, not a credential


def details(ctx: Context) -> dict[str, str]:
    """The connection details known so far."""
    endpoint = status.endpoint(ctx)
    return {} if endpoint is None else {"endpoint": endpoint}


def build(ctx: Context) -> list[Desired]:
    """The v2 XR's connection Secret, in the XR's namespace, named after the XR."""
    if ctx.shape is not Shape.NAMESPACED or not ctx.api_gateway:
        return []
    data = {k: base64.b64encode(v.encode()).decode() for k, v in details(ctx).items()}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"{ctx.xr_name}-connection",
            "namespace": ctx.xr_namespace,
            "labels": ctx.labels(SECRET),
        },
        "type": "connection.crossplane.io/v1alpha1",
        "data": data,
    }
    return [Desired(SECRET, secret)]
