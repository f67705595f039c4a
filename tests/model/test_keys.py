"""Keys made per destination: valid label values (Usages select by them), one per destination."""

from __future__ import annotations

import re

import pytest

from function.model import keys

# A label value: at most 63 characters, alphanumeric at both ends (Kubernetes ObjectMeta).
LABEL_VALUE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
DESTINATIONS = [
    "sg-0123456789abcdef0",
    "sg-01234567",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "255.255.255.255/32",
    "2600:1f18:aa::/56",
    "2600:1f18:aaaa:bbbb:cccc:dddd:eeee:ffff/128",
    "::/0",
]


@pytest.mark.parametrize("destination", DESTINATIONS)
@pytest.mark.parametrize("port", [80, 15021, 65535])
def test_rule_keys_are_label_values(destination: str, port: int) -> None:
    """Each rule key is also its resource label's value, so it must be a valid one."""
    for key in (keys.vpc_link_egress(destination), keys.load_balancer_egress(port, destination)):
        assert LABEL_VALUE.fullmatch(key), key


def test_rule_keys_are_distinct() -> None:
    """Two destinations, or two ports, never share a key (one would replace the other)."""
    made = [keys.load_balancer_egress(p, d) for p in (80, 8080, 15021) for d in DESTINATIONS]
    made += [keys.vpc_link_egress(d) for d in [None, *DESTINATIONS]]
    assert len(made) == len(set(made))


@pytest.mark.parametrize(
    ("extra", "readable", "why"),
    [
        (0, True, "A key of exactly 63 characters is a label value as it is: kept readable."),
        (1, False, "One character more is not: the destination is replaced by its digest."),
    ],
)
def test_rule_keys_readable_up_to_the_label_limit(extra: int, readable: bool, why: str) -> None:
    """A destination is spelled out in its key while the key fits a label value."""
    stem = f"{keys.VPC_LINK_EGRESS}-"
    destination = "sg-" + "a" * (63 - len(stem) - len("sg-") + extra)
    key = keys.vpc_link_egress(destination)
    assert (key == stem + destination) is readable, why
    assert LABEL_VALUE.fullmatch(key), why
