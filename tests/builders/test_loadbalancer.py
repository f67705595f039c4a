"""The load balancer builder alone: NLB, target group, listener and TargetGroupBinding."""

from __future__ import annotations

from typing import Any

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
