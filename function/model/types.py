"""The field types the claim and the input are made of, and how to say what each accepts.

Each pattern has a hint in words, so that a rejected value is explained
(``errors.describe_error``) rather than shown as a regular expression.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic import Strict as StrictScalar

_DNS_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
# Kubernetes object names (RFC 1123 subdomains) and label keys and values, as the API server
# checks them (apimachinery validation: IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue).
_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_DNS_SUBDOMAIN = f"^{_SUBDOMAIN}$"
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_KEY = f"^({_SUBDOMAIN}/)?{_LABEL_NAME}$"
_LABEL_VALUE = f"^({_LABEL_NAME})?$"
# A target group's health check path: RFC 3986 path and query characters after a '/'.
_HTTP_PATH = r"^/[-A-Za-z0-9._~!$&+,;=:@%/?]*$"
# A Helm chart repository (https, or oci for a registry) and a chart name as Helm creates
# one (helm.sh/helm/v3 pkg/chartutil: ^[a-zA-Z0-9._-]+$, at most 250 characters).
_CHART_REPOSITORY = r"^(https?|oci)://[-A-Za-z0-9._~!$&+,;=:@%/?#]+$"
_CHART_NAME = r"^[A-Za-z0-9._-]+$"
# AWS resource ids: the prefix, '-' and 8 (older) or 17 lower-case hex digits.
_SUBNET = r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$"
_SECURITY_GROUP = r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$"
_VPC = r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$"
_REGION = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"
_DOMAIN = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_LISTENER_ARN = (
    r"^arn:aws(-cn|-us-gov)?:elasticloadbalancing:[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9]{12}:"
    r"listener/(net|app)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}$"
)
_HEADER_NAME = r"^[A-Za-z0-9!#$%&*+.^_`|~-]+$"
_PRINTABLE = r"^[!-~]([ !-~]*[!-~])?$"
_SCOPE = r"^[!#-\[\]-~]+$"
_VPC_LINK_ID = r"^[a-z0-9]{6,12}$"
_STAGE = r"^(\$default|[A-Za-z0-9_-]{1,128})$"
_PATH_PREFIX = r"^/[-A-Za-z0-9._~/]*$"
_ORIGIN = r"^(\*|https?://[-a-z0-9.*]+(:[0-9]{1,5})?)$"
HTTPS_URL = r"^https://[-a-zA-Z0-9.:/_%~]+$"
IDENTITY = r"^\$request\.header\.[A-Za-z0-9-]+$"
_DURATION = r"^[0-9]{1,6}(ms|s|m|h)$"
_CIDR = (
    r"^(((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])"
    r"/([0-9]|[12][0-9]|3[0-2])|[0-9a-f:]{2,39}/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$"
)
SEMVER = r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$"
VOLUME_SIZE = r"^[1-9][0-9]{0,5}(Mi|Gi|Ti)$"

# What each pattern means, for error messages a person can act on.
PATTERN_HINTS = {
    _DNS_LABEL: "a DNS label (lower-case letters, digits and '-', starting with a letter)",
    _DNS_SUBDOMAIN: "a Kubernetes object name (lower-case letters, digits, '-' and '.')",
    LABEL_KEY: "a Kubernetes label key ([prefix/]name, the name at most 63 characters)",
    _LABEL_VALUE: (
        "a Kubernetes label value (letters, digits, '-', '_' and '.', alphanumeric at both ends)"
    ),
    _HTTP_PATH: "an HTTP path starting with '/' (RFC 3986 characters, no spaces)",
    _CHART_REPOSITORY: "a Helm repository URL (https://, http:// or oci://, no spaces)",
    _CHART_NAME: "a Helm chart name (letters, digits, '.', '_' and '-')",
    _SUBNET: "a subnet id ('subnet-' then 8 or 17 lower-case hex digits)",
    # A group name where the id belongs is the usual mistake: AWS wants the id.
    _SECURITY_GROUP: "a security group id ('sg-' then 8 or 17 lower-case hex digits, not a name)",
    _VPC: "a VPC id ('vpc-' then 8 or 17 lower-case hex digits)",
    _REGION: "an AWS region such as us-east-1",
    _DOMAIN: "a lower-case DNS domain name with at least two labels",
    _LISTENER_ARN: (
        "an ELB listener ARN (arn:aws:elasticloadbalancing:<region>:<12-digit account>:"
        "listener/net|app/<name>/<16 hex>/<16 hex>)"
    ),
    _HEADER_NAME: "an HTTP header name",
    _PRINTABLE: "printable ASCII without line breaks or surrounding spaces",
    _SCOPE: "an OAuth scope (printable ASCII without spaces, '\"' or '\\')",
    _VPC_LINK_ID: "an API Gateway VPC link id (6 to 12 lower-case letters and digits)",
    _STAGE: "a stage name ('$default', or letters, digits, '-' and '_')",
    _PATH_PREFIX: "a URL path prefix starting with '/'",
    _ORIGIN: "a CORS origin such as https://app.example.com",
    SEMVER: "an exact chart version such as 1.2.3",
    VOLUME_SIZE: "a volume size such as 8Gi",
    _CIDR: "an IPv4 or IPv6 CIDR block such as 10.0.0.0/16",
    HTTPS_URL: "an https:// URL",
    IDENTITY: "an identity source such as $request.header.Authorization",
    _DURATION: "a duration such as 500ms, 10s or 1m",
}

DnsLabel = Annotated[
    str,
    StringConstraints(pattern=_DNS_LABEL, max_length=63),
]
# The name with '-' and 16 hex digits of the XR's identity in a 63-character DNS label (a
# unique name such as the tenant header's); the host namespace cuts the name to fit.
ENV_NAME_MAX = 45
EnvName = Annotated[str, StringConstraints(pattern=_DNS_LABEL, max_length=ENV_NAME_MAX)]
# Lengths from apimachinery (object names, label names and values, label key prefixes), AWS
# (ModifyTargetGroup HealthCheckPath: 1 to 1024) and Helm (chart names).
SUBDOMAIN_MAX = 253
LABEL_VALUE_MAX = 63
LABEL_KEY_MAX = SUBDOMAIN_MAX + 1 + LABEL_VALUE_MAX
HEALTH_CHECK_PATH_MAX = 1024
URL_MAX = 2048
CHART_NAME_MAX = 250
CHART_VERSION_MAX = 64
DnsSubdomain = Annotated[str, StringConstraints(pattern=_DNS_SUBDOMAIN, max_length=SUBDOMAIN_MAX)]
LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY, max_length=LABEL_KEY_MAX)]
LabelValue = Annotated[str, StringConstraints(pattern=_LABEL_VALUE, max_length=LABEL_VALUE_MAX)]
HttpPath = Annotated[str, StringConstraints(pattern=_HTTP_PATH, max_length=HEALTH_CHECK_PATH_MAX)]
ChartRepository = Annotated[str, StringConstraints(pattern=_CHART_REPOSITORY, max_length=URL_MAX)]
ChartName = Annotated[str, StringConstraints(pattern=_CHART_NAME, max_length=CHART_NAME_MAX)]
SubnetId = Annotated[str, StringConstraints(pattern=_SUBNET)]
Cidr = Annotated[str, StringConstraints(pattern=_CIDR)]
# Free text that reaches a header, a token check or AWS: bounded, one line.
TEXT_MAX = 256
HeaderName = Annotated[str, StringConstraints(pattern=_HEADER_NAME, max_length=TEXT_MAX)]
Text = Annotated[str, StringConstraints(pattern=_PRINTABLE, max_length=TEXT_MAX)]
Scope = Annotated[str, StringConstraints(pattern=_SCOPE, max_length=TEXT_MAX)]
SecurityGroupId = Annotated[str, StringConstraints(pattern=_SECURITY_GROUP)]
VpcId = Annotated[str, StringConstraints(pattern=_VPC)]
# The longest region name today is 14 characters (us-isob-east-1).
REGION_MAX = 32
Region = Annotated[str, StringConstraints(pattern=_REGION, max_length=REGION_MAX)]
DomainName = Annotated[
    str,
    StringConstraints(pattern=_DOMAIN, max_length=253),
]
# At most 161 characters with the longest partition and a 32-character region.
ListenerArn = Annotated[str, StringConstraints(pattern=_LISTENER_ARN, max_length=TEXT_MAX)]
VpcLinkId = Annotated[str, StringConstraints(pattern=_VPC_LINK_ID)]
StageName = Annotated[str, StringConstraints(pattern=_STAGE)]
# The XRD compares the path prefixes of every pair of up to 300 apps in one CEL rule, whose
# estimated cost grows with this bound: at 256 Kubernetes (1.35) refuses the derived CRDs for
# exceeding the CEL cost budget; at 128 the rule costs about half of it.
MAX_PATH_PREFIX = 128
PathPrefix = Annotated[str, StringConstraints(pattern=_PATH_PREFIX, max_length=MAX_PATH_PREFIX)]
RewritePath = Annotated[str, StringConstraints(pattern=_PATH_PREFIX, max_length=256)]
# 'https://', a 253-character host and ':65535'.
ORIGIN_MAX = 267
Origin = Annotated[str, StringConstraints(pattern=_ORIGIN, max_length=ORIGIN_MAX)]
# Scalars are strict: "8080", true or "yes" are not numbers or booleans. protobuf
# Struct carries every number as a double, so whole floats become ints before
# validation (see ``whole_numbers``).
Int = Annotated[int, StrictScalar()]
Bool = Annotated[bool, StrictScalar()]
Float = Annotated[float, StrictScalar(), Field(allow_inf_nan=False)]
Port = Annotated[Int, Field(ge=1, le=65535)]
Duration = Annotated[str, StringConstraints(pattern=_DURATION)]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"]

_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000}
_DURATION_PARTS = re.compile(r"(\d+)(ms|s|m|h)")


class Strict(BaseModel):
    """Base for every model: unknown fields are errors, never silently dropped."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=False, validate_by_alias=True
    )


def whole_numbers(value: Any) -> Any:  # noqa: ANN401
    """Integral floats (from protobuf Struct doubles) as ints, everywhere in a value."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def duration_ms(text: str) -> int:
    """Milliseconds in a spec duration such as '500ms', '10s', '1m' or '2h'."""
    found = _DURATION_PARTS.fullmatch(text)
    if found is None:
        msg = f"{text!r} is not a duration such as 500ms, 10s or 1m"
        raise ValueError(msg)
    return int(found.group(1)) * _UNIT_MS[found.group(2)]


def positive_duration(text: str | None) -> str | None:
    """A duration, or None for none or zero: a zero timeout means no timeout."""
    return text if text is not None and duration_ms(text) > 0 else None
