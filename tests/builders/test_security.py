"""The security group builder alone, and the hops that carry its groups (NLB, VPC link, binding).

Source of the facts (FIELD-NOTES, "What a real account and a real cluster add"): the
VPC link's interfaces need a group that may reach the NLB on the listener port, the
NLB's group must let that group in, the pods must let the NLB in on the target port
and on the health-check port 15021, and an NLB created without groups never gets one.
"""

from __future__ import annotations

from typing import Any

import crdcheck
import pytest
from conftest import platform_input
from contexts import as_observed, by_key, claim, context, embedded, for_provider, reported

from function.builders import apigateway, loadbalancer, security
from function.model import keys
from function.model.errors import InvalidError
from function.offline.fakeprovider import FakeProvider

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
# The VPC's ranges by default (function input vpcCidrBlocks): every private range AWS
# accepts for ip targets.
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]
# The NLB's rules to the pods: the classic gateway's pod port 8080, and the health check.
NLB_EGRESS = [keys.load_balancer_egress(port, cidr) for port in (8080, 15021)
              for cidr in PRIVATE_RANGES]  # fmt: skip
VPC_LINK_EGRESS_BY_ADDRESS = [keys.vpc_link_egress(cidr) for cidr in PRIVATE_RANGES]
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
    assert built[keys.LOAD_BALANCER_INGRESS].manifest["kind"] == "SecurityGroupIngressRule"


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
        pytest.param("only the NLB's groups given: the VPC link's group is composed and may "
                     "reach them; no NLB rule",
                     {"securityGroups": {"loadBalancer": [OWN]}}, {}, None, {},
                     [keys.VPC_LINK_SECURITY_GROUP, keys.vpc_link_egress(OWN)], id="byo-nlb"),
        pytest.param("only the VPC link's groups given: the NLB's group lets each of them in, "
                     "and may reach the pods",
                     {"securityGroups": {"vpcLink": [OWN]}}, {}, None, {},
                     [keys.LOAD_BALANCER_SECURITY_GROUP, keys.load_balancer_ingress(OWN),
                      *NLB_EGRESS], id="byo-vpc-link"),
        pytest.param("the platform brings both in the function input",
                     {}, {}, {"securityGroups": {"vpcLink": [OWN], "loadBalancer": [OWN]}}, {},
                     [], id="platform"),
        pytest.param("a claim's own side wins over the platform's",
                     {"securityGroups": {"loadBalancer": [OWN]}}, {},
                     {"securityGroups": {"loadBalancer": []}}, {},
                     [keys.VPC_LINK_SECURITY_GROUP, keys.vpc_link_egress(OWN)], id="claim-wins"),
        pytest.param("a shared VPC link composes no group; the NLB's lets its named groups in",
                     {"securityGroups": {"vpcLink": [OWN]}},
                     {"apiGateway": {"vpcLinkId": "a1b2c3"}}, None, {},
                     [keys.LOAD_BALANCER_SECURITY_GROUP, keys.load_balancer_ingress(OWN),
                      *NLB_EGRESS], id="shared-vpc-link"),
        pytest.param("a shared listener: no NLB group; the VPC link's reaches its NLB by address",
                     {}, {"apiGateway": {"listenerArn": LISTENER_ARN}}, None, {},
                     [keys.VPC_LINK_SECURITY_GROUP, *VPC_LINK_EGRESS_BY_ADDRESS],
                     id="shared-listener"),
        pytest.param("an NLB that exists without groups can never get one (AWS): none composed, "
                     "and the VPC link's group reaches it by address",
                     {}, {}, None,
                     {keys.LOAD_BALANCER: {"spec": {"forProvider": {"name": "e-nlb"}}}},
                     [keys.VPC_LINK_SECURITY_GROUP, *VPC_LINK_EGRESS_BY_ADDRESS],
                     id="nlb-created-without"),
        pytest.param("an observed group is kept even when its hop reports no groups (flapping)",
                     {}, {}, None,
                     {keys.LOAD_BALANCER: {}, keys.LOAD_BALANCER_SECURITY_GROUP: {}},
                     [keys.VPC_LINK_SECURITY_GROUP, keys.VPC_LINK_EGRESS,
                      keys.LOAD_BALANCER_SECURITY_GROUP, keys.LOAD_BALANCER_INGRESS, *NLB_EGRESS],
                     id="observed-group-kept"),
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


