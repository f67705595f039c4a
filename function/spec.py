"""Typed views of the claim spec and the function input.

Everything the builders read comes from these models, so a value that passes
validation here is safe to put into a manifest. Validation errors are turned
into one readable Fatal result by ``describe_error``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic import Strict as StrictScalar

# AWS's own limits, checked here so a claim never reaches a provider with them broken.
MAX_SUBNETS = 10  # a VPC link takes at most 10 subnets
MAX_ROUTES = 300  # routes per HTTP API
MAX_TIMEOUT_MS = 30_000  # HTTP API integration timeout, not raisable
MIN_TIMEOUT_MS = 50
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

_DNS_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
_SUBNET = r"^subnet-[0-9a-z]{1,32}$"
_SECURITY_GROUP = r"^sg-[0-9a-z][-0-9a-z]{0,62}$"
_VPC = r"^vpc-[0-9a-f]{8,17}$"
_REGION = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"
_DOMAIN = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_LISTENER_ARN = r"^arn:aws[-a-z]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:listener/net/.+$"
_VPC_LINK_ID = r"^[a-z0-9]{6,12}$"
_STAGE = r"^(\$default|[A-Za-z0-9_-]{1,128})$"
_PATH_PREFIX = r"^/[-A-Za-z0-9._~/]*$"
_ORIGIN = r"^(\*|https?://[-a-z0-9.*]+(:[0-9]{1,5})?)$"
_HTTPS_URL = r"^https://[-a-zA-Z0-9.:/_%~]+$"
_IDENTITY = r"^\$request\.header\.[A-Za-z0-9-]+$"
_DURATION = r"^[0-9]{1,6}(ms|s|m|h)$"
_SEMVER = r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$"

# What each pattern means, for error messages a person can act on.
PATTERN_HINTS = {
    _DNS_LABEL: "a DNS label (lower-case letters, digits and '-', starting with a letter)",
    _SUBNET: "a subnet id ('subnet-' then lower-case letters and digits)",
    _SECURITY_GROUP: "a security group id ('sg-' then lower-case letters, digits and '-')",
    _VPC: "a VPC id ('vpc-' then 8 or 17 hex digits)",
    _REGION: "an AWS region such as us-east-1",
    _DOMAIN: "a lower-case DNS domain name with at least two labels",
    _LISTENER_ARN: "an NLB listener ARN (arn:aws:elasticloadbalancing:...:listener/net/...)",
    _VPC_LINK_ID: "an API Gateway VPC link id (6 to 12 lower-case letters and digits)",
    _STAGE: "a stage name ('$default', or letters, digits, '-' and '_')",
    _PATH_PREFIX: "a URL path prefix starting with '/'",
    _ORIGIN: "a CORS origin such as https://app.example.com",
    _SEMVER: "an exact chart version such as 1.2.3",
    _HTTPS_URL: "an https:// URL",
    _IDENTITY: "an identity source such as $request.header.Authorization",
    _DURATION: "a duration such as 500ms, 10s or 1m",
}

DnsLabel = Annotated[
    str,
    StringConstraints(pattern=_DNS_LABEL, max_length=63),
]
SubnetId = Annotated[str, StringConstraints(pattern=_SUBNET)]
SecurityGroupId = Annotated[str, StringConstraints(pattern=_SECURITY_GROUP)]
VpcId = Annotated[str, StringConstraints(pattern=_VPC)]
Region = Annotated[str, StringConstraints(pattern=_REGION)]
DomainName = Annotated[
    str,
    StringConstraints(pattern=_DOMAIN, max_length=253),
]
ListenerArn = Annotated[
    str,
    StringConstraints(pattern=_LISTENER_ARN),
]
VpcLinkId = Annotated[str, StringConstraints(pattern=_VPC_LINK_ID)]
StageName = Annotated[str, StringConstraints(pattern=_STAGE)]
# The XRD compares the path prefixes of every pair of up to 300 apps in one CEL rule, whose
# estimated cost grows with this bound: at 256 Kubernetes (1.35) refuses the derived CRDs for
# exceeding the CEL cost budget; at 128 the rule costs about half of it.
MAX_PATH_PREFIX = 128
PathPrefix = Annotated[str, StringConstraints(pattern=_PATH_PREFIX, max_length=MAX_PATH_PREFIX)]
RewritePath = Annotated[str, StringConstraints(pattern=_PATH_PREFIX, max_length=256)]
Origin = Annotated[str, StringConstraints(pattern=_ORIGIN)]
# Scalars are strict: "8080", true or "yes" are not numbers or booleans. protobuf
# Struct carries every number as a double, so whole floats become ints before
# validation (see ``_whole_numbers``).
Int = Annotated[int, StrictScalar()]
Bool = Annotated[bool, StrictScalar()]
Float = Annotated[float, StrictScalar(), Field(allow_inf_nan=False)]
Port = Annotated[Int, Field(ge=1, le=65535)]
Duration = Annotated[str, StringConstraints(pattern=_DURATION)]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"]
DEFAULT_CORS_METHODS: list[HttpMethod] = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# Crossplane's own fields on a legacy XR's spec (v2 XRs keep them under spec.crossplane).
CROSSPLANE_SPEC_FIELDS = frozenset(
    {
        "claimRef",
        "compositionRef",
        "compositionRevisionRef",
        "compositionRevisionSelector",
        "compositionSelector",
        "compositionUpdatePolicy",
        "crossplane",
        "environmentConfigRefs",
        "publishConnectionDetailsTo",
        "resourceRefs",
        "writeConnectionSecretToRef",
    }
)


class Strict(BaseModel):
    """Base for every model: unknown fields are errors, never silently dropped."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=False, validate_by_alias=True
    )


