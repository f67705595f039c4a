"""The claim's (or XR's) spec as typed, validated models.

Everything the builders read of a claim comes from these models, so a value that
passes validation here is safe to put into a manifest. ``errors.describe_error``
turns a validation error into one readable Fatal result.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from function.model.types import (
    HTTPS_URL,
    IDENTITY,
    TEXT_MAX,
    Bool,
    DnsLabel,
    DomainName,
    Duration,
    EnvName,
    Float,
    HeaderName,
    HttpMethod,
    Int,
    ListenerArn,
    Origin,
    PathPrefix,
    Port,
    Region,
    RewritePath,
    Scope,
    SecurityGroupId,
    StageName,
    Strict,
    SubnetId,
    Text,
    VpcId,
    VpcLinkId,
    whole_numbers,
)

# AWS's own limits, checked here so a claim never reaches a provider with them broken.
MAX_SUBNETS = 10  # a VPC link takes at most 10 subnets
MAX_ROUTES = 300  # routes per HTTP API
MAX_SECURITY_GROUPS = 5  # per NLB and per VPC link
MAX_TIMEOUT_MS = 30_000  # HTTP API integration timeout, not raisable
MIN_TIMEOUT_MS = 50
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
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


class Include(StrEnum):
    """Optional parts of an environment."""

    GRAFANA = "grafana"
    PROMETHEUS = "prometheus"
    API_GATEWAY = "apiGatewaySupport"


GroupIds = Annotated[list[SecurityGroupId], Field(max_length=MAX_SECURITY_GROUPS)]


class SecurityGroups(Strict):
    """Security groups brought by the platform or the claim, per side of the network path.

    A side left out (None) gets a composed group; an empty list means no group at all.
    """

    vpc_link: GroupIds | None = Field(default=None, alias="vpcLink")
    load_balancer: GroupIds | None = Field(default=None, alias="loadBalancer")

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        _unique(list(self.vpc_link or ()), "vpcLink")
        _unique(list(self.load_balancer or ()), "loadBalancer")
        return self


class Vpc(Strict):
    """Where the load balancer and VPC link live."""

    vpc_id: VpcId | None = Field(default=None, alias="vpcId")
    subnet_ids: list[SubnetId] = Field(default_factory=list, alias="subnetIds")
    # The older form: the same groups on both sides, none of them composed.
    security_group_ids: GroupIds = Field(default_factory=list, alias="securityGroupIds")
    security_groups: SecurityGroups | None = Field(default=None, alias="securityGroups")

    @model_validator(mode="after")
    def _limits(self) -> Self:
        if len(self.subnet_ids) > MAX_SUBNETS:
            count = len(self.subnet_ids)
            msg = f"subnetIds: {count} subnets given; a VPC link takes at most {MAX_SUBNETS}"
            raise ValueError(msg)
        _unique(self.subnet_ids, "subnetIds")
        _unique(self.security_group_ids, "securityGroupIds")
        if self.security_group_ids and self.security_groups is not None:
            msg = (
                "securityGroups: give either securityGroupIds (the same groups on both sides) "
                "or securityGroups (per side), not both"
            )
            raise ValueError(msg)
        return self


class Cors(Strict):
    """CORS for the HTTP API. Nothing is allowed unless listed."""

    allow_origins: list[Origin] = Field(default_factory=list, alias="allowOrigins")
    allow_methods: list[HttpMethod] = Field(
        default_factory=lambda: list(DEFAULT_CORS_METHODS), alias="allowMethods"
    )
    allow_headers: list[HeaderName] = Field(
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

    issuer: Annotated[str, StringConstraints(pattern=HTTPS_URL, max_length=2048)]
    audiences: Annotated[list[Text], Field(min_length=1, max_length=50)]
    identity_source: str = Field(
        default="$request.header.Authorization",
        alias="identitySource",
        pattern=IDENTITY,
        max_length=TEXT_MAX,
    )


class RouteAuth(Strict):
    """Authorization of one app's API routes."""

    type: Literal["JWT", "NONE"] = "JWT"
    scopes: list[Scope] = Field(default_factory=list)

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
    value: Text
    service: DnsLabel
    namespace: DnsLabel | None = None
    port: Port | None = None


class Retries(Strict):
    """Retries by the ingress gateway."""

    attempts: Int = Field(default=2, ge=0, le=10)
    per_try_timeout: Duration | None = Field(default=None, alias="perTryTimeout")
    retry_on: str = Field(
        default="5xx,connect-failure,reset",
        alias="retryOn",
        pattern=r"^[-a-z0-9,]+$",
        max_length=TEXT_MAX,
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
        """Whether this app asks for API Gateway routes of its own (auth or throttling)."""
        return self.auth is not None or self.throttling is not None

    @property
    def public(self) -> bool:
        """Whether this app opted out of authorization."""
        return self.auth is not None and self.auth.type == "NONE"

    def covers(self, other: App) -> bool:
        """Whether this app's API routes (``<prefix>/{proxy+}``) match ``other``'s paths too."""
        mine, theirs = self.path_prefix.rstrip("/"), other.path_prefix.rstrip("/")
        return not mine or theirs == mine or theirs.startswith(mine + "/")


class Dns(Strict):
    """Route53 wiring for the custom domain."""

    hosted_zone_id: Annotated[str, StringConstraints(pattern=r"^Z[A-Z0-9]{1,31}$")] | None = Field(
        default=None, alias="hostedZoneId"
    )


class EnvironmentSpec(Strict):
    """The claim's (or XR's) spec."""

    name: EnvName
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
        routes = 2 + 2 * sum(
            int(self.own_routes(a)) + int(self.needs_preflight(a)) for a in self.apps
        )
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

    def own_routes(self, app: App) -> bool:
        """Whether an app gets API routes of its own.

        It does when it asks for its own auth or throttling, and, behind a JWT
        authorizer, when a public app's routes would match its paths: API Gateway
        picks the most specific route, so its own routes keep its paths behind a token.
        """
        if app.api_routes:
            return True
        return self.api_gateway.jwt is not None and any(
            other.public and other.covers(app) for other in self.apps if other is not app
        )

    def needs_preflight(self, app: App) -> bool:
        """Whether an app answers CORS preflights behind JWT auth (needs public OPTIONS routes)."""
        if app.cors is None:
            return False
        if app.auth is not None:
            return app.auth.type == "JWT"
        return self.api_gateway.jwt is not None


def _unique(values: list[str], field: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            msg = f"{field}: '{value}' appears more than once"
            raise ValueError(msg)
        seen.add(value)


def parse_spec(raw: dict[str, Any]) -> EnvironmentSpec:
    """Validate an XR's spec, ignoring the fields Crossplane owns."""
    own = {k: v for k, v in raw.items() if k not in CROSSPLANE_SPEC_FIELDS}
    return EnvironmentSpec.model_validate(whole_numbers(own))
