"""Changes AWS cannot apply in place, refused before they reach a provider.

AWS replaces a VPC link whose subnets or security groups change, and a target
group whose port, protocol, VPC or target type change; an NLB created without
security groups can never get one (FIELD-NOTES, "Immutable in AWS"). The
providers cannot replace a resource: upjet refuses the update and the resource
stays ``Synced=False`` while nothing tells the user why. So each such change is
decided here against the observed resource, what was last applied to it, and
refused with a Fatal result that names the field and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from function.model import keys
from function.model.errors import InvalidError
from function.model.types import whole_numbers

if TYPE_CHECKING:
    from collections.abc import Iterable

    from function.model.context import Desired
    from function.model.observed import Observed


@dataclass(frozen=True)
class Immutable:
    """A ``forProvider`` field of a composed resource that AWS cannot change."""

    key: str
    field: str
    sends: type  # the JSON type this function sends there: str, int, or a list of str
    source: str  # the claim or input field the value comes from, for the message
    why: str
    # Whether none sent is a value (created without groups) rather than unknown.
    none_is_a_value: bool = False


VPC_LINK_GROUPS = Immutable(
    keys.VPC_LINK, "securityGroupIds", list, "spec.vpc.securityGroups.vpcLink",
    "a VPC link's security groups cannot change; AWS would have to replace the VPC link",
    none_is_a_value=True,
)  # fmt: skip
IMMUTABLE = (
    Immutable(keys.VPC_LINK, "subnetIds", list, "spec.vpc.subnetIds",
              "a VPC link's subnets cannot change; AWS would have to replace the VPC link"),
    VPC_LINK_GROUPS,
    Immutable(keys.LOAD_BALANCER, "securityGroups", list, "spec.vpc.securityGroups.loadBalancer",
              "an NLB created without security groups can never get one, and one created "
              "with them cannot lose them all", none_is_a_value=True),
    Immutable(keys.TARGET_GROUP, "port", int, "input ingressGateway.servicePort",
              "a target group's port cannot change; AWS would have to replace it"),
    Immutable(keys.TARGET_GROUP, "protocol", str, "the target group's protocol",
              "a target group's protocol cannot change; AWS would have to replace it"),
    Immutable(keys.TARGET_GROUP, "vpcId", str, "spec.vpc.vpcId",
              "a target group's VPC cannot change; AWS would have to replace it"),
    Immutable(keys.TARGET_GROUP, "targetType", str, "the target group's target type",
              "a target group's target type cannot change; AWS would have to replace it"),
    *(Immutable(group, "vpcId", str, "spec.vpc.vpcId",
                "a security group's VPC cannot change; AWS would have to replace it")
      for group in (keys.VPC_LINK_SECURITY_GROUP, keys.LOAD_BALANCER_SECURITY_GROUP)),
)  # fmt: skip


def _comparable(value: Any) -> Any:  # noqa: ANN401
    """Lists as sets (AWS keeps no order), nothing and an empty list alike."""
    if value is None or value == []:
        return None
    if isinstance(value, list):
        return sorted(str(item) for item in value)
    return value


def _well_formed(rule: Immutable, value: Any) -> bool:  # noqa: ANN401
    """Whether an observed value is one this function could have sent: else it tells nothing.

    Only a value of the type this function sends there counts: a number where a VPC id
    goes was written by someone else, and refusing the claim over it would block the
    environment on a value no AWS resource was ever made from.
    """
    if value is None:
        return True
    if rule.sends is list:
        return isinstance(value, list) and all(isinstance(item, str) and item for item in value)
    if rule.sends is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str) and bool(value)


def _changed(rule: Immutable, sent: Any, wanted: Any) -> bool:  # noqa: ANN401
    before, after = _comparable(sent), _comparable(wanted)
    if rule.key == keys.LOAD_BALANCER:
        # An NLB created with groups may swap them; adding the first or dropping all is refused.
        return (before is None) != (after is None)
    # Nothing wanted is no change: the provider keeps what AWS reports.
    if after is None or (before is None and not rule.none_is_a_value):
        return False
    return bool(before != after)


def check(observed: Observed, desired: Iterable[Desired]) -> None:
    """Refuse a desired change to an observed resource that AWS would have to replace.

    Raises:
        InvalidError: Names the claim or input field, both values and why.
    """
    wanted = {item.key: item.manifest for item in desired if item.manifest is not None}
    for rule in IMMUTABLE:
        manifest = wanted.get(rule.key)
        if manifest is None or rule.key not in observed:
            continue
        if not observed.holds_object(rule.key, "spec", "forProvider"):
            # No spec.forProvider observed: what was sent is unknown, so no change can be told.
            continue
        new = manifest.get("spec", {}).get("forProvider", {}).get(rule.field)
        old = whole_numbers(observed.sent(rule.key, rule.field))  # Struct numbers are floats
        if _well_formed(rule, old) and _changed(rule, old, new):
            raise refusal(rule, old, repr(new))


def refusal(rule: Immutable, old: Any, new: str) -> InvalidError:  # noqa: ANN401
    """The error refusing a change: the claim or input field, both values and why."""
    return InvalidError(
        f"{rule.source}: would change {rule.key} {rule.field} from {old!r} to {new}, but "
        f"{rule.why}; keep the old value, or delete and recreate the environment"
    )
