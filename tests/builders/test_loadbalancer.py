"""The load balancer builder alone: NLB, target group, listener and TargetGroupBinding."""

from __future__ import annotations

from typing import Any

import crdcheck
import pytest
from conftest import SEED, load
from contexts import as_observed, by_key, claim, context, embedded, for_provider, reported

from function.builders import loadbalancer
from function.model import keys

TARGET_GROUP_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/prod-env-tg/0123456789abcdef"
)
VPC = "vpc-0123456789abcdef0"
SEED_VPC = load(SEED)["spec"]["vpc"]


def test_target_group_waits_for_vpc_id() -> None:
    """Without vpcId the target group waits for the VPC id AWS reports for the NLB."""
    first = by_key(loadbalancer.build(context()))[keys.TARGET_GROUP]
    assert first.manifest is None
    assert first.waiting_for == "the VPC id of the load balancer"
    with_vpc = loadbalancer.build(context(claim(vpc={**SEED_VPC, "vpcId": VPC})))
    assert for_provider(with_vpc, keys.TARGET_GROUP)["vpcId"] == VPC


@pytest.mark.parametrize(
    ("reason", "observed", "vpc_id"),
    [
        pytest.param("the VPC id AWS reports for the NLB",
                     {keys.LOAD_BALANCER: reported(vpcId=VPC)}, VPC, id="reported"),
        pytest.param("a created target group keeps its VPC while the NLB flaps",
                     {keys.LOAD_BALANCER: reported(ready=False),
                      keys.TARGET_GROUP: {"spec": {"forProvider": {"vpcId": VPC}}}},
                     VPC, id="sent-before"),
        pytest.param("a reported empty string is no VPC id",
                     {keys.LOAD_BALANCER: reported(vpcId="")}, None, id="empty"),
    ],
)  # fmt: skip
def test_target_group_vpc(reason: str, observed: dict[str, Any], vpc_id: str | None) -> None:
    """The target group's VPC is the claim's, else reported, else as sent before."""
    item = by_key(loadbalancer.build(context(observed=observed)))[keys.TARGET_GROUP]
    sent = None if item.manifest is None else item.manifest["spec"]["forProvider"]["vpcId"]
    assert sent == vpc_id, reason


def test_target_group_binding_copies_arn() -> None:
    """The binding carries the observed target group ARN and binds the ingress Service."""
    observed = {keys.TARGET_GROUP: reported(arn=TARGET_GROUP_ARN)}
    binding = embedded(loadbalancer.build(context(observed=observed)), keys.TARGET_GROUP_BINDING)
    assert binding["spec"]["targetGroupARN"].startswith("arn:aws:elasticloadbalancing:")
    assert binding["spec"]["serviceRef"] == {"name": "istio-ingressgateway", "port": 80}
    assert binding["metadata"]["namespace"] == "istio-ingress"


def test_binding_keeps_its_arn_while_the_target_group_flaps() -> None:
    """A created binding keeps the target group ARN it was sent while the group reports none."""
    observed = {keys.TARGET_GROUP: reported(arn=TARGET_GROUP_ARN)}
    binding = by_key(loadbalancer.build(context(observed=observed)))[keys.TARGET_GROUP_BINDING]
    flapped = {
        keys.TARGET_GROUP: reported(ready=False),
        keys.TARGET_GROUP_BINDING: as_observed(binding),
    }
    again = by_key(loadbalancer.build(context(observed=flapped)))[keys.TARGET_GROUP_BINDING]
    assert again.manifest == binding.manifest