# Where the facts behind the egress rules come from.
TERRAFORM_DROPS_EGRESS = (
    "provider-upjet-aws v2.6.0 builds SecurityGroup on Terraform's aws_security_group "
    "(config/cluster/ec2/config.go; terraform-provider-aws 6.34), whose create revokes AWS's "
    "default allow-all egress rule (internal/service/ec2/vpc_security_group.go, "
    "resourceSecurityGroupCreate: 'AWS defaults all Security Groups to have an ALLOW ALL "
    "egress rule. Here we revoke that rule')"
)
NLB_OUTBOUND = (
    "NLB user guide, 'Update the security groups for your Network Load Balancer': health "
    "checks are subject to the outbound rules, and the load balancer's group must allow "
    "traffic to the targets"
)
NODE_SG = "sg-0ddddddddddddddd4"
TARGET_GROUP_ARN_REPORTED = {keys.TARGET_GROUP: reported(arn=TARGET_GROUP_ARN)}


def _rules(desired: list[Any], role: str) -> list[tuple[str, str, str, str, int]]:
    """(key, own group, how the other end is named, the other end, port) of a role's rules."""
    found = []
    for item in desired:
        if item.role != role:
            continue
        assert item.manifest is not None, item.key
        spec = item.manifest["spec"]["forProvider"]
        (field,) = {"referencedSecurityGroupId", "cidrIpv4", "cidrIpv6"} & set(spec)
        assert (spec["ipProtocol"], spec["fromPort"]) == ("tcp", spec["toPort"])
        found.append((item.key, spec["securityGroupId"], field, spec[field], spec["fromPort"]))
    return found


