"""The security groups of the network path, unless the platform or the claim brings its own.

API Gateway's VPC link reaches the NLB from its network interfaces, which carry
the VPC link's group; the NLB's group lets that group in on the listener port
(one ``SecurityGroupIngressRule``). The NLB's group is in turn let into the
ingress pods by the AWS Load Balancer Controller, from the TargetGroupBinding's
``networking.ingress`` (``builders.loadbalancer``).

Each composed group also gets the egress it needs (``SecurityGroupEgressRule``s), as
provider-upjet-aws creates groups without AWS's default allow-all egress rule: the
VPC link's group to the NLB's on the listener port, the NLB's group to the pods on
the target port and on the health-check port. A brought group's rules are the
platform's.

Which hop gets a composed group, why that is decided at creation, and where each
rule points are ``model.network``'s concern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.model import keys, naming, network
from function.model.context import Context, Desired
from function.model.errors import InvalidError

if TYPE_CHECKING:
    from function.model.naming import KindVersion


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


def _peer(other: str) -> dict[str, str]:
    """How a rule names its other end: a group by id, or an IPv4 or IPv6 CIDR block."""
    if "/" not in other:
        return {"referencedSecurityGroupId": other}
    return {"cidrIpv6" if ":" in other else "cidrIpv4": other}


def _rule(  # noqa: PLR0913
    ctx: Context,
    kind: KindVersion,
    key: str,
    *,
    group: str | None,
    other: str | None,
    port: int,
    description: str,
) -> dict[str, Any] | None:
    """One TCP rule of ``group`` on ``port`` with ``other``; None until both are known."""
    if group is None or other is None:
        return None
    return ctx.aws(
        kind,
        key,
        {
            "securityGroupId": group,
            **_peer(other),
            "ipProtocol": "tcp",
            "fromPort": port,
            "toPort": port,
            "description": f"{ctx.spec.name}: {description}",
            "tags": ctx.tags(),
        },
    )


def _listener_rule(ctx: Context, key: str, *, egress: bool, given: str | None) -> Desired:
    """The rule between the VPC link's and the NLB's groups, on the listener port.

    The VPC link's group needs it outbound and the NLB's inbound; ``given`` is the
    other hop's group when the claim or platform brings it.
    """
    own, peer = (keys.VPC_LINK_SECURITY_GROUP, keys.LOAD_BALANCER_SECURITY_GROUP)
    if not egress:
        own, peer = peer, own
    group = ctx.observed.reported_or_sent((own, "id"), (key, "securityGroupId"))
    other = given or ctx.observed.reported_or_sent((peer, "id"), (key, "referencedSecurityGroupId"))
    manifest = _rule(
        ctx,
        naming.SECURITY_GROUP_EGRESS_RULE if egress else naming.SECURITY_GROUP_INGRESS_RULE,
        key,
        group=group,
        other=other,
        port=ctx.platform.ingress_gateway.service_port,
        description="API Gateway VPC link to the NLB listener",
    )
    return Desired(
        key,
        manifest,
        waiting_for="the ids of both security groups" if given is None else "its group's id",
        role=keys.VPC_LINK_EGRESS if egress else keys.LOAD_BALANCER_INGRESS,
    )


def _load_balancer_egress(ctx: Context, port: int, destination: str) -> Desired:
    """The NLB group's rule letting it reach the ingress gateway pods on one port."""
    key = keys.load_balancer_egress(port, destination)
    group = ctx.observed.reported_or_sent(
        (keys.LOAD_BALANCER_SECURITY_GROUP, "id"), (key, "securityGroupId")
    )
    _, _, target_port = ctx.ingress_service
    health_check_port = ctx.platform.ingress_gateway.health_check_port
    what = " and ".join(
        name
        for name, used in (("traffic", target_port), ("health check", health_check_port))
        if used == port
    )
    manifest = _rule(
        ctx,
        naming.SECURITY_GROUP_EGRESS_RULE,
        key,
        group=group,
        other=destination,
        port=port,
        description=f"NLB to the ingress gateway pods ({what})",
    )
    return Desired(key, manifest, waiting_for="its group's id", role=keys.LOAD_BALANCER_EGRESS)


def build(ctx: Context) -> list[Desired]:
    """The VPC link's and the NLB's groups, and the rules each needs, where composed."""
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
        desired.extend(
            _listener_rule(ctx, keys.vpc_link_egress(destination), egress=True, given=destination)
            for destination in network.vpc_link_destinations(ctx)
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
        desired.extend(
            _listener_rule(ctx, keys.load_balancer_ingress(source), egress=False, given=source)
            for source in network.load_balancer_sources(ctx)
        )
        desired.extend(
            _load_balancer_egress(ctx, port, destination)
            for port in network.target_ports(ctx)
            for destination in network.target_destinations(ctx)
        )
    return desired
