"""The security group builder alone, and the hops that carry its groups (NLB, VPC link, binding).

Source of the facts (FIELD-NOTES, "What a real account and a real cluster add"): the
VPC link's interfaces need a group that may reach the NLB on the listener port, the
NLB's group must let that group in, the pods must let the NLB in on the target port
and on the health-check port 15021, and an NLB created without groups never gets one.
"""

from __future__ import annotations

from typing import Any

import pytest
from contexts import by_key, claim, context, embedded, for_provider, reported

from function.builders import apigateway, loadbalancer, security
from function.model import keys
from function.model.errors import InvalidError

VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
LINK_SG = "sg-0aaaaaaaaaaaaaaa1"
NLB_SG = "sg-0bbbbbbbbbbbbbbb2"
OWN = "sg-0ccccccccccccccc3"
TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/e-tg/0123"
LISTENER_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/a/"
    "0123456789abcdef/0123456789abcdef"
)
GROUPS_REPORTED = {
    keys.VPC_LINK_SECURITY_GROUP: reported(id=LINK_SG),
    keys.LOAD_BALANCER_SECURITY_GROUP: reported(id=NLB_SG),
}


def _claim(vpc: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return claim(vpc={"vpcId": VPC, "subnetIds": SUBNETS, **(vpc or {})}, **spec)


def test_groups_and_rule_composed() -> None:
    """Without groups given, both are composed in the VPC and the NLB's lets the VPC link's in.

    Before, no group was composed: the VPC link could not reach the NLB (FIELD-NOTES).
    """
    built = by_key(security.build(context(_claim(), observed=GROUPS_REPORTED)))
    for key in (keys.VPC_LINK_SECURITY_GROUP, keys.LOAD_BALANCER_SECURITY_GROUP):
        assert for_provider(built.values(), key)["vpcId"] == VPC
    rule = for_provider(built.values(), keys.LOAD_BALANCER_INGRESS)
    assert (rule["securityGroupId"], rule["referencedSecurityGroupId"]) == (NLB_SG, LINK_SG)
    assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 80, 80)


def test_rule_waits_for_both_ids() -> None:
    """The rule names both groups by id, so it waits until AWS reports them."""
    observed = {keys.LOAD_BALANCER_SECURITY_GROUP: reported(id=NLB_SG)}
    rule = by_key(security.build(context(_claim(), observed=observed)))[keys.LOAD_BALANCER_INGRESS]
    assert rule.manifest is None
    assert rule.waiting_for == "the ids of both security groups"


@pytest.mark.parametrize(
    ("reason", "vpc", "spec", "function_input", "observed", "expected"),
    [
        pytest.param("securityGroupIds keeps its old meaning: both hops brought, none composed",
                     {"securityGroupIds": [OWN]}, {}, None, {}, [], id="security-group-ids"),
        pytest.param("only the NLB's groups given: the VPC link's group is composed, no rule",
                     {"securityGroups": {"loadBalancer": [OWN]}}, {}, None, {},
                     [keys.VPC_LINK_SECURITY_GROUP], id="byo-nlb"),
        pytest.param("only the VPC link's groups given: the NLB's group lets each of them in",
                     {"securityGroups": {"vpcLink": [OWN]}}, {}, None, {},
                     [keys.LOAD_BALANCER_SECURITY_GROUP, keys.load_balancer_ingress(OWN)],
                     id="byo-vpc-link"),
        pytest.param("the platform brings both in the function input",
                     {}, {}, {"securityGroups": {"vpcLink": [OWN], "loadBalancer": [OWN]}}, {},
                     [], id="platform"),
        pytest.param("a claim's own side wins over the platform's",
                     {"securityGroups": {"loadBalancer": [OWN]}}, {},
                     {"securityGroups": {"loadBalancer": []}}, {},
                     [keys.VPC_LINK_SECURITY_GROUP], id="claim-wins"),
        pytest.param("a shared VPC link composes no group; the NLB's lets its named groups in",
                     {"securityGroups": {"vpcLink": [OWN]}},
                     {"apiGateway": {"vpcLinkId": "a1b2c3"}}, None, {},
                     [keys.LOAD_BALANCER_SECURITY_GROUP, keys.load_balancer_ingress(OWN)],
                     id="shared-vpc-link"),
        pytest.param("a shared listener: no NLB, so no NLB group",
                     {}, {"apiGateway": {"listenerArn": LISTENER_ARN}}, None, {},
                     [keys.VPC_LINK_SECURITY_GROUP], id="shared-listener"),
        pytest.param("an NLB that exists without groups can never get one (AWS): none composed",
                     {}, {}, None,
                     {keys.LOAD_BALANCER: {"spec": {"forProvider": {"name": "e-nlb"}}}},
                     [keys.VPC_LINK_SECURITY_GROUP], id="nlb-created-without"),
        pytest.param("an observed group is kept even when its hop reports no groups (flapping)",
                     {}, {}, None,
                     {keys.LOAD_BALANCER: {}, keys.LOAD_BALANCER_SECURITY_GROUP: {}},
                     [keys.VPC_LINK_SECURITY_GROUP, keys.LOAD_BALANCER_SECURITY_GROUP,
                      keys.LOAD_BALANCER_INGRESS], id="observed-group-kept"),
        pytest.param("no API Gateway, no network path",
                     {}, {"include": ["grafana"]}, None, {}, [], id="no-api-gateway"),
    ],
)  # fmt: skip
def test_which_groups_are_composed(  # noqa: PLR0917
    reason: str,
    vpc: dict[str, Any],
    spec: dict[str, Any],
    function_input: dict[str, Any] | None,
    observed: dict[str, Any],
    expected: list[str],
) -> None:
    """A hop gets a composed group unless its groups are given or it exists without any."""
    ctx = context(_claim(vpc, **spec), function_input, observed)
    assert [item.key for item in security.build(ctx)] == expected, reason