def _to_ranges(group: str, ports: tuple[int, ...], ranges: list[str]) -> list[Any]:
    field = "cidrIpv4"
    return [(keys.load_balancer_egress(port, cidr), group, field, cidr, port)
            for port in ports for cidr in ranges]  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "vpc", "spec", "function_input", "observed", "vpc_link", "load_balancer"),
    [
        pytest.param("both groups composed: the VPC link's may reach the NLB's on the listener "
                     "port; the NLB's may reach the pods on the pod port and on 15021, in every "
                     "private range AWS accepts for ip targets (the platform names neither the "
                     "pods' groups nor the VPC's ranges)",
                     {}, {}, None, {},
                     [(keys.VPC_LINK_EGRESS, LINK_SG, "referencedSecurityGroupId", NLB_SG, 80)],
                     _to_ranges(NLB_SG, (8080, 15021), PRIVATE_RANGES), id="defaults"),
        pytest.param("the platform names the nodes' group: the NLB's may reach only it",
                     {}, {}, {"ingressGateway": {"targetSecurityGroupIds": [NODE_SG]}}, {},
                     [(keys.VPC_LINK_EGRESS, LINK_SG, "referencedSecurityGroupId", NLB_SG, 80)],
                     [(keys.load_balancer_egress(8080, NODE_SG), NLB_SG,
                       "referencedSecurityGroupId", NODE_SG, 8080),
                      (keys.load_balancer_egress(15021, NODE_SG), NLB_SG,
                       "referencedSecurityGroupId", NODE_SG, 15021)], id="node-group"),
        pytest.param("the platform narrows the VPC's ranges, IPv6 too",
                     {}, {}, {"vpcCidrBlocks": ["10.20.0.0/16", "2600:1f18:aa::/56"]}, {},
                     [(keys.VPC_LINK_EGRESS, LINK_SG, "referencedSecurityGroupId", NLB_SG, 80)],
                     [(keys.load_balancer_egress(port, cidr), NLB_SG, field, cidr, port)
                      for port in (8080, 15021)
                      for cidr, field in (("10.20.0.0/16", "cidrIpv4"),
                                          ("2600:1f18:aa::/56", "cidrIpv6"))],
                     id="vpc-ranges"),
        pytest.param("gatewayAPI mode: the Gateway's pods listen on the listener port",
                     {}, {"ingressMode": "gatewayAPI"},
                     {"vpcCidrBlocks": ["10.20.0.0/16"]}, {},
                     [(keys.VPC_LINK_EGRESS, LINK_SG, "referencedSecurityGroupId", NLB_SG, 80)],
                     _to_ranges(NLB_SG, (80, 15021), ["10.20.0.0/16"]), id="gateway-api"),
        pytest.param("the health check on the pod port: one rule per destination",
                     {}, {},
                     {"vpcCidrBlocks": ["10.20.0.0/16"],
                      "ingressGateway": {"targetPort": 15021}}, {},
                     [(keys.VPC_LINK_EGRESS, LINK_SG, "referencedSecurityGroupId", NLB_SG, 80)],
                     _to_ranges(NLB_SG, (15021,), ["10.20.0.0/16"]), id="one-port"),
        pytest.param("the NLB's groups brought: the VPC link's may reach each; their rules "
                     "are the platform's",
                     {"securityGroups": {"loadBalancer": [OWN]}}, {}, None, {},
                     [(keys.vpc_link_egress(OWN), LINK_SG, "referencedSecurityGroupId", OWN, 80)],
                     [], id="byo-nlb"),
        pytest.param("a shared listener whose NLB's groups are named: the VPC link's reaches them",
                     {"securityGroups": {"loadBalancer": [OWN]}},
                     {"apiGateway": {"listenerArn": LISTENER_ARN}}, None, {},
                     [(keys.vpc_link_egress(OWN), LINK_SG, "referencedSecurityGroupId", OWN, 80)],
                     [], id="shared-listener-named"),
        pytest.param("an NLB created without groups is reached by address, in the VPC's ranges",
                     {}, {}, {"vpcCidrBlocks": ["10.20.0.0/16"]},
                     {keys.VPC_LINK_SECURITY_GROUP: reported(id=LINK_SG),
                      keys.LOAD_BALANCER: {"spec": {"forProvider": {"name": "e-nlb"}}}},
                     [(keys.vpc_link_egress("10.20.0.0/16"), LINK_SG, "cidrIpv4",
                       "10.20.0.0/16", 80)], [], id="nlb-without-groups"),
        pytest.param("the VPC link's groups brought: only the NLB's group gets egress",
                     {"securityGroups": {"vpcLink": [OWN]}}, {},
                     {"ingressGateway": {"targetSecurityGroupIds": [NODE_SG]}}, {},
                     [],
                     [(keys.load_balancer_egress(8080, NODE_SG), NLB_SG,
                       "referencedSecurityGroupId", NODE_SG, 8080),
                      (keys.load_balancer_egress(15021, NODE_SG), NLB_SG,
                       "referencedSecurityGroupId", NODE_SG, 15021)], id="byo-vpc-link"),
    ],
)  # fmt: skip
def test_composed_groups_get_the_egress_they_need(  # noqa: PLR0917
    reason: str,
    vpc: dict[str, Any],
    spec: dict[str, Any],
    function_input: dict[str, Any] | None,
    observed: dict[str, Any],
    vpc_link: list[Any],
    load_balancer: list[Any],
) -> None:
    """Each composed group gets the egress rules its hop needs; a brought group none.

    Before, composed groups had only the NLB's ingress rule: without egress nothing left the
    VPC link's interfaces or the NLB (the health check on 15021 included), because
    provider-upjet-aws creates groups without AWS's default egress rule.
    """
    merged = platform_input()
    for field, value in (function_input or {}).items():
        merged[field] = {**merged.get(field, {}), **value} if isinstance(value, dict) else value
    ctx = context(_claim(vpc, **spec), merged, observed or GROUPS_REPORTED)
    desired = security.build(ctx)
    assert _rules(desired, keys.VPC_LINK_EGRESS) == vpc_link, f"{reason} ({TERRAFORM_DROPS_EGRESS})"
    assert _rules(desired, keys.LOAD_BALANCER_EGRESS) == load_balancer, f"{reason} ({NLB_OUTBOUND})"


@pytest.mark.parametrize(
    ("reason", "observed", "waiting"),
    [
        pytest.param("no group reported yet", {}, {
            keys.VPC_LINK_EGRESS: "the ids of both security groups",
            keys.load_balancer_egress(8080, "10.0.0.0/8"): "its group's id"},
            id="none"),
        pytest.param("the NLB's group only: its own rules can be made, the VPC link's not",
                     {keys.LOAD_BALANCER_SECURITY_GROUP: reported(id=NLB_SG)},
                     {keys.VPC_LINK_EGRESS: "the ids of both security groups",
                      keys.load_balancer_egress(8080, "10.0.0.0/8"): None}, id="nlb-only"),
        pytest.param("the VPC link's group only: it must also know the NLB's id",
                     {keys.VPC_LINK_SECURITY_GROUP: reported(id=LINK_SG)},
                     {keys.VPC_LINK_EGRESS: "the ids of both security groups",
                      keys.load_balancer_egress(8080, "10.0.0.0/8"): "its group's id"},
                     id="vpc-link-only"),
    ],
)  # fmt: skip
def test_egress_rules_wait_for_the_ids_they_name(
    reason: str, observed: dict[str, Any], waiting: dict[str, str | None]
) -> None:
    """A rule names groups by id, so it has no manifest until AWS reports them."""
    built = by_key(security.build(context(_claim(), observed=observed)))
    found = {
        key: None if built[key].manifest is not None else built[key].waiting_for for key in waiting
    }
    assert found == waiting, reason


