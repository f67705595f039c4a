"""The security groups of the network path, unless the platform or the claim brings its own.

API Gateway's VPC link reaches the NLB from its network interfaces, which carry
the VPC link's group; the NLB's group lets that group in on the listener port
(one ``SecurityGroupIngressRule``). The NLB's group is in turn let into the
ingress pods by the AWS Load Balancer Controller, from the TargetGroupBinding's
``networking.ingress`` (``builders.loadbalancer``).

Which hop gets a composed group, and why that is decided at creation, is
``model.network``'s concern.
"""

from __future__ import annotations

from typing import Any

from function.model import keys, naming, network
from function.model.context import Context, Desired
from function.model.errors import InvalidError


def _group(ctx: Context, key: str, name: str, description: str) -> Desired:
    vpc_id = ctx.spec.vpc.vpc_id
    if vpc_id is None:
        msg = (
            "spec.vpc.vpcId: needed to compose the security groups of the VPC link and the "
            "load balancer (or bring your own in spec.vpc.securityGroups)"
        )
        raise InvalidError(msg)
    spec = {"name": name, "description": description, "vpcId": vpc_id, "tags": ctx.tags()}
    return Desired(key, ctx.aws(naming.SECURITY_GROUP, key, spec))


def _ingress(ctx: Context, source: str | None) -> Desired:
    """The NLB group's rule letting one VPC link group in on the listener port."""
    key = keys.load_balancer_ingress(source)
    group = ctx.observed.reported_or_sent(
        (keys.LOAD_BALANCER_SECURITY_GROUP, "id"), (key, "securityGroupId")
    )
    referenced = source or ctx.observed.reported_or_sent(
        (keys.VPC_LINK_SECURITY_GROUP, "id"), (key, "referencedSecurityGroupId")
    )
    port = ctx.platform.ingress_gateway.service_port
    manifest: dict[str, Any] | None = None
    if group is not None and referenced is not None:
        manifest = ctx.aws(
            naming.SECURITY_GROUP_INGRESS_RULE,
            key,
            {
                "securityGroupId": group,
                "referencedSecurityGroupId": referenced,
                "ipProtocol": "tcp",
                "fromPort": port,
                "toPort": port,
                "description": f"{ctx.spec.name}: API Gateway VPC link to the NLB listener",
                "tags": ctx.tags(),
            },
        )
    return Desired(
        key,
        manifest,
        waiting_for="the ids of both security groups",
        role=keys.LOAD_BALANCER_INGRESS,
    )


def build(ctx: Context) -> list[Desired]:
    """The VPC link's and the NLB's groups, and the rule between them, where composed."""
    names = ctx.names
    desired = []
    if network.composes_vpc_link_group(ctx):
        desired.append(
            _group(
                ctx,
                keys.VPC_LINK_SECURITY_GROUP,
                names.vpc_link_security_group,
                f"{ctx.spec.name}: API Gateway VPC link network interfaces",
            )
        )
    if network.composes_load_balancer_group(ctx):
        desired.append(
            _group(
                ctx,
                keys.LOAD_BALANCER_SECURITY_GROUP,
                names.load_balancer_security_group,
                f"{ctx.spec.name}: internal NLB in front of the ingress gateway",
            )
        )
        desired.extend(_ingress(ctx, source) for source in network.load_balancer_sources(ctx))
    return desired