@pytest.mark.parametrize(
    ("reason", "spec", "function_input"),
    [
        pytest.param("the claim brings its own listener", {"apiGateway": {"listenerArn": (
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/a/0123456789abcdef/0123456789abcdef")}},
            None, id="byo-listener"),
        pytest.param("there is no API Gateway to reach it", {"include": ["grafana"]}, None,
                     id="no-api-gateway"),
    ],
)  # fmt: skip
def test_nothing_composed(
    reason: str, spec: dict[str, Any], function_input: dict[str, Any] | None
) -> None:
    """No load balancer is composed when a listener is given or API Gateway is off."""
    assert loadbalancer.build(context(claim(**spec), function_input)) == [], reason


# Exact manifests: a builder's output is what the provider acts on, so every field the
# load balancer path needs is pinned, not just present.
NLB_SG = "sg-0bbbbbbbbbbbbbbb2"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
SLUG = "prod-env-381583e839d74e93"
TAGS = {
    "crossplane-environment": "prod-env",
    "crossplane-composite": "production-vcluster",
    "managed-by": "function-vcluster-environment",
}
ALL_REPORTED = {
    keys.LOAD_BALANCER_SECURITY_GROUP: reported(id=NLB_SG),
    keys.TARGET_GROUP: reported(arn=TARGET_GROUP_ARN),
}
MINE = {"matchControllerRef": True}


def _vpc_claim(**vpc: Any) -> dict[str, Any]:
    return claim(vpc={"vpcId": VPC, "subnetIds": SUBNETS, **vpc})


@pytest.mark.parametrize(
    ("reason", "key", "kind", "spec"),
    [
        pytest.param("an internal network NLB in the claim's subnets, balancing across zones, "
                     "created with its composed group (it can never get one later)",
                     keys.LOAD_BALANCER, "LB",
                     {"name": f"{SLUG}-nlb", "loadBalancerType": "network", "internal": True,
                      "subnets": SUBNETS, "enableCrossZoneLoadBalancing": True, "tags": TAGS,
                      "securityGroups": [NLB_SG], "region": "us-east-1"}, id="nlb"),
        pytest.param("an ip target group on the service port in the claim's VPC, health-checked "
                     "over HTTP on the gateway's readiness port and path",
                     keys.TARGET_GROUP, "LBTargetGroup",
                     {"name": f"{SLUG}-tg", "port": 80, "protocol": "TCP", "targetType": "ip",
                      "vpcId": VPC, "deregistrationDelay": "30",
                      "healthCheck": {"enabled": True, "protocol": "HTTP", "port": "15021",
                                      "path": "/healthz/ready", "healthyThreshold": 2,
                                      "unhealthyThreshold": 2, "interval": 10},
                      "tags": TAGS, "region": "us-east-1"}, id="target-group"),
        pytest.param("a TCP listener on the service port of this XR's NLB, forwarding to this "
                     "XR's target group",
                     keys.LISTENER, "LBListener",
                     {"loadBalancerArnSelector": MINE, "port": 80, "protocol": "TCP",
                      "defaultAction": [{"type": "forward", "targetGroupArnSelector": MINE}],
                      "tags": TAGS, "region": "us-east-1"}, id="listener"),
    ],
)  # fmt: skip
def test_aws_manifests(reason: str, key: str, kind: str, spec: dict[str, Any]) -> None:
    """Each AWS resource of the path is sent exactly the fields its job needs."""
    item = by_key(loadbalancer.build(context(_vpc_claim(), observed=ALL_REPORTED)))[key]
    assert item.manifest is not None, reason
    assert (item.manifest["apiVersion"], item.manifest["kind"]) == (
        "elbv2.aws.upbound.io/v1beta2",
        kind,
    ), reason
    assert item.manifest["metadata"] == {
        "labels": {"platform.example.org/environment": SLUG, "platform.example.org/resource": key}
    }, reason
    assert item.manifest["spec"]["forProvider"] == spec, reason


def test_binding_manifest() -> None:
    """The binding registers the gateway pods in the target group and opens them to the NLB.

    Traffic reaches the pods' port 8080 and the health check port 15021, from the NLB's group.
    """
    item = by_key(loadbalancer.build(context(_vpc_claim(), observed=ALL_REPORTED)))[
        keys.TARGET_GROUP_BINDING
    ]
    assert item.manifest is not None
    assert (item.manifest["apiVersion"], item.manifest["kind"]) == (
        "kubernetes.crossplane.io/v1alpha2",
        "Object",
    )
    labels = {
        "platform.example.org/environment": SLUG,
        "platform.example.org/resource": keys.TARGET_GROUP_BINDING,
    }
    assert item.manifest["spec"]["forProvider"]["manifest"] == {
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "TargetGroupBinding",
        "metadata": {"name": f"{SLUG}-ingress", "namespace": "istio-ingress", "labels": labels},
        "spec": {
            "serviceRef": {"name": "istio-ingressgateway", "port": 80},
            "targetGroupARN": TARGET_GROUP_ARN,
            "targetType": "ip",
            "networking": {
                "ingress": [
                    {
                        "from": [{"securityGroup": {"groupID": NLB_SG}}],
                        "ports": [
                            {"port": 8080, "protocol": "TCP"},
                            {"port": 15021, "protocol": "TCP"},
                        ],
                    }
                ]
            },
        },
    }


def test_brought_empty_groups() -> None:
    """Groups given as an empty list: an NLB without groups, and a binding that opens nothing.

    The platform then manages the pods' rules itself; the controller must not add any.
    """
    observed = {keys.TARGET_GROUP: reported(arn=TARGET_GROUP_ARN)}
    xr = _vpc_claim(securityGroups={"loadBalancer": []})
    built = loadbalancer.build(context(xr, observed=observed))
    assert "securityGroups" not in for_provider(built, keys.LOAD_BALANCER)
    binding = embedded(built, keys.TARGET_GROUP_BINDING)
    assert set(binding["spec"]) == {"serviceRef", "targetGroupARN", "targetType"}


@pytest.mark.parametrize(
    ("reason", "observed", "waiting"),
    [
        pytest.param("nothing reported: the NLB waits for its group, the binding for the ARN "
                     "and the group, the target group has the claim's VPC, the listener needs "
                     "nothing", {},
                     {keys.LOAD_BALANCER: "the id of its security group",
                      keys.TARGET_GROUP: None, keys.LISTENER: None,
                      keys.TARGET_GROUP_BINDING: "the target group ARN and the load balancer's "
                                                 "security group id"}, id="nothing"),
        pytest.param("the target group's ARN alone: the binding still needs the NLB's group",
                     {keys.TARGET_GROUP: reported(arn=TARGET_GROUP_ARN)},
                     {keys.LOAD_BALANCER: "the id of its security group",
                      keys.TARGET_GROUP: None, keys.LISTENER: None,
                      keys.TARGET_GROUP_BINDING: "the target group ARN and the load balancer's "
                                                 "security group id"}, id="arn-only"),
        pytest.param("the NLB's group alone: the binding still needs the target group's ARN",
                     {keys.LOAD_BALANCER_SECURITY_GROUP: reported(id=NLB_SG)},
                     {keys.LOAD_BALANCER: None, keys.TARGET_GROUP: None, keys.LISTENER: None,
                      keys.TARGET_GROUP_BINDING: "the target group ARN and the load balancer's "
                                                 "security group id"}, id="group-only"),
        pytest.param("both known: everything is composed", ALL_REPORTED,
                     dict.fromkeys((keys.LOAD_BALANCER, keys.TARGET_GROUP, keys.LISTENER,
                                    keys.TARGET_GROUP_BINDING)), id="all"),
    ],
)  # fmt: skip
def test_what_each_waits_for(
    reason: str, observed: dict[str, Any], waiting: dict[str, str | None]
) -> None:
    """The four resources in order; those without a manifest say what they wait for."""
    built = loadbalancer.build(context(_vpc_claim(), observed=observed))
    found = {item.key: None if item.manifest is not None else item.waiting_for for item in built}
    assert list(found.items()) == list(waiting.items()), reason


@pytest.mark.usefixtures("crds_present")
@pytest.mark.parametrize("shape", ["legacy", "namespaced"])
def test_manifests_are_valid(shape: str) -> None:
    """Every manifest, and the binding inside its Object, validates against the real CRDs."""
    xr = claim(shape=shape, vpc={"vpcId": VPC, "subnetIds": SUBNETS})
    built = loadbalancer.build(context(xr, observed=ALL_REPORTED))
    manifests = {item.key: item.manifest for item in built if item.manifest is not None}
    assert len(manifests) == len(built)
    manifests["binding"] = embedded(built, keys.TARGET_GROUP_BINDING)
    problems = {key: crdcheck.validate(body) for key, body in manifests.items()}
    assert {key: found for key, found in problems.items() if found} == {}
