"""Which security groups each hop uses, read from the claim, the platform and observed state.

The AWS facts behind it (``model.network``): an NLB created without groups never gets one,
and a VPC link's groups never change, so a hop's composed group is decided at its creation
and, once there, kept while anything flaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from conftest import platform_input
from contexts import claim, context, reported

from function.model import keys, network
from function.model.errors import InvalidError

if TYPE_CHECKING:
    from collections.abc import Callable

    from function.model.context import Context

# One rule of each hop's composed group (to the other hop's composed group).
RULE_OF = {
    keys.VPC_LINK: keys.vpc_link_egress(None),
    keys.LOAD_BALANCER: keys.load_balancer_ingress(None),
}
VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
SG = "sg-0aaaaaaaaaaaaaaa1"
OTHER = "sg-0bbbbbbbbbbbbbbb2"
OWN = "sg-0ccccccccccccccc3"
LISTENER_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/a/"
    "0123456789abcdef/0123456789abcdef"
)


def _claim(vpc: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return claim(vpc={"vpcId": VPC, "subnetIds": SUBNETS, **(vpc or {})}, **spec)


def _sent(field: str, value: object) -> dict[str, Any]:
    """A hop as observed: created, sent ``field``, reporting nothing yet."""
    return {"spec": {"forProvider": {field: value}}, **reported(ready=False)}


@dataclass(frozen=True)
class Hop:
    """One hop that carries security groups, and how the claim and AWS name its parts."""

    group_ids: Callable[[Context], list[str] | None]
    composes_group: Callable[[Context], bool]
    key: str  # the hop's composed resource
    field: str  # where its groups are sent in forProvider
    group: str  # its composed group's key
    side: str  # its side in spec.vpc.securityGroups
    shared: dict[str, Any]  # the claim's spec that shares the hop instead of composing it


HOPS = [
    pytest.param(Hop(network.vpc_link_group_ids, network.composes_vpc_link_group, keys.VPC_LINK,
                     "securityGroupIds", keys.VPC_LINK_SECURITY_GROUP, "vpcLink",
                     {"apiGateway": {"vpcLinkId": "a1b2c3"}}), id="vpc-link"),
    pytest.param(Hop(network.load_balancer_group_ids, network.composes_load_balancer_group,
                     keys.LOAD_BALANCER, "securityGroups", keys.LOAD_BALANCER_SECURITY_GROUP,
                     "loadBalancer", {"apiGateway": {"listenerArn": LISTENER_ARN}}), id="nlb"),
]  # fmt: skip


REFUSED = "refused"  # the VPC link's groups would change: the immutable-change Fatal
VPC_LINK_REFUSAL = (
    "spec.vpc.securityGroups.vpcLink: would change vpc-link securityGroupIds from {sent!r} to "
    "a security group composed for it, but a VPC link's security groups cannot change; AWS "
    "would have to replace the VPC link; keep the old value, or delete and recreate the "
    "environment"
)


@pytest.mark.parametrize("hop", HOPS)
@pytest.mark.parametrize(
    ("reason", "observed", "sent", "expected"),
    [
        pytest.param("the composed group's id as AWS reports it", "reported", None,
                     ([SG], [SG]), id="reported"),
        pytest.param("the composed group flaps: the hop keeps the one group it was sent",
                     "group", [SG], ([SG], [SG]), id="sent"),
        pytest.param("the group is gone but a rule of it is not: the one group sent was it",
                     "rule", [SG], ([SG], [SG]), id="sent-rule-kept"),
        pytest.param("reported wins over what was sent", "reported", [OTHER], ([SG], [SG]),
                     id="reported-wins"),
        pytest.param("two groups sent are not the one composed group: a VPC link cannot swap "
                     "them, an NLB keeps them until it can", "group", [SG, OTHER],
                     (REFUSED, [SG, OTHER]), id="sent-two"),
        pytest.param("neither the group nor a rule of it observed: the group sent was given, "
                     "not composed (a claim that stops naming the VPC link's groups)", "none",
                     [SG], (REFUSED, [SG]), id="sent-given"),
        pytest.param("sent a bare string is not the list this function sends", "group", SG,
                     (None, None), id="sent-string"),
        pytest.param("sent an empty id names no group", "group", [SG, ""], (None, None),
                     id="sent-blank"),
        pytest.param("sent an empty list names no group", "group", [], (None, None),
                     id="sent-empty"),
        pytest.param("nothing known yet: wait", "group", None, (None, None), id="nothing"),
    ],
)  # fmt: skip
def test_composed_group_ids(
    hop: Hop, reason: str, observed: str, sent: object, expected: tuple[object, object]
) -> None:
    """A hop with a composed group uses its id once known, else what it was sent, else None.

    ``observed`` says what else is there: the group reporting SG, the group reporting
    nothing, only a rule of the group, or neither; ``expected`` is the VPC link's, then the NLB's.
    """
    state = {
        "reported": {hop.group: reported(id=SG)},
        "group": {hop.group: reported(ready=False)},
        "rule": {RULE_OF[hop.key]: reported(ready=False)},
        "none": {},
    }[observed]
    if sent is not None:
        state[hop.key] = _sent(hop.field, sent)
    ctx = context(_claim(), observed=state)
    wanted = expected[0] if hop.key == keys.VPC_LINK else expected[1]
    if wanted != REFUSED:
        assert hop.group_ids(ctx) == wanted, reason
        return
    with pytest.raises(InvalidError) as refused:
        hop.group_ids(ctx)
    assert str(refused.value) == VPC_LINK_REFUSAL.format(sent=sent), reason


@pytest.mark.parametrize("hop", HOPS)
@pytest.mark.parametrize(
    ("reason", "given", "expected"),
    [
        pytest.param("brought groups are used as given, in order", [OWN, SG], [OWN, SG],
                     id="given"),
        pytest.param("an empty list brings no group: the hop has none", [], [], id="empty"),
    ],
)  # fmt: skip
def test_brought_group_ids(hop: Hop, reason: str, given: list[str], expected: list[str]) -> None:
    """Brought groups are the hop's, whatever a composed group would report."""
    observed = {hop.group: reported(id=OTHER)}
    ctx = context(_claim({"securityGroups": {hop.side: given}}), observed=observed)
    assert hop.group_ids(ctx) == expected, reason


