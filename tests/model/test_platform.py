"""The function input: what ``parse_input`` keeps, and every bound taken at its limit.

The refusals one past each bound, with their exact messages, are in tests/data/bad-inputs.yaml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from function.model.platform import PRIVATE_RANGES, FunctionInput, parse_input

if TYPE_CHECKING:
    from collections.abc import Callable

CIDRS = [f"10.{number}.0.0/16" for number in range(50)]
GROUPS = [f"sg-0123abc{number}" for number in range(5)]
LONGEST_PREFIX = "p" * 253 + "/app"
SIXTEEN_LABELS = {f"label{number}": "x" for number in range(16)}


def _region(found: FunctionInput) -> Any:
    return found.region


def _cidr_blocks(found: FunctionInput) -> Any:
    return found.vpc_cidr_blocks


def _selector(found: FunctionInput) -> Any:
    return found.ingress_gateway.selector


def _groups(found: FunctionInput) -> Any:
    return found.ingress_gateway.target_security_group_ids


def _ranges(found: FunctionInput) -> Any:
    return found.ingress_gateway.trusted_source_ranges


def _poll(found: FunctionInput) -> Any:
    return found.poll_seconds


@pytest.mark.parametrize(
    ("raw", "read", "expected", "why"),
    [
        pytest.param(None, _region, "us-east-1",
                     "No input at all (a Composition without one) means every default.",
                     id="no-input"),
        pytest.param(None, _cidr_blocks, list(PRIVATE_RANGES),
                     "By default composed groups may send to every private range.",
                     id="no-input-cidr-blocks"),
        pytest.param({"region": "eu-west-1"}, _region, "eu-west-1",
                     "A given setting is kept, never replaced by its default.", id="given"),
        pytest.param({"vpcCidrBlocks": CIDRS[:10]}, _cidr_blocks, CIDRS[:10],
                     "Ten distinct CIDR blocks are a VPC's default maximum, accepted in order.",
                     id="cidr-blocks-at-bound"),
        pytest.param({"vpcCidrBlocks": ["10.0.0.0/16"]}, _cidr_blocks, ["10.0.0.0/16"],
                     "One block appears once: a single value is no repeat.", id="one-cidr-block"),
        pytest.param({"ingressGateway": {"targetSecurityGroupIds": GROUPS}}, _groups, GROUPS,
                     "Five distinct target groups are the most accepted.", id="groups-at-bound"),
        pytest.param({"ingressGateway": {"trustedSourceRanges": CIDRS}}, _ranges, CIDRS,
                     "Fifty trusted source ranges are the most accepted.", id="ranges-at-bound"),
        pytest.param({"ingressGateway": {"selector": {LONGEST_PREFIX: "x"}}}, _selector,
                     {LONGEST_PREFIX: "x"},
                     "A label key prefix of exactly 253 characters is a valid DNS subdomain.",
                     id="selector-prefix-at-bound"),
        pytest.param({"ingressGateway": {"selector": SIXTEEN_LABELS}}, _selector, SIXTEEN_LABELS,
                     "Sixteen selector labels are the most accepted.", id="selector-at-bound"),
        pytest.param({"pollSeconds": 600}, _poll, 600,
                     "Polling every ten minutes is the slowest accepted.", id="poll-at-bound"),
        pytest.param({"pollSeconds": 1.0}, _poll, 1,
                     "A whole number sent as a float (as a Struct holds it) is that number.",
                     id="poll-whole-float"),
    ],
)  # fmt: skip
def test_parse_input_accepts(
    raw: dict[str, Any] | None, read: Callable[[FunctionInput], Any], expected: Any, why: str
) -> None:
    """Valid inputs, many at a bound, are accepted with exactly the values given."""
    assert read(parse_input(raw)) == expected, why