@pytest.mark.parametrize(
    ("reason", "vpc", "spec", "message"),
    [
        pytest.param("a security group needs its VPC", {"vpcId": None}, {},
                     "spec.vpc.vpcId: needed to compose the security groups of the VPC link and "
                     "the load balancer (or bring your own in spec.vpc.securityGroups)",
                     id="no-vpc-id"),
        pytest.param("nothing says whom the NLB's group should let in",
                     {}, {"apiGateway": {"vpcLinkId": "a1b2c3"}},
                     "spec.vpc.securityGroups.vpcLink: name the VPC link's security groups, so "
                     "that the load balancer's composed group can let them in (or give the load "
                     "balancer's own groups in spec.vpc.securityGroups.loadBalancer)",
                     id="shared-vpc-link-unnamed"),
    ],
)  # fmt: skip
def test_refused(reason: str, vpc: dict[str, Any], spec: dict[str, Any], message: str) -> None:
    """A combination that cannot make a working network path is a Fatal naming the field."""
    raw = _claim(vpc, **spec)
    raw["spec"]["vpc"] = {k: v for k, v in raw["spec"]["vpc"].items() if v is not None}
    with pytest.raises(InvalidError) as caught:
        security.build(context(raw))
    assert str(caught.value) == message, reason


def test_nlb_gets_its_group_at_creation() -> None:
    """The NLB waits for its group's id and is created with it: it can never get one later."""
    waiting = by_key(loadbalancer.build(context(_claim())))[keys.LOAD_BALANCER]
    assert (waiting.manifest, waiting.waiting_for) == (None, "the id of its security group")
    built = loadbalancer.build(context(_claim(), observed=GROUPS_REPORTED))
    assert for_provider(built, keys.LOAD_BALANCER)["securityGroups"] == [NLB_SG]


def test_vpc_link_gets_its_group_at_creation() -> None:
    """The VPC link waits for its group's id: its groups cannot change after creation."""
    waiting = by_key(apigateway.build(context(_claim())))[keys.VPC_LINK]
    assert (waiting.manifest, waiting.waiting_for) == (None, "the id of its security group")
    built = apigateway.build(context(_claim(), observed=GROUPS_REPORTED))
    assert for_provider(built, keys.VPC_LINK)["securityGroupIds"] == [LINK_SG]


@pytest.mark.parametrize(
    ("reason", "spec", "function_input", "service", "ports"),
    [
        pytest.param("istio mode: the classic gateway's pods listen on 8080 behind port 80",
                     {}, None, ("istio-ingress", "istio-ingressgateway"), [8080, 15021],
                     id="istio"),
        pytest.param("gatewayAPI mode: Istio names the Gateway's Service <gateway>-<class> "
                     "(FIELD-NOTES); its pods listen on the listener port",
                     {"ingressMode": "gatewayAPI"}, None,
                     ("istio-ingress", "shared-ingress-istio"), [80, 15021], id="gateway-api"),
        pytest.param("gatewayAPI mode with the platform's own Gateway, class and namespace",
                     {"ingressMode": "gatewayAPI"},
                     {"ingressGateway": {"gatewayName": "edge", "gatewayNamespace": "gw",
                                         "gatewayClassName": "istio-waypoint",
                                         "gatewayTargetPort": 8443}},
                     ("gw", "edge-istio-waypoint"), [8443, 15021], id="gateway-api-custom"),
    ],
)  # fmt: skip
def test_binding_lets_the_nlb_into_the_pods(
    reason: str,
    spec: dict[str, Any],
    function_input: dict[str, Any] | None,
    service: tuple[str, str],
    ports: list[int],
) -> None:
    """The binding binds the ingress mode's Service and opens its pods to the NLB's group.

    Traffic arrives on the pods' port and the health check on 15021 (FIELD-NOTES); before,
    gatewayAPI mode bound the classic istio-ingressgateway and nothing opened the pods.
    """
    observed = {**GROUPS_REPORTED, keys.TARGET_GROUP: reported(arn=TARGET_GROUP_ARN)}
    built = loadbalancer.build(context(_claim(**spec), function_input, observed))
    binding = embedded(built, keys.TARGET_GROUP_BINDING)
    assert (binding["metadata"]["namespace"], binding["spec"]["serviceRef"]["name"]) == service
    assert binding["spec"]["networking"]["ingress"] == [
        {
            "from": [{"securityGroup": {"groupID": NLB_SG}}],
            "ports": [{"port": port, "protocol": "TCP"} for port in ports],
        }
    ], reason
