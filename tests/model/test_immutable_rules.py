"""Each rule of ``immutable.check`` on its own: observed and desired given as plain data.

tests/pipeline/test_immutable.py drives whole compositions; these state the decision for
one field at a time (what counts as no change, as unknown, as refused), and the message.
"""

from __future__ import annotations

from typing import Any

import pytest

from function.model import keys
from function.model.context import Desired
from function.model.errors import InvalidError
from function.model.immutable import check
from function.model.observed import Observed

SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
GROUP = "sg-0ccccccccccccccc3"


def _sent(**fields: Any) -> dict[str, Any]:
    """An observed resource whose spec.forProvider holds what was sent."""
    return {"spec": {"forProvider": fields}}


def _wanted(**fields: Any) -> dict[str, Any]:
    """A desired manifest with these spec.forProvider fields."""
    return {"spec": {"forProvider": fields}}


@pytest.mark.parametrize(
    ("reason", "observed", "desired"),
    [
        pytest.param("the same subnets in another order: AWS keeps no order",
                     {keys.VPC_LINK: _sent(subnetIds=SUBNETS)},
                     {keys.VPC_LINK: _wanted(subnetIds=SUBNETS[::-1])}, id="subnets-reordered"),
        pytest.param("an NLB observed with an empty group list and none wanted: both are none",
                     {keys.LOAD_BALANCER: _sent(securityGroups=[])},
                     {keys.LOAD_BALANCER: _wanted()}, id="nlb-empty-and-none"),
        pytest.param("an NLB created with groups may swap them for others",
                     {keys.LOAD_BALANCER: _sent(securityGroups=["sg-0aaaaaaaaaaaaaaa1"])},
                     {keys.LOAD_BALANCER: _wanted(securityGroups=[GROUP])}, id="nlb-swap"),
        pytest.param("a port no longer sent is no change: the provider keeps what AWS reports",
                     {keys.TARGET_GROUP: _sent(port=80)},
                     {keys.TARGET_GROUP: _wanted()}, id="port-not-wanted"),
        pytest.param("subnets sent before are not known to be none: nothing to compare",
                     {keys.VPC_LINK: _sent()},
                     {keys.VPC_LINK: _wanted(subnetIds=SUBNETS)}, id="subnets-unknown-before"),
        pytest.param("subnets with a number among them were written by someone else",
                     {keys.VPC_LINK: _sent(subnetIds=[1])},
                     {keys.VPC_LINK: _wanted(subnetIds=SUBNETS)}, id="subnets-number-item"),
        pytest.param("an empty subnet id was never sent by this function",
                     {keys.VPC_LINK: _sent(subnetIds=[""])},
                     {keys.VPC_LINK: _wanted(subnetIds=SUBNETS)}, id="subnets-empty-item"),
        pytest.param("a desired manifest without spec sends nothing, so changes nothing",
                     {keys.TARGET_GROUP: _sent(port=80)},
                     {keys.TARGET_GROUP: {}}, id="manifest-without-spec"),
        pytest.param("a desired manifest without forProvider sends nothing, so changes nothing",
                     {keys.TARGET_GROUP: _sent(port=80)},
                     {keys.TARGET_GROUP: {"spec": {}}}, id="manifest-without-for-provider"),
        pytest.param("a port sent as a string was written by someone else",
                     {keys.TARGET_GROUP: _sent(port="8080")},
                     {keys.TARGET_GROUP: _wanted(port=80)}, id="port-string"),
        pytest.param("a port sent as a boolean was written by someone else",
                     {keys.TARGET_GROUP: _sent(port=True)},
                     {keys.TARGET_GROUP: _wanted(port=80)}, id="port-boolean"),
        pytest.param("a VPC id sent as a number was written by someone else",
                     {keys.TARGET_GROUP: _sent(vpcId=5)},
                     {keys.TARGET_GROUP: _wanted(vpcId="vpc-0bbbbbbbbbbbbbbb2")},
                     id="vpc-id-number"),
        pytest.param("an empty VPC id was never sent by this function",
                     {keys.TARGET_GROUP: _sent(vpcId="")},
                     {keys.TARGET_GROUP: _wanted(vpcId="vpc-0bbbbbbbbbbbbbbb2")},
                     id="vpc-id-empty"),
        pytest.param("an observed resource no longer desired is not changed by this function",
                     {keys.TARGET_GROUP: _sent(port=80)}, {}, id="not-desired"),
        pytest.param("a resource not observed yet has nothing to change",
                     {}, {keys.TARGET_GROUP: _wanted(port=8080)}, id="not-observed"),
        pytest.param("an observed resource without forProvider: what was sent is unknown",
                     {keys.TARGET_GROUP: {"spec": {}}},
                     {keys.TARGET_GROUP: _wanted(port=8080)}, id="sent-unknown"),
        pytest.param("an NLB without forProvider: no groups sent is not known, not none sent",
                     {keys.LOAD_BALANCER: {"spec": {}}},
                     {keys.LOAD_BALANCER: _wanted(securityGroups=[GROUP])},
                     id="groups-sent-unknown"),
    ],
)  # fmt: skip
def test_not_refused(
    reason: str, observed: dict[str, dict[str, Any]], desired: dict[str, dict[str, Any]]
) -> None:
    """A desired resource that changes no immutable field passes."""
    try:
        check(Observed(observed), [Desired(key, manifest) for key, manifest in desired.items()])
    except InvalidError as error:
        pytest.fail(f"{reason}, but refused: {error}")


