"""Changes AWS cannot apply, decided against the observed resources, and Synced=False in status.

Source (FIELD-NOTES, "Immutable in AWS"): VPC link subnets and security groups,
target group port, protocol, VPC and target type, and NLB security groups added
after creation cannot change in place; upjet then refuses the update ("refuse to
update the external resource because the following update requires replacing it")
and the resource stays Synced=False.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import EXAMPLES, load, platform_input

from function.compose import compose
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate

CLAIM = load(EXAMPLES / "apps" / "claim.yaml")  # composes both security groups
OWN = "sg-0ccccccccccccccc3"
OTHER = "sg-0ddddddddddddddd4"


def _converged(xr: dict[str, Any], function_input: dict[str, Any]) -> dict[str, Any]:
    """What Crossplane observes once the environment is ready."""
    result = simulate(xr, function_input)
    assert result.converged, result.fatal
    last = result.rounds[-1]
    return FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)


def _edited(vpc: dict[str, Any]) -> dict[str, Any]:
    xr = copy.deepcopy(CLAIM)
    xr["spec"]["vpc"] = {**xr["spec"]["vpc"], **vpc}
    return xr


@pytest.mark.parametrize(
    ("reason", "vpc", "ingress", "message"),
    [
        pytest.param("a VPC link's subnets cannot change",
                     {"subnetIds": ["subnet-0123456789abcdef0"]}, {},
                     "spec.vpc.subnetIds: would change vpc-link subnetIds", id="vpc-link-subnets"),
        pytest.param("a VPC link's groups cannot change",
                     {"securityGroups": {"vpcLink": [OWN]}}, {},
                     "spec.vpc.securityGroups.vpcLink: would change vpc-link securityGroupIds",
                     id="vpc-link-groups"),
        pytest.param("a target group's port cannot change",
                     {}, {"servicePort": 8080},
                     "input ingressGateway.servicePort: would change target-group port from 80 "
                     "to 8080", id="target-group-port"),
        pytest.param("a target group's VPC cannot change",
                     {"vpcId": "vpc-0fedcba9876543210"}, {},
                     "spec.vpc.vpcId: would change target-group vpcId", id="target-group-vpc"),
    ],
)  # fmt: skip
def test_immutable_change_is_refused(
    reason: str, vpc: dict[str, Any], ingress: dict[str, Any], message: str
) -> None:
    """An edit AWS would have to replace for gives a Fatal naming the field, before any change."""
    function_input = platform_input()
    observed = _converged(CLAIM, function_input)
    assert compose(CLAIM, observed, function_input).fatal is None  # the unedited claim is fine
    edited_input = copy.deepcopy(function_input)
    edited_input.setdefault("ingressGateway", {}).update(ingress)
    outcome = compose(_edited(vpc), observed, edited_input)
    assert outcome.fatal is not None, reason
    assert outcome.fatal.startswith(message), outcome.fatal
    assert outcome.resources == {}


def test_groups_added_to_an_nlb_created_without() -> None:
    """An NLB created without groups can never get one: adding them later is refused."""
    function_input = platform_input()
    without = _edited({"securityGroups": {"loadBalancer": []}})
    observed = _converged(without, function_input)
    assert "securityGroups" not in observed["nlb"]["spec"]["forProvider"]
    outcome = compose(
        _edited({"securityGroups": {"loadBalancer": [OWN]}}), observed, function_input
    )
    assert outcome.fatal is not None
    assert outcome.fatal.startswith(
        "spec.vpc.securityGroups.loadBalancer: would change nlb securityGroups from None to "
        f"['{OWN}'], but an NLB created without security groups can never get one"
    ), outcome.fatal


def test_vpc_link_groups_no_longer_named() -> None:
    """A claim that stops naming a live VPC link's groups is refused: a composed group replaces.

    The NLB's groups stay brought, so the VPC link's change is the only one.
    """
    function_input = platform_input()
    named = {"securityGroups": {"vpcLink": [OWN], "loadBalancer": [OTHER]}}
    observed = _converged(_edited(named), function_input)
    outcome = compose(
        _edited({"securityGroups": {"loadBalancer": [OTHER]}}), observed, function_input
    )
    assert outcome.fatal == (
        f"spec.vpc.securityGroups.vpcLink: would change vpc-link securityGroupIds from ['{OWN}'] "
        "to a security group composed for it, but a VPC link's security groups cannot change; "
        "AWS would have to replace the VPC link; keep the old value, or delete and recreate "
        "the environment"
    )
    assert outcome.resources == {}


def test_nlb_groups_no_longer_named() -> None:
    """A live NLB whose groups stop being named keeps them until its composed group has an id.

    Then it swaps to that one: AWS lets an NLB created with groups change them.
    """
    function_input = platform_input()
    named = _edited({"securityGroups": {"vpcLink": [OWN], "loadBalancer": [OWN, OTHER]}})
    observed = _converged(named, function_input)
    edited = _edited({"securityGroups": {"vpcLink": [OWN]}})
    provider = FakeProvider(edited["metadata"]["name"])
    seen = []
    for _ in range(10):
        outcome = compose(edited, observed, function_input)
        assert outcome.fatal is None, outcome.fatal
        assert set(observed) <= set(outcome.resources)  # nothing observed is dropped
        seen.append(outcome.resources["nlb"]["spec"]["forProvider"]["securityGroups"])
        if outcome.xr_ready and set(outcome.resources) <= set(observed):
            break
        observed = provider.apply(outcome.resources, observed)
    composed = observed["security-group-nlb"]["status"]["atProvider"]["id"]
    assert seen[0] == [OWN, OTHER]
    assert seen[-1] == [composed]
    assert outcome.xr_ready


COMPOSED: dict[str, Any] = {}  # neither hop's groups named: both composed
VPC_LINK_REFUSED = "spec.vpc.securityGroups.vpcLink: would change vpc-link securityGroupIds from "
NLB_REFUSED = "spec.vpc.securityGroups.loadBalancer: would change nlb securityGroups from "


def _settled(
    xr: dict[str, Any], observed: dict[str, Any], function_input: dict[str, Any], kept: set[str]
) -> Any:
    """Compose and apply until the answer is ready and stable; the last Outcome.

    Every observed resource in ``kept`` stays desired on the way.
    """
    provider = FakeProvider(xr["metadata"]["name"])
    previous = None
    for _ in range(12):
        outcome = compose(xr, observed, function_input)
        assert outcome.fatal is None, outcome.fatal
        assert set(observed) & kept <= set(outcome.resources)
        if outcome.xr_ready and outcome.resources == previous:
            return outcome
        previous = outcome.resources
        observed = provider.apply(outcome.resources, observed)
    pytest.fail("no stable answer")


@pytest.mark.parametrize(
    ("reason", "before", "after", "refused"),
    [
        pytest.param("a VPC link's composed group cannot give way to named ones", COMPOSED,
                     {"vpcLink": [OWN]}, VPC_LINK_REFUSED, id="vpc-link-composed-to-named"),
        pytest.param("a VPC link's named groups cannot give way to a composed one", {
            "vpcLink": [OWN]}, COMPOSED, VPC_LINK_REFUSED, id="vpc-link-named-to-composed"),
        pytest.param("a VPC link's named groups cannot change", {"vpcLink": [OWN]},
                     {"vpcLink": [OTHER]}, VPC_LINK_REFUSED, id="vpc-link-named-to-other"),
        pytest.param("the same groups in another order are no change (AWS keeps no order)",
                     {"vpcLink": [OWN, OTHER]}, {"vpcLink": [OTHER, OWN]}, None,
                     id="vpc-link-reordered"),
        pytest.param("an NLB created with groups may swap its composed one for named ones",
                     COMPOSED, {"loadBalancer": [OWN]}, None, id="nlb-composed-to-named"),
        pytest.param("an NLB created with groups may swap named ones for a composed one",
                     {"loadBalancer": [OWN, OTHER]}, COMPOSED, None,
                     id="nlb-named-to-composed"),
        pytest.param("an NLB created with groups cannot lose them all",
                     {"loadBalancer": [OWN]}, {"loadBalancer": []}, NLB_REFUSED,
                     id="nlb-named-to-none"),
        pytest.param("an NLB created without groups can never get one named", {
            "loadBalancer": []}, {"loadBalancer": [OWN]}, NLB_REFUSED, id="nlb-none-to-named"),
    ],
)  # fmt: skip
def test_group_edits_on_a_live_environment(
    reason: str, before: dict[str, Any], after: dict[str, Any], refused: str | None
) -> None:
    """Each edit of the hops' groups is refused at once, or converges as a fresh claim does.

    On the way, every resource both the live environment and a fresh claim have stays.
    """
    function_input = platform_input()
    observed = _converged(_edited({"securityGroups": before}), function_input)
    edited = _edited({"securityGroups": after})
    outcome = compose(edited, observed, function_input)
    if refused is not None:
        assert outcome.fatal is not None, reason
        assert outcome.fatal.startswith(refused), outcome.fatal
        assert outcome.resources == {}
        return
    fresh = simulate(edited, function_input)
    assert fresh.converged, fresh.fatal
    settled = _settled(edited, observed, function_input, set(fresh.rounds[-1].desired))
    assert settled.resources == fresh.rounds[-1].desired, reason


def test_nlb_created_without_groups_stays_without() -> None:
    """An NLB created without groups keeps none when the claim stops saying so.

    AWS can never add one, and 0.1.0 composed NLBs without groups: refusing would block
    every such environment, so no group is composed for it and nothing is refused.
    """
    function_input = platform_input()
    observed = _converged(_edited({"securityGroups": {"loadBalancer": []}}), function_input)
    edited = _edited({"securityGroups": {}})
    settled = _settled(edited, observed, function_input, set(observed))
    assert "securityGroups" not in settled.resources["nlb"]["spec"]["forProvider"]
    assert "security-group-nlb" not in settled.resources


@pytest.mark.parametrize(
    ("reason", "key", "field", "value"),
    [
        pytest.param("a number is never the VPC id this function sends, so it tells nothing",
                     "target-group", "vpcId", 5, id="vpc-id-number"),
        pytest.param("the port is sent as a number; a string there was written by someone else",
                     "target-group", "port", "8080", id="port-string"),
        pytest.param("subnets are sent as a list; a lone string is no value this function sent",
                     "vpc-link", "subnetIds", "subnet-0123456789abcdef0", id="subnets-string"),
        pytest.param("group ids are strings; a list of numbers is no value this function sent",
                     "nlb", "securityGroups", [1], id="groups-numbers"),
    ],
)  # fmt: skip
def test_value_of_a_type_never_sent_tells_nothing(
    reason: str, key: str, field: str, value: object
) -> None:
    """An observed value of another type than the one sent is not a change to refuse."""
    function_input = platform_input()
    observed = _converged(CLAIM, function_input)
    observed[key]["spec"]["forProvider"][field] = value
    assert compose(CLAIM, observed, function_input).fatal is None, reason


def test_not_synced_is_pending() -> None:
    """A resource the provider could not apply (Synced=False) is pending with its message."""
    function_input = platform_input()
    observed = _converged(CLAIM, function_input)
    refused = "refuse to update the external resource because the following update requires it"
    observed["vpc-link"]["status"]["conditions"] = [
        {"type": "Ready", "status": "True"},
        {"type": "Synced", "status": "False", "reason": "ReconcileError", "message": refused},
    ]
    outcome = compose(CLAIM, observed, function_input)
    assert outcome.status["pending"] == [f"vpc-link: not synced: {refused}"]
    assert outcome.xr_ready is False
