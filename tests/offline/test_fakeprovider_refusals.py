"""The fake provider refuses the updates AWS refuses, as the real providers report them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from function.offline.fakeprovider import FakeProvider

SG = "sg-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]


def _resource(kind: str, **for_provider: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example/v1",
        "kind": kind,
        "metadata": {},
        "spec": {"forProvider": {"region": "us-east-1", **for_provider}},
    }


def _synced(resource: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in resource["status"]["conditions"] if c["type"] == "Synced")


@pytest.mark.parametrize(
    ("reason", "key", "before", "after", "message"),
    [
        pytest.param("AWS: an NLB created without security groups can never get one",
                     "nlb", _resource("LB", name="e-nlb"),
                     _resource("LB", name="e-nlb", securityGroups=[SG]),
                     "InvalidConfigurationRequest: You cannot set security groups on a Network "
                     "Load Balancer which was created without any security groups: "
                     "securityGroups", id="nlb-groups-added"),
        pytest.param("a VPC link's subnets force a replacement, which upjet refuses",
                     "vpc-link", _resource("VPCLink", subnetIds=SUBNETS),
                     _resource("VPCLink", subnetIds=SUBNETS[:1]),
                     "refuse to update the external resource because the following update "
                     "requires replacing it: subnetIds", id="vpc-link-subnets"),
        pytest.param("a VPC link's groups force a replacement, which upjet refuses",
                     "vpc-link", _resource("VPCLink", subnetIds=SUBNETS),
                     _resource("VPCLink", subnetIds=SUBNETS, securityGroupIds=[SG]),
                     "refuse to update the external resource because the following update "
                     "requires replacing it: securityGroupIds", id="vpc-link-groups"),
        pytest.param("an NLB created with groups may swap them: no refusal",
                     "nlb", _resource("LB", securityGroups=["sg-0aaaaaaaaaaaaaaa1"]),
                     _resource("LB", securityGroups=[SG]), None, id="nlb-groups-swapped"),
        pytest.param("the same VPC link again, subnets in another order: no refusal",
                     "vpc-link", _resource("VPCLink", subnetIds=SUBNETS),
                     _resource("VPCLink", subnetIds=SUBNETS[::-1]), None, id="unchanged"),
    ],
)  # fmt: skip
def test_refused_update(
    reason: str, key: str, before: dict[str, Any], after: dict[str, Any], message: str | None
) -> None:
    """A refused update leaves AWS's resource as it was and reports Synced=False with the error."""
    provider = FakeProvider("xr")
    observed = provider.apply({key: before}, {})
    applied = provider.apply({key: copy.deepcopy(after)}, observed)[key]
    synced = _synced(applied)
    if message is None:
        assert synced["status"] == "True", reason
        return
    assert (synced["status"], synced["message"]) == ("False", message), reason
    assert applied["status"]["atProvider"] == observed[key]["status"]["atProvider"]
    assert applied["spec"] == after["spec"]  # the spec is what was asked for