@pytest.mark.parametrize("hop", HOPS)
@pytest.mark.parametrize(
    ("reason", "case", "expected"),
    [
        pytest.param("a new hop gets a composed group", "new", True, id="new"),
        pytest.param("a hop created with its groups keeps its composed group", "created-with",
                     True, id="created-with"),
        pytest.param("a hop created without groups can never get one (AWS)", "created-without",
                     False, id="created-without"),
        pytest.param("an observed group is kept even when its hop reports none: dropping it "
                     "would delete it", "group-observed", True, id="group-observed"),
        pytest.param("an observed rule of its group keeps the group composed even when neither "
                     "the group nor the hop's sent groups are observed: dropping the rule would "
                     "delete it", "rule-observed", True, id="rule-observed"),
        pytest.param("a shared hop (vpcLinkId, listenerArn) is not composed, so neither is its "
                     "group", "shared", False, id="shared"),
        pytest.param("groups brought for the hop: none composed", "brought", False, id="brought"),
        pytest.param("without API Gateway there is no network path", "no-api-gateway", False,
                     id="no-api-gateway"),
    ],
)  # fmt: skip
def test_composes_group(hop: Hop, reason: str, case: str, expected: bool) -> None:
    """Whether a hop gets a composed group is decided at its creation and then kept."""
    xr, observed = {
        "new": (_claim(), {}),
        "created-with": (_claim(), {hop.key: _sent(hop.field, [SG])}),
        "created-without": (_claim(), {hop.key: _sent("name", "e")}),
        "group-observed": (_claim(), {hop.key: _sent("name", "e"),
                                      hop.group: reported(ready=False)}),
        "rule-observed": (_claim(), {hop.key: _sent("name", "e"),
                                     RULE_OF[hop.key]: reported(ready=False)}),
        # A shared VPC link needs its groups named, so the NLB's group knows whom to let in.
        "shared": (_claim({"securityGroups": {"vpcLink": [OWN]}}, **hop.shared), {}),
        "brought": (_claim({"securityGroups": {hop.side: [OWN]}}), {}),
        "no-api-gateway": (_claim(include=["grafana"]), {}),
    }[case]  # fmt: skip
    assert hop.composes_group(context(xr, observed=observed)) is expected, reason


