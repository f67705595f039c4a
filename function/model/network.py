"""Which security groups each hop of the network path uses: VPC link -> NLB -> ingress pods.

AWS facts this relies on: an NLB created without security groups can never get
one (it can only change the groups it was created with), and a VPC link's groups
cannot change at all. So whether a hop gets a composed group is decided once, at
its creation: a hop that already exists without groups stays without them.

A composed group also needs egress rules: provider-upjet-aws creates groups through
Terraform's ``aws_security_group``, which revokes AWS's default allow-all egress rule
right after creating one (terraform-provider-aws, ``resourceSecurityGroupCreate``). So
the VPC link's group may send to the NLB only on what a rule allows, and the NLB's group
to the pods only on what a rule allows: health checks obey the NLB group's outbound
rules too (NLB user guide, "Update the security groups for your Network Load Balancer").
A rule names the other end by its security group where one is known, else by the
VPC's address ranges (``vpcCidrBlocks`` in the function input).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from function.model import immutable, keys
from function.model.errors import InvalidError
from function.model.observed import text

if TYPE_CHECKING:
    from collections.abc import Callable

    from function.model.context import Context


def _ids(value: Any) -> list[str] | None:  # noqa: ANN401
    """The group ids a hop was sent: a non-empty list of them, else None."""
    if isinstance(value, list) and value and all(text(item) is not None for item in value):
        return list(value)
    return None


@dataclass(frozen=True)
class _Hop:
    """A hop that carries security groups: the VPC link's interfaces or the NLB."""

    key: str
    field: str  # where its groups are in forProvider
    group: str  # the key of its composed group
    composed: Callable[[Context], bool]  # whether the hop itself is composed
    given: Callable[[Context], tuple[str, ...] | None]
    rules: Callable[[Context], list[str]]  # every key a rule of its group may have
    fixed: immutable.Immutable | None  # the rule refusing any change of its groups, if AWS has one

    def _kept(self, ctx: Context) -> bool:
        """Whether its composed group, or a rule of it, is observed: dropping it would delete it."""
        return self.group in ctx.observed or any(key in ctx.observed for key in self.rules(ctx))

    def composes_group(self, ctx: Context) -> bool:
        """A composed hop without given groups, unless it already exists without any."""
        created_without = (
            self.key in ctx.observed
            and not ctx.observed.sent(self.key, self.field)
            and not self._kept(ctx)
        )
        return (
            ctx.api_gateway
            and self.composed(ctx)
            and self.given(ctx) is None
            and not created_without
        )

    def group_ids(self, ctx: Context) -> list[str] | None:
        """Given groups, or the composed one once AWS reports its id (None until then).

        Until then a created hop keeps the groups it was sent, as ``reported_or_sent``
        keeps other copied values. An NLB may swap them for the composed one later. A VPC
        link never can, so it keeps only its composed group's id: one group, sent while
        that group or a rule of it is observed.

        Raises:
            InvalidError: A VPC link was sent other groups: composing one would change them.
        """
        if not self.composes_group(ctx):
            return list(self.given(ctx) or ())
        group = ctx.observed.at_provider(self.group, "id")
        if group is not None:
            return [group]
        sent = _ids(ctx.observed.sent(self.key, self.field))
        if sent is None or self.fixed is None or (len(sent) == 1 and self._kept(ctx)):
            return sent
        raise immutable.refusal(self.fixed, sent, "a security group composed for it")


_VPC_LINK = _Hop(
    keys.VPC_LINK,
    "securityGroupIds",
    keys.VPC_LINK_SECURITY_GROUP,
    lambda ctx: ctx.vpc_link_id is None,
    lambda ctx: ctx.vpc_link_groups,
    lambda ctx: [
        keys.vpc_link_egress(destination)
        for destination in (None, *(ctx.load_balancer_groups or ctx.platform.vpc_cidr_blocks))
    ],
    immutable.VPC_LINK_GROUPS,
)
_LOAD_BALANCER = _Hop(
    keys.LOAD_BALANCER,
    "securityGroups",
    keys.LOAD_BALANCER_SECURITY_GROUP,
    lambda ctx: ctx.listener_arn is None,
    lambda ctx: ctx.load_balancer_groups,
    lambda ctx: [
        *(keys.load_balancer_ingress(source) for source in (None, *(ctx.vpc_link_groups or ()))),
        *(
            keys.load_balancer_egress(port, destination)
            for port in target_ports(ctx)
            for destination in target_destinations(ctx)
        ),
    ],
    None,
)
composes_vpc_link_group = _VPC_LINK.composes_group
composes_load_balancer_group = _LOAD_BALANCER.composes_group
vpc_link_group_ids = _VPC_LINK.group_ids
load_balancer_group_ids = _LOAD_BALANCER.group_ids


def load_balancer_sources(ctx: Context) -> list[str | None]:
    """The VPC link groups the composed NLB group lets in: None stands for the composed one.

    Raises:
        InvalidError: The VPC link is shared and its groups are not named, so
            nothing says whom the NLB's group should let in.
    """
    if composes_vpc_link_group(ctx):
        return [None]
    given = ctx.vpc_link_groups
    if not given:
        msg = (
            "spec.vpc.securityGroups.vpcLink: name the VPC link's security groups, so that "
            "the load balancer's composed group can let them in (or give the load "
            "balancer's own groups in spec.vpc.securityGroups.loadBalancer)"
        )
        raise InvalidError(msg)
    return list(given)


def vpc_link_destinations(ctx: Context) -> list[str | None]:
    """Where the VPC link's composed group may send on the listener port.

    The NLB's groups: None stands for its composed one, else the groups given for it
    (a composed NLB's, or a shared listener's NLB named in ``securityGroups.loadBalancer``).
    An NLB without groups (or one nothing names) is reached by address, in the VPC's
    ranges (``vpcCidrBlocks``).
    """
    if composes_load_balancer_group(ctx):
        return [None]
    return list(ctx.load_balancer_groups or ctx.platform.vpc_cidr_blocks)


def target_destinations(ctx: Context) -> list[str]:
    """Where the NLB's composed group may send: the pods' groups if the platform names them.

    Else the VPC's ranges (``vpcCidrBlocks``), which by default are every range AWS
    accepts for ip targets.
    """
    ingress = ctx.platform.ingress_gateway
    return list(ingress.target_security_group_ids or ctx.platform.vpc_cidr_blocks)


def target_ports(ctx: Context) -> list[int]:
    """The pods' ports the NLB reaches: the target port, and the health check's."""
    _, _, target_port = ctx.ingress_service
    return list(dict.fromkeys((target_port, ctx.platform.ingress_gateway.health_check_port)))