class Include(StrEnum):
    """Optional parts of an environment."""

    GRAFANA = "grafana"
    PROMETHEUS = "prometheus"
    API_GATEWAY = "apiGatewaySupport"


class Vpc(Strict):
    """Where the load balancer and VPC link live."""

    vpc_id: VpcId | None = Field(default=None, alias="vpcId")
    subnet_ids: list[SubnetId] = Field(default_factory=list, alias="subnetIds")
    security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list, alias="securityGroupIds"
    )

    @model_validator(mode="after")
    def _limits(self) -> Self:
        if len(self.subnet_ids) > MAX_SUBNETS:
            count = len(self.subnet_ids)
            msg = f"subnetIds: {count} subnets given; a VPC link takes at most {MAX_SUBNETS}"
            raise ValueError(msg)
        _unique(self.subnet_ids, "subnetIds")
        _unique(self.security_group_ids, "securityGroupIds")
        return self


class Cors(Strict):
    """CORS for the HTTP API. Nothing is allowed unless listed."""

    allow_origins: list[Origin] = Field(default_factory=list, alias="allowOrigins")
    allow_methods: list[HttpMethod] = Field(
        default_factory=lambda: list(DEFAULT_CORS_METHODS), alias="allowMethods"
    )
    allow_headers: list[str] = Field(
        default_factory=lambda: ["authorization", "content-type"], alias="allowHeaders"
    )
    allow_credentials: Bool = Field(default=False, alias="allowCredentials")
    max_age: Int = Field(default=300, ge=0, le=86400, alias="maxAge")

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.allow_credentials and "*" in self.allow_origins:
            msg = "allowOrigins: '*' cannot be combined with allowCredentials: true"
            raise ValueError(msg)
        return self


class Throttling(Strict):
    """Stage-wide request throttling."""

    burst_limit: Int = Field(default=100, ge=0, le=5000, alias="burstLimit")
    rate_limit: Float = Field(default=50.0, ge=0, le=10000, alias="rateLimit")


class AccessLogs(Strict):
    """Access logs to CloudWatch Logs."""

    enabled: Bool = False
    retention_days: Int = Field(default=30, alias="retentionDays")

    @model_validator(mode="after")
    def _retention(self) -> Self:
        if self.retention_days not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
            days = self.retention_days
            msg = f"retentionDays: {days} is not a retention CloudWatch accepts ({allowed})"
            raise ValueError(msg)
        return self


class ApiGateway(Strict):
    """HTTP API options a claim may set."""

    stage_name: StageName | None = Field(default=None, alias="stageName")
    cors: Cors = Field(default_factory=Cors)
    throttling: Throttling | None = None
    integration_timeout_ms: Int | None = Field(
        default=None, ge=MIN_TIMEOUT_MS, le=MAX_TIMEOUT_MS, alias="integrationTimeoutMs"
    )
    access_logs: AccessLogs = Field(default_factory=AccessLogs, alias="accessLogs")
    listener_arn: ListenerArn | None = Field(default=None, alias="listenerArn")
    vpc_link_id: VpcLinkId | None = Field(default=None, alias="vpcLinkId")
    jwt: Jwt | None = None
    custom_domain: Bool = Field(default=True, alias="customDomain")


