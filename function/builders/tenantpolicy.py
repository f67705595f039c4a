"""An Istio AuthorizationPolicy that lets only the load balancer send the tenant header.

Routes match ``x-vcluster-environment`` to tell tenants apart on a shared ingress,
and only this environment's API Gateway integration sets it. The value is no
secret, though: any pod in the cluster, any host in the VPC, or the internet if
the gateway also has a public Service, could send it and skip the API's
authorizer, throttling and logs. This policy denies requests carrying this
environment's value from anywhere but the platform's ``trustedSourceRanges``
(the subnets of the load balancer the VPC link reaches), on the ingress gateway's
pods in both ingress modes.
"""

from __future__ import annotations

from function.model import keys, naming
from function.model.context import Context, Desired

POLICY_API_VERSION = "security.istio.io/v1"
# The label Istio puts on the pods of a Gateway API Gateway it deploys.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


def build(ctx: Context) -> list[Desired]:
    """The policy, or none while the platform gives no trusted source ranges."""
    ingress = ctx.platform.ingress_gateway
    if not ingress.trusted_source_ranges:
        return []
    if ctx.gateway_api:
        namespace, selector = ingress.gateway_namespace, {GATEWAY_NAME_LABEL: ingress.gateway_name}
    else:
        namespace, selector = ingress.namespace, dict(ingress.selector)
    policy = {
        "apiVersion": POLICY_API_VERSION,
        "kind": "AuthorizationPolicy",
        "metadata": {
            "name": ctx.names.tenant_policy,
            "namespace": namespace,
            "labels": ctx.labels(keys.TENANT_POLICY),
        },
        "spec": {
            "selector": {"matchLabels": selector},
            "action": "DENY",
            "rules": [
                {
                    "from": [{"source": {"notIpBlocks": list(ingress.trusted_source_ranges)}}],
                    "when": [
                        {
                            "key": f"request.headers[{naming.TENANT_HEADER}]",
                            "values": [ctx.names.tenant],
                        }
                    ],
                }
            ],
        },
    }
    return [Desired(keys.TENANT_POLICY, ctx.k8s_object(keys.TENANT_POLICY, policy))]