@pytest.mark.parametrize(
    ("reason", "observed", "desired", "message"),
    [
        pytest.param("a target group's port differs from the one it was created with",
                     {keys.TARGET_GROUP: _sent(port=80.0)},
                     {keys.TARGET_GROUP: _wanted(port=8080)},
                     "input ingressGateway.servicePort: would change target-group port from 80 "
                     "to 8080, but a target group's port cannot change; AWS would have to "
                     "replace it; keep the old value, or delete and recreate the environment",
                     id="port"),
        pytest.param("other subnets, as many as before, are a change",
                     {keys.VPC_LINK: _sent(subnetIds=SUBNETS)},
                     {keys.VPC_LINK: _wanted(subnetIds=["subnet-0ccccccccccccccc3",
                                                        "subnet-0ddddddddddddddd4"])},
                     "spec.vpc.subnetIds: would change vpc-link subnetIds from "
                     f"{SUBNETS!r} to ['subnet-0ccccccccccccccc3', 'subnet-0ddddddddddddddd4'], "
                     "but a VPC link's subnets cannot change", id="vpc-link-subnets-changed"),
        pytest.param("a VPC link created without groups cannot get some: none was a value",
                     {keys.VPC_LINK: _sent(subnetIds=SUBNETS)},
                     {keys.VPC_LINK: _wanted(subnetIds=SUBNETS, securityGroupIds=[GROUP])},
                     "spec.vpc.securityGroups.vpcLink: would change vpc-link securityGroupIds "
                     f"from None to ['{GROUP}'], but a VPC link's security groups cannot "
                     "change; AWS would have to replace the VPC link; keep the old value, or "
                     "delete and recreate the environment", id="vpc-link-groups-added"),
        pytest.param("a later rule is still checked when an earlier rule's key is not desired",
                     {keys.TARGET_GROUP: _sent(vpcId="vpc-0aaaaaaaaaaaaaaa1")},
                     {keys.TARGET_GROUP: _wanted(vpcId="vpc-0bbbbbbbbbbbbbbb2")},
                     "spec.vpc.vpcId: would change target-group vpcId from "
                     "'vpc-0aaaaaaaaaaaaaaa1' to 'vpc-0bbbbbbbbbbbbbbb2', but a target group's "
                     "VPC cannot change; AWS would have to replace it; keep the old value, or "
                     "delete and recreate the environment", id="later-rule"),
        pytest.param("a later rule is still checked when an earlier rule's sent is unknown",
                     {keys.VPC_LINK: {"spec": {}}, keys.TARGET_GROUP: _sent(port=80)},
                     {keys.VPC_LINK: _wanted(subnetIds=SUBNETS),
                      keys.TARGET_GROUP: _wanted(port=8080)},
                     "input ingressGateway.servicePort: would change target-group port from 80 "
                     "to 8080", id="after-unknown-sent"),
        pytest.param("a security group's VPC cannot change (the last rules)",
                     {keys.LOAD_BALANCER_SECURITY_GROUP: _sent(vpcId="vpc-0aaaaaaaaaaaaaaa1")},
                     {keys.LOAD_BALANCER_SECURITY_GROUP: _wanted(vpcId="vpc-0bbbbbbbbbbbbbbb2")},
                     "spec.vpc.vpcId: would change security-group-nlb vpcId", id="nlb-group-vpc"),
        pytest.param("an NLB created with groups cannot lose them all",
                     {keys.LOAD_BALANCER: _sent(securityGroups=[GROUP])},
                     {keys.LOAD_BALANCER: _wanted(securityGroups=[])},
                     f"spec.vpc.securityGroups.loadBalancer: would change nlb securityGroups "
                     f"from ['{GROUP}'] to [], but an NLB created without security groups can "
                     "never get one, and one created with them cannot lose them all",
                     id="nlb-groups-dropped"),
    ],
)  # fmt: skip
def test_refused(
    reason: str,
    observed: dict[str, dict[str, Any]],
    desired: dict[str, dict[str, Any]],
    message: str,
) -> None:
    """A change AWS would have to replace for is refused with a message naming the field."""
    with pytest.raises(InvalidError) as raised:
        check(Observed(observed), [Desired(key, manifest) for key, manifest in desired.items()])
    assert str(raised.value).startswith(message), reason