class Jwt(Strict):
    """A JWT authorizer on the HTTP API (native to HTTP APIs)."""

    issuer: Annotated[str, StringConstraints(pattern=_HTTPS_URL)]
    audiences: Annotated[list[str], Field(min_length=1, max_length=50)]
    identity_source: str = Field(
        default="$request.header.Authorization", alias="identitySource", pattern=_IDENTITY
    )


class RouteAuth(Strict):
    """Authorization of one app's API routes."""

    type: Literal["JWT", "NONE"] = "JWT"
    scopes: list[Annotated[str, StringConstraints(min_length=1, max_length=256)]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _scopes(self) -> Self:
        if self.type == "NONE" and self.scopes:
            msg = "scopes: authorization scopes need type JWT"
            raise ValueError(msg)
        return self


class Destination(Strict):
    """A weighted destination of a canary split."""

    service: DnsLabel
    namespace: DnsLabel | None = None
    port: Port | None = None
    weight: Int = Field(ge=0, le=100)


class HeaderCanary(Strict):
    """Requests carrying a header value go to another service (e.g. x-api-version: v2)."""

    header: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][-a-z0-9]*$", max_length=100)]
    value: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    service: DnsLabel
    namespace: DnsLabel | None = None
    port: Port | None = None


class Retries(Strict):
    """Retries by the ingress gateway."""

    attempts: Int = Field(default=2, ge=0, le=10)
    per_try_timeout: Duration | None = Field(default=None, alias="perTryTimeout")
    retry_on: str = Field(
        default="5xx,connect-failure,reset", alias="retryOn", pattern=r"^[-a-z0-9,]+$"
    )


class CircuitBreaker(Strict):
    """Connection pool limits and outlier detection (an Istio DestinationRule)."""

    max_connections: Int = Field(default=1024, ge=1, alias="maxConnections")
    max_pending_requests: Int = Field(default=1024, ge=1, alias="maxPendingRequests")
    consecutive_5xx_errors: Int = Field(default=5, ge=1, alias="consecutive5xxErrors")
    interval: Duration = "10s"
    base_ejection_time: Duration = Field(default="30s", alias="baseEjectionTime")
    max_ejection_percent: Int = Field(default=50, ge=0, le=100, alias="maxEjectionPercent")


class App(Strict):
    """One application inside the vCluster, reached by path prefix (and optionally host)."""

    name: DnsLabel
    path_prefix: PathPrefix = Field(default="/", alias="pathPrefix")
    hosts: list[DomainName] = Field(default_factory=list, max_length=16)
    service: DnsLabel
    namespace: DnsLabel = "default"
    port: Port = 80
    destinations: list[Destination] = Field(default_factory=list, max_length=2)
    header_canary: HeaderCanary | None = Field(default=None, alias="headerCanary")
    retries: Retries | None = None
    timeout: Duration | None = None
    rewrite: RewritePath | None = None
    cors: Cors | None = None
    circuit_breaker: CircuitBreaker | None = Field(default=None, alias="circuitBreaker")
    auth: RouteAuth | None = None
    throttling: Throttling | None = None

    @model_validator(mode="after")
    def _destinations(self) -> Self:
        if self.destinations:
            if len(self.destinations) != 2:  # noqa: PLR2004
                msg = "destinations: a canary split needs exactly two destinations"
                raise ValueError(msg)
            total = sum(d.weight for d in self.destinations)
            if total != 100:  # noqa: PLR2004
                msg = f"destinations: weights add up to {total}; they must add up to 100"
                raise ValueError(msg)
        return self

    @property
    def api_routes(self) -> bool:
        """Whether this app needs API Gateway routes of its own (auth or throttling)."""
        return self.auth is not None or self.throttling is not None


class Dns(Strict):
    """Route53 wiring for the custom domain."""

    hosted_zone_id: Annotated[str, StringConstraints(pattern=r"^Z[A-Z0-9]{1,31}$")] | None = Field(
        default=None, alias="hostedZoneId"
    )


