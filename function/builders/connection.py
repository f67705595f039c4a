"""Connection details: how a consumer learns the environment's endpoint.

A legacy XR publishes them through Crossplane's connection details (set by
``serving.fn``); a Crossplane v2 XR has none, so it gets a composed Secret instead.
"""

from __future__ import annotations

import base64

from function.model import keys
from function.model.context import Context, Desired
from function.model.naming import Shape
from function.model.reported import endpoint


def details(ctx: Context) -> dict[str, str]:
    """The connection details known so far."""
    found = endpoint(ctx)
    return {} if found is None else {"endpoint": found}


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
            "labels": ctx.labels(keys.CONNECTION_SECRET),
        },
        "type": "connection.crossplane.io/v1alpha1",
        "data": data,
    }
    return [Desired(keys.CONNECTION_SECRET, secret)]
