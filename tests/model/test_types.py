"""The claim's field patterns: each accepts a whole valid value and nothing around it."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import StringConstraints, TypeAdapter, ValidationError

from function.model.types import PATTERN_HINTS, duration_ms, positive_duration

# A valid value per pattern, found by its hint (every pattern the claim and input use has one).
VALID = {
    "a DNS label": "team-a",
    "a subnet id": "subnet-0a1b2c3d",
    "a security group id": "sg-0a1b2c3d",
    "a VPC id": "vpc-0123abcd",
    "an AWS region": "us-east-1",
    "a lower-case DNS domain": "api.example.com",
    "an ELB listener ARN": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/a/"
    "0123456789abcdef/0123456789abcdef",
    "an HTTP header name": "x-api-version",
    "printable ASCII": "v2",
    "an OAuth scope": "orders:read",
    "an API Gateway VPC link id": "abc123",
    "a stage name": "prod",
    "a URL path prefix": "/orders",
    "a CORS origin": "https://app.example.com",
    "a volume size": "8Gi",
    "an IPv4 or IPv6 CIDR block": "10.0.0.0/16",
    "an exact chart version": "1.2.3",
    "an https:// URL": "https://auth.example.com/",
    "an identity source": "$request.header.Authorization",
    "a duration": "10s",
}
# pydantic searches a pattern anywhere in the value: without '^' the first passes, without
# '$' the second (no pattern accepts a space first or a line break anywhere).
AROUND = [
    pytest.param(" {}", id="leading-space"),
    pytest.param("{}\nx", id="trailing-line"),
]


def _example(hint: str) -> str:
    found = [value for start, value in VALID.items() if hint.startswith(start)]
    assert len(found) == 1, f"no single valid example for {hint!r}"
    return found[0]


PATTERNS = [
    pytest.param(pattern, _example(hint), id=hint[:24]) for pattern, hint in PATTERN_HINTS.items()
]


@pytest.mark.parametrize(("pattern", "value"), PATTERNS)
def test_valid_value_accepted(pattern: str, value: str) -> None:
    """The valid example passes: the refusals below are not a blanket refusal."""
    kind = Annotated[str, StringConstraints(pattern=pattern)]
    assert TypeAdapter(kind).validate_python(value) == value


@pytest.mark.parametrize("template", AROUND)
@pytest.mark.parametrize(("pattern", "value"), PATTERNS)
def test_pattern_is_anchored(pattern: str, value: str, template: str) -> None:
    """A valid value with anything before or after it is refused, not silently accepted."""
    kind = Annotated[str, StringConstraints(pattern=pattern)]
    with pytest.raises(ValidationError):
        TypeAdapter(kind).validate_python(template.format(value))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("0ms", None, id="zero-is-no-timeout"),
        pytest.param("0s", None, id="zero-seconds"),
        pytest.param("1ms", "1ms", id="one-millisecond-is-a-timeout"),
        pytest.param(None, None, id="none"),
    ],
)
def test_positive_duration(text: str | None, expected: str | None) -> None:
    """A zero timeout means none; anything above zero is kept as written."""
    assert positive_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "ms"),
    [("500ms", 500), ("10s", 10_000), ("2m", 120_000), ("1h", 3_600_000)],
)
def test_duration_ms(text: str, ms: int) -> None:
    """Each unit converts to milliseconds."""
    assert duration_ms(text) == ms


def test_duration_ms_refuses_text() -> None:
    """A value that is no duration says so, quoting it."""
    with pytest.raises(ValueError, match=r"^'soon' is not a duration such as 500ms, 10s or 1m$"):
        duration_ms("soon")