class EnvironmentSpec(Strict):
    """The claim's (or XR's) spec."""

    name: DnsLabel
    domain: DomainName | None = None
    region: Region | None = None
    vpc: Vpc = Field(default_factory=Vpc)
    include: list[Include] = Field(default_factory=list)
    api_gateway: ApiGateway = Field(default_factory=ApiGateway, alias="apiGateway")
    apps: list[App] = Field(default_factory=list)
    dns: Dns = Field(default_factory=Dns)
    ingress_mode: Literal["istio", "gatewayAPI"] | None = Field(default=None, alias="ingressMode")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _unique([str(i) for i in self.include], "include")
        _unique([a.name for a in self.apps], "apps[].name")
        _unique([",".join(sorted(a.hosts)) + a.path_prefix for a in self.apps], "apps[].pathPrefix")
        if len(self.apps) > MAX_ROUTES:
            count = len(self.apps)
            msg = f"apps: {count} apps given; at most {MAX_ROUTES} (the HTTP API route quota)"
            raise ValueError(msg)
        # Two catch-all routes, plus two for each app with its own auth or throttling.
        routes = 2 + 2 * sum(int(a.api_routes) + int(self.needs_preflight(a)) for a in self.apps)
        if routes > MAX_ROUTES:
            msg = (
                f"apps: these apps need {routes} API routes (two per app with its own auth or "
                f"throttling, two per app with CORS behind JWT, plus two); an HTTP API allows "
                f"at most {MAX_ROUTES}"
            )
            raise ValueError(msg)
        if any(a.auth is not None and a.auth.type == "JWT" for a in self.apps) and (
            self.api_gateway.jwt is None
        ):
            msg = "apiGateway.jwt: apps ask for JWT auth but no JWT authorizer is configured"
            raise ValueError(msg)
        return self

    def includes(self, part: Include) -> bool:
        """Whether the claim asks for an optional part."""
        return part in self.include

    def needs_preflight(self, app: App) -> bool:
        """Whether an app answers CORS preflights behind JWT auth (needs public OPTIONS routes)."""
        if app.cors is None:
            return False
        if app.auth is not None:
            return app.auth.type == "JWT"
        return self.api_gateway.jwt is not None

    def includes_api_gateway(self) -> bool:
        """Whether the API Gateway part is composed."""
        return Include.API_GATEWAY in self.include


class ProviderConfigs(Strict):
    """Names of the ProviderConfigs the composed resources use."""

    aws: str = "default"
    helm: str = "default"
    kubernetes: str = "default"
    kind: Literal["ClusterProviderConfig", "ProviderConfig"] = Field(
        default="ClusterProviderConfig",
        description="Kind of the configs above in namespaced (Crossplane v2) XRs.",
    )


class Chart(Strict):
    """A pinned Helm chart."""

    repository: str
    name: str
    version: Annotated[str, StringConstraints(pattern=_SEMVER)]


def _chart(repository: str, name: str, version: str) -> Any:  # noqa: ANN401
    return Field(default_factory=lambda: Chart(repository=repository, name=name, version=version))


class Charts(Strict):
    """Chart versions, pinned so that an environment never changes under a user."""

    vcluster: Chart = _chart("https://charts.loft.sh", "vcluster", "0.36.1")
    grafana: Chart = _chart("https://grafana.github.io/helm-charts", "grafana", "8.8.2")
    prometheus: Chart = _chart(
        "https://prometheus-community.github.io/helm-charts", "prometheus", "27.3.0"
    )


class IngressGateway(Strict):
    """The shared Istio ingress gateway in the host cluster."""

    namespace: DnsLabel = "istio-ingress"
    selector: dict[str, str] = Field(default_factory=lambda: {"istio": "ingressgateway"})
    service_name: DnsLabel = Field(default="istio-ingressgateway", alias="serviceName")
    service_port: Port = Field(default=80, alias="servicePort")
    health_check_port: Port = Field(default=15021, alias="healthCheckPort")
    health_check_path: str = Field(default="/healthz/ready", alias="healthCheckPath")
    gateway_name: DnsLabel = Field(
        default="shared-ingress",
        alias="gatewayName",
        description="The platform's shared Gateway API Gateway (ingressMode gatewayAPI).",
    )
    gateway_namespace: DnsLabel = Field(default="istio-ingress", alias="gatewayNamespace")
    gateway_section: DnsLabel | None = Field(default=None, alias="gatewaySection")


class Shared(Strict):
    """A listener and VPC link shared by every environment of this Composition."""

    listener_arn: ListenerArn | None = Field(default=None, alias="listenerArn")
    vpc_link_id: VpcLinkId | None = Field(default=None, alias="vpcLinkId")


