"""The claim's field patterns: each accepts a whole valid value and nothing around it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import pytest
import re2
from pydantic import StringConstraints, TypeAdapter, ValidationError

from function.model.types import PATTERN_HINTS, VpcLinkId, duration_ms, positive_duration

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = [
    ROOT / "xrds" / "xrd-legacy.yaml",
    ROOT / "xrds" / "xrd-v2.yaml",
    ROOT / "package" / "input" / "vclusterenvironment.fn.platform.example.org_inputs.yaml",
]

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
    "a Kubernetes object name": "default",
    "a Kubernetes label key": "app.kubernetes.io/name",
    "a Kubernetes label value": "ingressgateway",
    "an HTTP path": "/healthz/ready",
    "a Helm repository URL": "https://charts.loft.sh",
    "a Helm chart name": "vcluster",
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


def _vpc_link_patterns() -> list[str]:
    """Every vpcLinkId pattern the XRDs and the input CRD give the API server."""
    patterns = []
    for path in SCHEMAS:
        found = re.findall(r"vpcLinkId:\n(?: +[a-zA-Z].*\n)*? +pattern: '(.*)'", path.read_text())
        patterns += found
    assert len(patterns) == len(SCHEMAS), patterns
    return patterns


@pytest.mark.parametrize(
    ("vpc_link_id", "valid"),
    [
        # AWS CLI examples for HTTP APIs (aws/aws-cli awscli/examples/apigatewayv2/
        # create-vpc-link.rst and get-vpc-link.rst): "VpcLinkId": "abcd123", VpcLinkVersion V2.
        pytest.param("abcd123", True, id="aws-cli-create-vpc-link"),
        # API Gateway developer guide, "Set up a private integration": a VPC link V2 given as
        # --connection-id bbb111.
        pytest.param("bbb111", True, id="developer-guide-connection-id"),
        # AWS documents no pattern; its ids are lower-case letters and digits, 6 or 7 in every
        # example; 12 leaves room. A name where the id belongs is the usual mistake.
        pytest.param("vpclink-prod", False, id="name-not-id"),
        # The CDK's placeholder 'us-east-1_oiuR12Abd' is a Cognito pool id, not a VPC link's.
        pytest.param("us-east-1_oiuR12Abd", False, id="cdk-placeholder"),
        # Upper case never appears in an API Gateway id.
        pytest.param("ABCD123", False, id="upper-case"),
        # Five characters: shorter than any id AWS shows.
        pytest.param("abc12", False, id="too-short"),
    ],
)
def test_vpc_link_id_format(vpc_link_id: str, *, valid: bool) -> None:
    """The function and every schema agree with the VPC link ids AWS's own examples show."""
    try:
        TypeAdapter(VpcLinkId).validate_python(vpc_link_id)
    except ValidationError:
        accepted = False
    else:
        accepted = True
    assert accepted is valid
    for pattern in _vpc_link_patterns():
        assert (re2.search(pattern, vpc_link_id) is not None) is valid, pattern