@pytest.mark.parametrize(
    ("shape", "api_version"),
    [
        pytest.param("legacy", "ec2.aws.upbound.io/v1beta1", id="legacy"),
        pytest.param("namespaced", "ec2.aws.m.upbound.io/v1beta1", id="namespaced"),
    ],
)
@pytest.mark.usefixtures("crds_present")
def test_egress_rules_are_valid_in_both_shapes(shape: str, api_version: str) -> None:
    """Each XR shape composes its own API group, and the rules validate with their status.

    The egress rule CRDs are derived from the ingress ones where ../shared/crds lacks them
    (tests/crdfiles.py), as provider-upjet-aws v2.6.0 generates both from one schema.
    """
    xr = _claim(shape=shape)
    desired = security.build(context(xr, observed=GROUPS_REPORTED))
    rules = [d for d in desired if d.role in {keys.VPC_LINK_EGRESS, keys.LOAD_BALANCER_EGRESS}]
    manifests = {d.key: d.manifest for d in rules if d.manifest is not None}
    assert len(manifests) == len(rules) == 1 + len(NLB_EGRESS)
    assert {(m["apiVersion"], m["kind"]) for m in manifests.values()} == {
        (api_version, "SecurityGroupEgressRule")
    }
    applied = FakeProvider(xr["metadata"]["name"]).apply(manifests, {})
    problems = {key: crdcheck.validate(body) for key, body in applied.items()}
    assert {key: found for key, found in problems.items() if found} == {}
    assert {body["status"]["atProvider"]["id"][:4] for body in applied.values()} == {"sgr-"}


# Exact manifests: what each group and rule is sent is what AWS gets, so every field is pinned.
SLUG = "prod-env-381583e839d74e93"
TAGS = {
    "crossplane-environment": "prod-env",
    "crossplane-composite": "production-vcluster",
    "managed-by": "function-vcluster-environment",
}


def _rule_spec(group: str, peer: dict[str, str], port: int, description: str) -> dict[str, Any]:
    """The forProvider of one TCP rule on one port, as the builder must send it."""
    return {
        "securityGroupId": group,
        **peer,
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "description": f"prod-env: {description}",
        "tags": TAGS,
        "region": "us-east-1",
    }


@pytest.mark.parametrize(
    ("reason", "key", "kind", "spec"),
    [
        pytest.param("the VPC link's group, in the claim's VPC, named and described for it",
                     keys.VPC_LINK_SECURITY_GROUP, "SecurityGroup",
                     {"name": f"{SLUG}-vpclink",
                      "description": "prod-env: API Gateway VPC link network interfaces",
                      "vpcId": VPC, "tags": TAGS, "region": "us-east-1"}, id="vpc-link-group"),
        pytest.param("the NLB's group, in the claim's VPC, named and described for it",
                     keys.LOAD_BALANCER_SECURITY_GROUP, "SecurityGroup",
                     {"name": f"{SLUG}-nlb",
                      "description": "prod-env: internal NLB in front of the ingress gateway",
                      "vpcId": VPC, "tags": TAGS, "region": "us-east-1"}, id="nlb-group"),
        pytest.param("the VPC link's group may send to the NLB's on the listener port",
                     keys.VPC_LINK_EGRESS, "SecurityGroupEgressRule",
                     _rule_spec(LINK_SG, {"referencedSecurityGroupId": NLB_SG}, 80,
                                "API Gateway VPC link to the NLB listener"), id="vpc-link-egress"),
        pytest.param("the NLB's group lets the VPC link's in on the listener port",
                     keys.LOAD_BALANCER_INGRESS, "SecurityGroupIngressRule",
                     _rule_spec(NLB_SG, {"referencedSecurityGroupId": LINK_SG}, 80,
                                "API Gateway VPC link to the NLB listener"), id="nlb-ingress"),
        pytest.param("the NLB's group may send traffic to the pods' port",
                     keys.load_balancer_egress(8080, "10.0.0.0/8"), "SecurityGroupEgressRule",
                     _rule_spec(NLB_SG, {"cidrIpv4": "10.0.0.0/8"}, 8080,
                                "NLB to the ingress gateway pods (traffic)"),
                     id="nlb-egress-traffic"),
        pytest.param("the NLB's group may send health checks to the pods' readiness port",
                     keys.load_balancer_egress(15021, "192.168.0.0/16"),
                     "SecurityGroupEgressRule",
                     _rule_spec(NLB_SG, {"cidrIpv4": "192.168.0.0/16"}, 15021,
                                "NLB to the ingress gateway pods (health check)"),
                     id="nlb-egress-health-check"),
    ],
)  # fmt: skip
def test_manifests(reason: str, key: str, kind: str, spec: dict[str, Any]) -> None:
    """Each group and rule is sent exactly its name, description, ends, port and tags."""
    built = by_key(security.build(context(_claim(), observed=GROUPS_REPORTED)))
    manifest = built[key].manifest
    assert manifest is not None, reason
    assert (manifest["apiVersion"], manifest["kind"]) == ("ec2.aws.upbound.io/v1beta1", kind)
    assert manifest["metadata"] == {
        "labels": {"platform.example.org/environment": SLUG, "platform.example.org/resource": key}
    }, reason
    assert manifest["spec"]["forProvider"] == spec, reason