class FunctionInput(Strict):
    """The function's input in the Composition: platform-wide settings."""

    api_version: Literal["vclusterenvironment.fn.platform.example.org/v1beta1"] = Field(
        default="vclusterenvironment.fn.platform.example.org/v1beta1", alias="apiVersion"
    )
    kind: Literal["Input"] = "Input"
    metadata: dict[str, Any] = Field(default_factory=dict)
    region: Region = "us-east-1"
    provider_configs: ProviderConfigs = Field(
        default_factory=ProviderConfigs, alias="providerConfigs"
    )
    charts: Charts = Field(default_factory=Charts)
    ingress_gateway: IngressGateway = Field(default_factory=IngressGateway, alias="ingressGateway")
    shared: Shared = Field(default_factory=Shared)
    stage_name: StageName = Field(default="$default", alias="stageName")
    integration_timeout_ms: Int = Field(
        default=MAX_TIMEOUT_MS, ge=MIN_TIMEOUT_MS, le=MAX_TIMEOUT_MS, alias="integrationTimeoutMs"
    )
    poll_seconds: Int = Field(default=15, ge=1, le=600, alias="pollSeconds")
    ingress_mode: Literal["istio", "gatewayAPI"] = Field(default="istio", alias="ingressMode")
    dns: Dns = Field(default_factory=Dns)


def _unique(values: list[str], field: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            msg = f"{field}: '{value}' appears more than once"
            raise ValueError(msg)
        seen.add(value)


def _whole_numbers(value: Any) -> Any:  # noqa: ANN401
    """Integral floats (from protobuf Struct doubles) as ints, everywhere in a value."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def parse_spec(raw: dict[str, Any]) -> EnvironmentSpec:
    """Validate an XR's spec, ignoring the fields Crossplane owns."""
    own = {k: v for k, v in raw.items() if k not in CROSSPLANE_SPEC_FIELDS}
    return EnvironmentSpec.model_validate(_whole_numbers(own))


def parse_input(raw: dict[str, Any] | None) -> FunctionInput:
    """Validate the function input; no input means every platform default."""
    return FunctionInput.model_validate(_whole_numbers(raw or {}))


MAX_QUOTED = 80
_VALUE_ERROR = re.compile(r"^(Value|Assertion) error, ")
# Model validators name the sub-field they reject as "field: message".
_SUB_FIELD = re.compile(
    r"^([A-Za-z][A-Za-z0-9\[\]]*(\.[A-Za-z][A-Za-z0-9\[\]]*)*): (.*)$", re.DOTALL
)


def describe_error(prefix: str, error: ValidationError) -> str:
    """Turn the first validation error into 'field.path: what is wrong'.

    Only the first error is reported: one Fatal result that names one field is
    easier to act on than a wall of pydantic output, and fixing it reveals the next.
    """
    first = error.errors(include_url=False)[0]
    path = prefix
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{_short(str(part))}"
    return f"{path}{_explain(first)}"


def _short(value: Any) -> Any:  # noqa: ANN401
    """A value as a person wrote it, short enough to quote (a 5 MB string would drown it)."""
    if isinstance(value, float) and value.is_integer():
        # protobuf Struct carries every number as a double.
        return int(value)
    if isinstance(value, str) and len(value) > MAX_QUOTED:
        return f"{value[:MAX_QUOTED]}... ({len(value)} characters)"
    return value


def _explain(error: Any) -> str:  # noqa: ANN401
    """The readable part of one pydantic error, prefixed with ': ' or a sub-field."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    message = _VALUE_ERROR.sub("", error["msg"])
    if kind == "value_error" and (sub := _SUB_FIELD.match(message)):
        return f".{sub.group(1)}: {sub.group(3)}"
    hint = PATTERN_HINTS.get(str(ctx.get("pattern")), "valid")
    value = _short(value)
    readable = {
        "extra_forbidden": "unknown field",
        "missing": "required field is missing",
        "string_pattern_mismatch": f"{value!r} is not {hint}",
        "less_than_equal": f"{value!r} is more than the maximum {ctx.get('le')}",
        "greater_than_equal": f"{value!r} is less than the minimum {ctx.get('ge')}",
        "literal_error": f"{value!r} is not one of {ctx.get('expected')}",
        "enum": f"{value!r} is not one of {ctx.get('expected')}",
        "string_too_long": f"{value!r} is longer than {ctx.get('max_length')} characters",
        "list_type": "must be a list",
        "finite_number": "must be a finite number",
        "int_parsing_size": "is too large",
        "string_type": "must be a string",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
    }
    return f": {readable.get(kind, message)}"