@pytest.mark.parametrize(
    ("reason", "vpc", "spec", "function_input", "expected"),
    [
        pytest.param("the NLB's group is composed: None stands for it", {}, {}, None, [None],
                     id="composed"),
        pytest.param("the NLB's groups brought: each of them", {"securityGroups": {
            "loadBalancer": [OWN, SG]}}, {}, None, [OWN, SG], id="brought"),
        pytest.param("a shared listener whose NLB nothing names: reached by address",
                     {}, {"apiGateway": {"listenerArn": LISTENER_ARN}},
                     {"vpcCidrBlocks": ["10.20.0.0/16"]}, ["10.20.0.0/16"], id="by-address"),
    ],
)  # fmt: skip
def test_vpc_link_destinations(
    reason: str,
    vpc: dict[str, Any],
    spec: dict[str, Any],
    function_input: dict[str, Any] | None,
    expected: list[str | None],
) -> None:
    """Where the VPC link's composed group may send: the NLB's groups, else the VPC's ranges."""
    ctx = context(_claim(vpc, **spec), _input(function_input))
    assert network.vpc_link_destinations(ctx) == expected, reason


@pytest.mark.parametrize(
    ("reason", "vpc", "spec", "expected"),
    [
        pytest.param("the VPC link's group is composed: None stands for it", {}, {}, [None],
                     id="composed"),
        pytest.param("the VPC link's groups brought: each of them",
                     {"securityGroups": {"vpcLink": [OWN, SG]}}, {}, [OWN, SG], id="brought"),
        pytest.param("a shared VPC link with named groups: each of them",
                     {"securityGroups": {"vpcLink": [OWN]}},
                     {"apiGateway": {"vpcLinkId": "a1b2c3"}}, [OWN], id="shared"),
    ],
)  # fmt: skip
def test_load_balancer_sources(
    reason: str, vpc: dict[str, Any], spec: dict[str, Any], expected: list[str | None]
) -> None:
    """Whom the NLB's composed group lets in: the VPC link's groups."""
    ctx = context(_claim(vpc, **spec))
    assert network.load_balancer_sources(ctx) == expected, reason


@pytest.mark.parametrize(
    ("reason", "function_input", "ports", "destinations"),
    [
        pytest.param("defaults: the classic gateway's pod port, then the health check, in every "
                     "private range AWS accepts for ip targets", None, [8080, 15021],
                     ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
                     id="defaults"),
        pytest.param("the health check on the pod port: that port once",
                     {"ingressGateway": {"targetPort": 15021}}, [15021],
                     ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
                     id="one-port"),
        pytest.param("the platform names the pods' groups: only those, not the ranges",
                     {"ingressGateway": {"targetSecurityGroupIds": [OWN]},
                      "vpcCidrBlocks": ["10.20.0.0/16"]}, [8080, 15021], [OWN], id="pod-groups"),
        pytest.param("the platform's own ranges", {"vpcCidrBlocks": ["10.20.0.0/16"]},
                     [8080, 15021], ["10.20.0.0/16"], id="ranges"),
    ],
)  # fmt: skip
def test_targets(
    reason: str,
    function_input: dict[str, Any] | None,
    ports: list[int],
    destinations: list[str],
) -> None:
    """Which ports of which destinations the NLB's composed group may reach."""
    ctx = context(_claim(), _input(function_input))
    assert network.target_ports(ctx) == ports, reason
    assert network.target_destinations(ctx) == destinations, reason


def _input(changes: dict[str, Any] | None) -> dict[str, Any] | None:
    """The platform's function input with ``changes`` merged into it (None: as it is)."""
    if changes is None:
        return None
    merged = platform_input()
    for field, value in changes.items():
        merged[field] = {**merged.get(field, {}), **value} if isinstance(value, dict) else value
    return merged