def test_one_rule_for_traffic_and_health_check() -> None:
    """When the health check uses the pods' own port, one rule says it carries both."""
    merged = platform_input()
    merged["ingressGateway"] = {**merged["ingressGateway"], "targetPort": 15021}
    built = by_key(security.build(context(_claim(), merged, GROUPS_REPORTED)))
    rule = for_provider(built.values(), keys.load_balancer_egress(15021, "10.0.0.0/8"))
    assert rule == _rule_spec(
        NLB_SG,
        {"cidrIpv4": "10.0.0.0/8"},
        15021,
        "NLB to the ingress gateway pods (traffic and health check)",
    )


def test_rules_keep_what_they_were_sent_while_groups_flap() -> None:
    """A created rule keeps both group ids while the groups stop reporting them.

    Dropping them would make Crossplane delete the rule, and the network path with it.
    """
    first = security.build(context(_claim(), observed=GROUPS_REPORTED))
    rules = [item for item in first if item.role is not None]
    observed: dict[str, Any] = {
        keys.VPC_LINK_SECURITY_GROUP: reported(ready=False),
        keys.LOAD_BALANCER_SECURITY_GROUP: reported(ready=False),
    }
    observed |= {item.key: as_observed(item) for item in rules}
    again = by_key(security.build(context(_claim(), observed=observed)))
    assert {item.key: again[item.key].manifest for item in rules} == {
        item.key: item.manifest for item in rules
    }


@pytest.mark.parametrize(
    ("reason", "vpc", "key", "role", "waiting"),
    [
        pytest.param("the NLB's groups brought: the VPC link's rule waits for its own group only",
                     {"securityGroups": {"loadBalancer": [OWN]}}, keys.vpc_link_egress(OWN),
                     keys.VPC_LINK_EGRESS, "its group's id", id="byo-nlb"),
        pytest.param("the VPC link's groups brought: the NLB's rule waits for its own group only",
                     {"securityGroups": {"vpcLink": [OWN]}}, keys.load_balancer_ingress(OWN),
                     keys.LOAD_BALANCER_INGRESS, "its group's id", id="byo-vpc-link"),
        pytest.param("both composed: the NLB's rule waits for both groups",
                     {}, keys.LOAD_BALANCER_INGRESS, keys.LOAD_BALANCER_INGRESS,
                     "the ids of both security groups", id="both-composed"),
        pytest.param("the NLB's egress names one group of its own",
                     {}, keys.load_balancer_egress(15021, "10.0.0.0/8"), keys.LOAD_BALANCER_EGRESS,
                     "its group's id", id="nlb-egress"),
    ],
)  # fmt: skip
def test_listener_rule_waits_for(
    reason: str, vpc: dict[str, Any], key: str, role: str, waiting: str
) -> None:
    """A rule says which ids it still lacks, and carries the role its ordering is kept under."""
    item = by_key(security.build(context(_claim(vpc))))[key]
    assert (item.manifest, item.waiting_for, item.role) == (None, waiting, role), reason
