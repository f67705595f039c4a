"""The API Gateway builder alone: API, VPC link, integration, authorizer, routes and stage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from conftest import EXAMPLES, platform_input
from contexts import SEED_SUFFIX, as_observed, by_key, claim, context, for_provider, reported

from function.builders import apigateway
from function.model import keys, naming
from function.model.errors import InvalidError
from function.model.spec import RouteAuth

if TYPE_CHECKING:
    from collections.abc import Iterable

    from function.model.context import Desired

AUTH = EXAMPLES / "auth-throttling" / "claim.yaml"
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shared/0123456789abcdef/0123456789abcdef"  # noqa: E501
LOG_GROUP = (
    "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/prod-env-381583e839d74e93"
    "/access:*"
)
BYO = {"listenerArn": LISTENER, "vpcLinkId": "abc123"}
# What AWS reports once the listener exists: the integration can be composed.
LISTENER_REPORTED = {keys.LISTENER: reported(arn=LISTENER)}


def _integration(
    spec: dict[str, Any], function_input: dict[str, Any] | None = None
) -> dict[str, Any]:
    ctx = context(claim(**spec), function_input, LISTENER_REPORTED)
    return for_provider(apigateway.build(ctx), keys.INTEGRATION)


@pytest.mark.parametrize(
    ("spec", "function_input", "uri", "connection"),
    [
        pytest.param({"apiGateway": BYO}, None, LISTENER, {"connectionId": "abc123"}, id="byo"),
        pytest.param(
            {}, {**platform_input(), "shared": BYO}, LISTENER, {"connectionId": "abc123"},
            id="platform",
        ),
        pytest.param(
            {"apiGateway": {"listenerArn": LISTENER}}, None, LISTENER,
            {"connectionIdSelector": {"matchControllerRef": True}}, id="byo-listener-composed-link",
        ),
    ],
)  # fmt: skip
def test_integration_connection(
    spec: dict[str, Any],
    function_input: dict[str, Any] | None,
    uri: str,
    connection: dict[str, Any],
) -> None:
    """A given VPC link id is written literally; a composed one is selected by controller ref."""
    integration = _integration(spec, function_input)
    assert integration["integrationUri"] == uri
    for key, value in connection.items():
        assert integration[key] == value
    other = {"connectionId", "connectionIdSelector"} - set(connection)
    assert not other & set(integration)


@pytest.mark.parametrize(
    ("reason", "observed", "uri"),
    [
        pytest.param("the listener ARN AWS reports is the integration URI",
                     LISTENER_REPORTED, LISTENER, id="reported"),
        pytest.param("a created integration keeps its URI while the listener flaps",
                     {keys.INTEGRATION: {"spec": {"forProvider": {"integrationUri": LISTENER}}},
                      keys.LISTENER: reported(ready=False)}, LISTENER, id="sent-before"),
        pytest.param("without either, the integration waits for the listener ARN",
                     {}, None, id="unknown"),
    ],
)  # fmt: skip
def test_integration_uri(reason: str, observed: dict[str, Any], uri: str | None) -> None:
    """The integration's URI is the listener ARN AWS reports, else the one it was sent."""
    item = by_key(apigateway.build(context(observed=observed)))[keys.INTEGRATION]
    sent = None if item.manifest is None else item.manifest["spec"]["forProvider"]["integrationUri"]
    assert sent == uri, reason
    assert item.waiting_for == "the listener ARN"


@pytest.mark.parametrize(
    ("spec_timeout", "input_timeout", "expected"),
    [
        pytest.param(None, 30000, 30000, id="platform-default"),
        pytest.param(5000, 30000, 5000, id="claim-overrides"),
        pytest.param(None, 12000, 12000, id="platform-lowered"),
    ],
)
def test_integration_timeout(spec_timeout: int | None, input_timeout: int, expected: int) -> None:
    """The claim's timeout wins over the platform default, both within 50..30000 ms."""
    api_gateway = {} if spec_timeout is None else {"integrationTimeoutMs": spec_timeout}
    function_input = {**platform_input(), "integrationTimeoutMs": input_timeout}
    integration = _integration({"apiGateway": api_gateway}, function_input)
    assert integration["timeoutMilliseconds"] == expected


def test_stage_is_named_by_external_name() -> None:
    """The stage is named by external name, with autoDeploy and no deploymentId."""
    ctx = context(claim(apiGateway={"stageName": "prod", "customDomain": False}))
    stage = by_key(apigateway.build(ctx))[keys.STAGE].manifest
    assert stage is not None
    assert stage["metadata"]["annotations"][naming.EXTERNAL_NAME] == "prod"
    assert stage["spec"]["forProvider"]["autoDeploy"] is True
    assert "deploymentId" not in stage["spec"]["forProvider"]


def test_routes_target_the_integration() -> None:
    """Both routes reach the integration through a selector and say they need no auth."""
    desired = apigateway.build(context())
    route_keys = {for_provider(desired, k)["routeKey"] for k in (keys.ROUTE_PROXY, keys.ROUTE_ROOT)}
    assert route_keys == {"ANY /{proxy+}", "ANY /"}
    for key in (keys.ROUTE_PROXY, keys.ROUTE_ROOT):
        route = for_provider(desired, key)
        assert route["targetSelector"] == {"matchControllerRef": True}
        assert route["authorizationType"] == "NONE"


@pytest.mark.parametrize(
    ("cors", "expected"),
    [
        pytest.param({}, None, id="no-origins-no-cors"),
        pytest.param(
            {"allowOrigins": ["https://a.example.com"]}, ["https://a.example.com"], id="listed"
        ),
    ],
)
def test_cors_has_no_wildcard_default(cors: dict[str, Any], expected: list[str] | None) -> None:
    """CORS is configured only for listed origins; nothing defaults to '*'."""
    api = for_provider(apigateway.build(context(claim(apiGateway={"cors": cors}))), keys.API)
    assert api.get("corsConfiguration", {}).get("allowOrigins") == expected


ACCESS_LOGS = {"apiGateway": {"accessLogs": {"enabled": True, "retentionDays": 14}}}


def test_access_logs_wait_for_log_group() -> None:
    """With access logs on, the stage waits for the log group and drops its ':*' ARN suffix."""
    first = by_key(apigateway.build(context(claim(**ACCESS_LOGS))))[keys.STAGE]
    assert first.manifest is None
    assert first.waiting_for == "the access log group ARN"
    observed = {keys.ACCESS_LOGS: reported(arn=LOG_GROUP)}
    desired = apigateway.build(context(claim(**ACCESS_LOGS), observed=observed))
    settings = for_provider(desired, keys.STAGE)["accessLogSettings"]
    assert settings["destinationArn"].endswith(
        ":log-group:/aws/apigateway/prod-env-381583e839d74e93/access"
    )
    assert '"requestId":"$context.requestId"' in settings["format"]
    group = by_key(desired)[keys.ACCESS_LOGS].manifest
    assert group is not None
    assert (
        group["metadata"]["annotations"][naming.EXTERNAL_NAME]
        == "/aws/apigateway/prod-env-381583e839d74e93/access"
    )
    assert group["spec"]["forProvider"]["retentionInDays"] == 14


def test_live_stage_keeps_its_log_group_while_it_flaps() -> None:
    """A created stage keeps the log group ARN it was sent while the group reports none."""
    observed = {keys.ACCESS_LOGS: reported(arn=LOG_GROUP)}
    stage = by_key(apigateway.build(context(claim(**ACCESS_LOGS), observed=observed)))[keys.STAGE]
    flapped = {keys.ACCESS_LOGS: reported(ready=False), keys.STAGE: as_observed(stage)}
    again = by_key(apigateway.build(context(claim(**ACCESS_LOGS), observed=flapped)))[keys.STAGE]
    assert again.manifest == stage.manifest


def _auth(
    xr: dict[str, Any] | None = None, observed: dict[str, Any] | None = None
) -> dict[str, Desired]:
    """The auth example's (or ``xr``'s) resources by key, once its log group reports its ARN."""
    seen = {keys.ACCESS_LOGS: reported(arn=LOG_GROUP), **(observed or {})}
    return by_key(apigateway.build(context(claim(AUTH) if xr is None else xr, observed=seen)))


@pytest.mark.parametrize(
    ("key", "route_key", "auth_type", "scopes"),
    [
        pytest.param("route-proxy", "ANY /{proxy+}", "JWT", None, id="catch-all-protected"),
        pytest.param("route-root", "ANY /", "JWT", None, id="root-protected"),
        pytest.param("route-orders-proxy", "ANY /orders/{proxy+}", "JWT", ["orders:read"],
                     id="app-scoped"),
        pytest.param("route-orders-root", "ANY /orders", "JWT", ["orders:read"],
                     id="app-root-scoped"),
        pytest.param("route-health-proxy", "ANY /healthz/{proxy+}", "NONE", None,
                     id="public-explicit"),
    ],
)  # fmt: skip
def test_routes_auth(key: str, route_key: str, auth_type: str, scopes: list[str] | None) -> None:
    """With an authorizer, routes are JWT-protected unless an app explicitly opts out."""
    route = _auth()[key]
    assert route.manifest is not None
    spec = route.manifest["spec"]["forProvider"]
    assert spec["routeKey"] == route_key
    assert spec["authorizationType"] == auth_type
    assert spec.get("authorizationScopes") == scopes
    assert ("authorizerIdSelector" in spec) is (auth_type == "JWT")
    # A public route must not wait for the authorizer it does not use.
    assert route.role == (keys.JWT_ROUTE if auth_type == "JWT" else keys.PUBLIC_ROUTE)


def test_authorizer() -> None:
    """The JWT authorizer carries issuer, audiences and the identity source."""
    authorizer = for_provider(_auth().values(), keys.AUTHORIZER)
    assert authorizer["authorizerType"] == "JWT"
    assert authorizer["jwtConfiguration"] == {
        "issuer": "https://auth.mycompany.com/",
        "audience": ["orders-api"],
    }
    assert authorizer["identitySources"] == ["$request.header.Authorization"]


def test_throttling() -> None:
    """Stage default throttling plus a per-route override for the throttled app's routes."""
    routes = {key: reported() for key in ("route-orders-proxy", "route-orders-root")}
    stage = for_provider(_auth(observed=routes).values(), keys.STAGE)
    assert stage["defaultRouteSettings"]["throttlingBurstLimit"] == 100
    assert stage["defaultRouteSettings"]["throttlingRateLimit"] == 50
    assert {r["routeKey"]: r["throttlingRateLimit"] for r in stage["routeSettings"]} == {
        "ANY /orders/{proxy+}": 10,
        "ANY /orders": 10,
    }


@pytest.mark.parametrize(
    ("observed_routes", "route_keys"),
    [
        pytest.param((), None, id="no-route-yet"),
        pytest.param(("route-orders-proxy",), ["ANY /orders/{proxy+}"], id="one-route"),
        pytest.param(("route-orders-proxy", "route-orders-root"),
                     ["ANY /orders/{proxy+}", "ANY /orders"], id="both-routes"),
        pytest.param(("route-proxy",), None, id="unthrottled-route-only"),
    ],
)  # fmt: skip
def test_route_settings_wait_for_routes(
    observed_routes: tuple[str, ...], route_keys: list[str] | None
) -> None:
    """Per-route settings name only observed routes: AWS rejects a key no route has yet."""
    stage = for_provider(
        _auth(observed={key: reported() for key in observed_routes}).values(), keys.STAGE
    )
    sent = stage.get("routeSettings")
    assert (None if sent is None else [r["routeKey"] for r in sent]) == route_keys


def test_conflicting_routes_are_refused() -> None:
    """Two apps on one API route with different auth cannot both be honoured."""
    xr = claim(AUTH)
    xr["spec"]["apps"] = [
        {"name": "a", "pathPrefix": "/x", "hosts": ["a.example.com"], "service": "a",
         "auth": {"type": "NONE"}},
        {"name": "b", "pathPrefix": "/x", "hosts": ["b.example.com"], "service": "b",
         "auth": {"scopes": ["s"]}},
    ]  # fmt: skip
    with pytest.raises(InvalidError) as refused:
        apigateway.build(context(xr))
    assert str(refused.value) == (
        "spec.apps[1].auth: apps 'a' and 'b' share the API route 'ANY /x/{proxy+}' "
        "but ask for different auth or throttling"
    )


@pytest.mark.parametrize(
    ("app", "route_keys"),
    [
        pytest.param({"cors": {"allowOrigins": ["https://a.example.com"]}},
                     {"route-web-preflight-proxy": "OPTIONS /web/{proxy+}",
                      "route-web-preflight-root": "OPTIONS /web"}, id="cors-behind-default-jwt"),
        pytest.param({"cors": {"allowOrigins": ["https://a.example.com"]},
                      "auth": {"type": "NONE"}},
                     {"route-web-proxy": "ANY /web/{proxy+}", "route-web-root": "ANY /web"},
                     id="public-app-needs-no-preflight-route"),
        pytest.param({}, {}, id="no-cors-no-extra-routes"),
    ],
)  # fmt: skip
def test_cors_preflight_routes(app: dict[str, Any], route_keys: dict[str, str]) -> None:
    """Apps answering CORS behind JWT get public OPTIONS routes; browsers send no token there."""
    xr = claim(AUTH, apps=[{"name": "web", "pathPrefix": "/web", "service": "web", **app}])
    desired = _auth(xr)
    extra = {
        k: for_provider(desired.values(), k)["routeKey"]
        for k in desired
        if k.startswith("route-") and k not in {keys.ROUTE_PROXY, keys.ROUTE_ROOT}
    }
    assert extra == route_keys
    for key in route_keys:
        expected = "NONE" if "preflight" in key or app.get("auth") else "JWT"
        assert for_provider(desired.values(), key)["authorizationType"] == expected


def test_nothing_without_api_gateway() -> None:
    """Without apiGatewaySupport no API Gateway resource is composed."""
    assert apigateway.build(context(claim(include=["grafana"]))) == []


def test_integration_sets_the_domain_header() -> None:
    """The integration overwrites the domain header with $context.domainName.

    apps[].hosts route on it, not on Host: what Host an HTTP API private integration
    passes on is not documented (FIELD-NOTES); overwritten, a client cannot forge it.
    """
    built = apigateway.build(context(claim(apiGateway={"listenerArn": LISTENER})))
    parameters = for_provider(built, keys.INTEGRATION)["requestParameters"]
    assert parameters[f"overwrite:header.{naming.DOMAIN_HEADER}"] == "$context.domainName"


JWT = {"jwt": {"issuer": "https://auth.example.com/", "audiences": ["x"]}}
CATCH_ALL = {"ANY /", "ANY /{proxy+}"}


@pytest.mark.parametrize(
    ("public", "other", "protected", "why"),
    [
        pytest.param("/", "/admin", {"ANY /admin/{proxy+}", "ANY /admin"},
                     "A public app at '/' opens the catch-all; /admin never opted out.",
                     id="public-root"),
        pytest.param("/api", "/api/admin", {"ANY /api/admin/{proxy+}", "ANY /api/admin"},
                     "A public app's '/api/{proxy+}' also matches a nested app's paths.",
                     id="public-parent"),
        pytest.param("/web", "/webhooks", set(),
                     "'/web' is no path prefix of '/webhooks': no route of its own is needed.",
                     id="sibling"),
    ],
)  # fmt: skip
def test_no_path_opens_by_accident(public: str, other: str, protected: set[str], why: str) -> None:
    """Behind a JWT authorizer, every path of an app that did not opt out needs a token."""
    apps = [
        {"name": "open", "service": "open", "pathPrefix": public, "auth": {"type": "NONE"}},
        {"name": "closed", "service": "closed", "pathPrefix": other},
    ]
    ctx = context(claim(apiGateway=JWT, apps=apps), None, LISTENER_REPORTED)
    routes = {
        item.manifest["spec"]["forProvider"]["routeKey"]: item.manifest["spec"]["forProvider"]
        for item in apigateway.build(ctx)
        if item.manifest is not None and item.manifest["kind"] == "Route"
    }
    opened = {f"ANY {public.rstrip('/')}/{{proxy+}}", f"ANY {public.rstrip('/') or '/'}"}
    assert set(routes) - CATCH_ALL - opened == protected, why
    assert all(routes[key]["authorizationType"] == "JWT" for key in protected), why


def test_app_on_root_takes_the_catch_all_routes() -> None:
    """An app on '/' shares the catch-all routes' keys (and settings), with no routes of its own."""
    app = {"name": "web", "pathPrefix": "/", "service": "web",
           "throttling": {"burstLimit": 7, "rateLimit": 3}}  # fmt: skip
    built = by_key(apigateway.build(context(claim(AUTH, apps=[app]))))
    routes = {key for key in built if key.startswith("route-")}
    assert routes == {keys.ROUTE_PROXY, keys.ROUTE_ROOT}


# The seed claim's identity: its slug names the API and VPC link, its tags mark every resource.
SLUG = f"prod-env-{SEED_SUFFIX['legacy']}"
TAGS = {
    "crossplane-environment": "prod-env",
    "crossplane-composite": "production-vcluster",
    "managed-by": "function-vcluster-environment",
}
SEED_GROUP = "sg-0c1d2e3f4a5b60710"
SUBNETS = ["subnet-0a12b34c56d78e90f", "subnet-0f98e76d54c32b10a"]


def _manifest(desired: Iterable[Desired], key: str) -> dict[str, Any]:
    """The whole manifest composed under ``key``, which must have one."""
    manifest = by_key(desired)[key].manifest
    assert manifest is not None, f"{key} has no manifest yet"
    return manifest


def _aws(api_version: str, kind: str, key: str, for_provider: dict[str, Any]) -> dict[str, Any]:
    """A regional provider-upjet-aws manifest of the seed claim, labelled with its ``key``."""
    return {
        "apiVersion": f"apigatewayv2.aws.upbound.io/{api_version}",
        "kind": kind,
        "metadata": {
            "labels": {naming.LABEL_ENVIRONMENT: SLUG, naming.LABEL_RESOURCE: key},
        },
        "spec": {
            "forProvider": {**for_provider, "region": "us-east-1"},
            "providerConfigRef": {"name": "default"},
        },
    }


@pytest.mark.parametrize(
    ("cors", "expected"),
    [
        pytest.param({}, None, id="no-cors"),
        pytest.param(
            {"allowOrigins": ["https://a.example.com", "https://b.example.com"],
             "allowMethods": ["GET", "POST"], "allowHeaders": ["x-request-id"],
             "allowCredentials": True, "maxAge": 600},
            {"allowOrigins": ["https://a.example.com", "https://b.example.com"],
             "allowMethods": ["GET", "POST"], "allowHeaders": ["x-request-id"],
             "allowCredentials": True, "maxAge": 600},
            id="every-cors-field-passed-through",
        ),
    ],
)  # fmt: skip
def test_api_manifest(cors: dict[str, Any], expected: dict[str, Any] | None) -> None:
    """The HTTP API is named by the slug, tagged, and carries the claim's CORS settings as given."""
    api = _manifest(apigateway.build(context(claim(apiGateway={"cors": cors}))), keys.API)
    for_provider_ = {
        "name": SLUG,
        "protocolType": "HTTP",
        "description": "vCluster environment prod-env",
        "tags": TAGS,
    }
    if expected is not None:
        for_provider_["corsConfiguration"] = expected
    assert api == _aws("v1beta2", "API", keys.API, for_provider_)


COMPOSED_GROUP = "sg-0123456789abcdef9"
NO_GROUPS = {"vpc": {"subnetIds": SUBNETS}}


@pytest.mark.parametrize(
    ("reason", "spec", "observed", "groups"),
    [
        pytest.param("the claim's securityGroupIds are the VPC link's groups",
                     {}, {}, [SEED_GROUP], id="given-groups"),
        pytest.param("a composed group is named by the id AWS reports for it",
                     NO_GROUPS, {keys.VPC_LINK_SECURITY_GROUP: reported(id=COMPOSED_GROUP)},
                     [COMPOSED_GROUP], id="composed-group"),
        pytest.param("a VPC link created without groups stays without (they are immutable)",
                     NO_GROUPS,
                     {keys.VPC_LINK: {"spec": {"forProvider": {"name": f"{SLUG}-vpclink"}}}},
                     None, id="created-without-groups"),
    ],
)  # fmt: skip
def test_vpc_link_manifest(
    reason: str, spec: dict[str, Any], observed: dict[str, Any], groups: list[str] | None
) -> None:
    """The VPC link spans the claim's subnets with the groups it was (or is) created with."""
    item = by_key(apigateway.build(context(claim(**spec), observed=observed)))[keys.VPC_LINK]
    for_provider_: dict[str, Any] = {"name": f"{SLUG}-vpclink", "subnetIds": SUBNETS, "tags": TAGS}
    if groups is not None:
        for_provider_["securityGroupIds"] = groups
    assert item.manifest == _aws("v1beta1", "VPCLink", keys.VPC_LINK, for_provider_), reason
    assert item.waiting_for == "the id of its security group"


def test_vpc_link_waits_for_its_composed_group() -> None:
    """A VPC link whose group is composed waits for the group's id: its groups never change."""
    item = by_key(apigateway.build(context(claim(**NO_GROUPS))))[keys.VPC_LINK]
    assert item.manifest is None
    assert item.waiting_for == "the id of its security group"


@pytest.mark.parametrize(
    ("reason", "api_gateway", "connection"),
    [
        pytest.param("a composed VPC link is selected by controller ref",
                     {"listenerArn": LISTENER},
                     {"connectionIdSelector": {"matchControllerRef": True}}, id="composed-link"),
        pytest.param("a given VPC link id is written as is",
                     BYO, {"connectionId": "abc123"}, id="given-link"),
    ],
)  # fmt: skip
def test_integration_manifest(
    reason: str, api_gateway: dict[str, Any], connection: dict[str, Any]
) -> None:
    """The private integration proxies everything to the listener, overwriting path and headers."""
    built = apigateway.build(context(claim(apiGateway=api_gateway)))
    expected = {
        "apiIdSelector": {"matchControllerRef": True},
        "description": "prod-env: VPC link to the ingress gateway listener",
        "integrationType": "HTTP_PROXY",
        "integrationMethod": "ANY",
        "connectionType": "VPC_LINK",
        **connection,
        "integrationUri": LISTENER,
        "payloadFormatVersion": "1.0",
        "timeoutMilliseconds": 30000,
        "requestParameters": {
            "overwrite:path": "$request.path",
            "overwrite:header.x-vcluster-environment": SLUG,
            "overwrite:header.x-vcluster-domain": "$context.domainName",
        },
    }
    assert _manifest(built, keys.INTEGRATION) == _aws(
        "v1beta2", "Integration", keys.INTEGRATION, expected
    ), reason
    # A given VPC link is not composed at all.
    assert (keys.VPC_LINK in by_key(built)) is ("connectionIdSelector" in connection), reason


@pytest.mark.parametrize(
    ("jwt", "identity"),
    [
        pytest.param({}, "$request.header.Authorization", id="default-identity-source"),
        pytest.param({"identitySource": "$request.header.X-Token"}, "$request.header.X-Token",
                     id="custom-identity-source"),
    ],
)  # fmt: skip
def test_authorizer_manifest(jwt: dict[str, Any], identity: str) -> None:
    """The JWT authorizer is named 'jwt' and carries issuer, every audience and the identity."""
    spec = {"jwt": {"issuer": "https://auth.example.com/", "audiences": ["a", "b"], **jwt}}
    built = apigateway.build(context(claim(apiGateway=spec)))
    expected = {
        "apiIdSelector": {"matchControllerRef": True},
        "name": "jwt",
        "authorizerType": "JWT",
        "identitySources": [identity],
        "jwtConfiguration": {"issuer": "https://auth.example.com/", "audience": ["a", "b"]},
    }
    assert _manifest(built, keys.AUTHORIZER) == _aws(
        "v1beta2", "Authorizer", keys.AUTHORIZER, expected
    )


def test_no_authorizer_without_jwt() -> None:
    """Without a JWT configuration no authorizer is composed."""
    assert keys.AUTHORIZER not in by_key(apigateway.build(context()))


@pytest.mark.parametrize(
    ("reason", "app", "key", "route_key", "auth", "role"),
    [
        pytest.param("a catch-all route without an authorizer is explicitly public",
                     None, keys.ROUTE_PROXY, "ANY /{proxy+}", {"authorizationType": "NONE"},
                     keys.PUBLIC_ROUTE, id="catch-all-public"),
        pytest.param("behind an authorizer, a route without scopes names only the authorizer",
                     {"auth": {"type": "JWT"}}, "route-web-root", "ANY /web",
                     {"authorizationType": "JWT",
                      "authorizerIdSelector": {"matchControllerRef": True}},
                     keys.JWT_ROUTE, id="jwt-without-scopes"),
        pytest.param("an app's scopes are the route's authorization scopes",
                     {"auth": {"scopes": ["a:read", "a:write"]}}, "route-web-proxy",
                     "ANY /web/{proxy+}",
                     {"authorizationType": "JWT",
                      "authorizerIdSelector": {"matchControllerRef": True},
                      "authorizationScopes": ["a:read", "a:write"]},
                     keys.JWT_ROUTE, id="jwt-with-scopes"),
    ],
)  # fmt: skip
def test_route_manifest(  # noqa: PLR0917 - one column per table field
    reason: str,
    app: dict[str, Any] | None,
    key: str,
    route_key: str,
    auth: dict[str, Any],
    role: str,
) -> None:
    """A route targets the integration and states its authorization, with its role for ordering."""
    if app is None:
        xr = claim()
    else:
        web = {"name": "web", "pathPrefix": "/web", "service": "web", **app}
        xr = claim(apiGateway=JWT, apps=[web])
    item = by_key(apigateway.build(context(xr)))[key]
    expected = {
        "apiIdSelector": {"matchControllerRef": True},
        "routeKey": route_key,
        "targetSelector": {"matchControllerRef": True},
        **auth,
    }
    assert item.manifest == _aws("v1beta1", "Route", key, expected), reason
    assert item.role == role, reason
    assert item.waiting_for == "", reason


STAGE = {
    "apiIdSelector": {"matchControllerRef": True},
    "autoDeploy": True,
    "description": "prod-env stage",
    "tags": TAGS,
    "defaultRouteSettings": {"detailedMetricsEnabled": True},
}


def _stage(api_gateway: dict[str, Any], observed: dict[str, Any] | None = None) -> Desired:
    """The seed claim's stage with ``api_gateway`` set, given what is observed."""
    return by_key(apigateway.build(context(claim(apiGateway=api_gateway), observed=observed)))[
        keys.STAGE
    ]


def _stage_manifest(name: str, for_provider_: dict[str, Any]) -> dict[str, Any]:
    """The expected stage: named ``name`` by external name."""
    manifest = _aws("v1beta2", "Stage", keys.STAGE, for_provider_)
    manifest["metadata"]["annotations"] = {naming.EXTERNAL_NAME: name}
    return manifest


@pytest.mark.parametrize(
    ("reason", "api_gateway", "extra"),
    [
        pytest.param("without throttling only detailed metrics are set, on the platform's stage",
                     {}, {}, id="defaults"),
        pytest.param("stage throttling becomes the default route settings",
                     {"stageName": "v2", "throttling": {"burstLimit": 7, "rateLimit": 3.5}},
                     {"defaultRouteSettings": {"detailedMetricsEnabled": True,
                                               "throttlingBurstLimit": 7,
                                               "throttlingRateLimit": 3.5}},
                     id="throttled"),
    ],
)  # fmt: skip
def test_stage_manifest(reason: str, api_gateway: dict[str, Any], extra: dict[str, Any]) -> None:
    """Without access logs the stage is composed at once, waiting for nothing."""
    stage = _stage(api_gateway)
    name = api_gateway.get("stageName", "prod")
    assert stage.manifest == _stage_manifest(name, {**STAGE, **extra}), reason
    assert stage.waiting_for == "", reason


LOGS_ON = {"accessLogs": {"enabled": True, "retentionDays": 14}}
GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/x/access"


@pytest.mark.parametrize(
    ("reason", "observed", "destination"),
    [
        pytest.param("CloudWatch's ':*' suffix is dropped from the reported ARN",
                     {keys.ACCESS_LOGS: reported(arn=f"{GROUP_ARN}:*")}, GROUP_ARN,
                     id="reported-with-suffix"),
        pytest.param("an ARN without the suffix is used as reported",
                     {keys.ACCESS_LOGS: reported(arn=GROUP_ARN)}, GROUP_ARN,
                     id="reported-without-suffix"),
        pytest.param("a live stage keeps the ARN it was sent while the group reports none",
                     {keys.ACCESS_LOGS: reported(ready=False),
                      keys.STAGE: {"spec": {"forProvider": {
                          "accessLogSettings": {"destinationArn": GROUP_ARN}}}}},
                     GROUP_ARN, id="sent-before"),
        pytest.param("a live stage whose logs were just switched on keeps serving without them",
                     {keys.STAGE: reported()}, None, id="live-stage-logs-switched-on"),
    ],
)  # fmt: skip
def test_stage_access_logs(reason: str, observed: dict[str, Any], destination: str | None) -> None:
    """The stage logs to the group's ARN in the fixed JSON format once that ARN is known."""
    stage = _stage(LOGS_ON, observed)
    expected = dict(STAGE)
    if destination is not None:
        expected["accessLogSettings"] = {
            "destinationArn": destination,
            "format": apigateway.ACCESS_LOG_FORMAT,
        }
    assert stage.manifest == _stage_manifest("prod", expected), reason
    assert stage.waiting_for == "the access log group ARN", reason


def test_access_log_group_manifest() -> None:
    """The log group is named by external name, tagged and kept for the claim's retention."""
    built = apigateway.build(context(claim(apiGateway=LOGS_ON)))
    group = _manifest(built, keys.ACCESS_LOGS)
    assert group == {
        "apiVersion": "cloudwatchlogs.aws.upbound.io/v1beta1",
        "kind": "Group",
        "metadata": {
            "labels": {naming.LABEL_ENVIRONMENT: SLUG, naming.LABEL_RESOURCE: keys.ACCESS_LOGS},
            "annotations": {naming.EXTERNAL_NAME: f"/aws/apigateway/{SLUG}/access"},
        },
        "spec": {
            "forProvider": {"retentionInDays": 14, "tags": TAGS, "region": "us-east-1"},
            "providerConfigRef": {"name": "default"},
        },
    }


def test_build_order() -> None:
    """Resources come in dependency order: API, VPC link, integration, authorizer, routes, logs."""
    xr = claim(apiGateway={**JWT, **LOGS_ON})
    assert [item.key for item in apigateway.build(context(xr))] == [
        keys.API, keys.VPC_LINK, keys.INTEGRATION, keys.AUTHORIZER, keys.ROUTE_PROXY,
        keys.ROUTE_ROOT, keys.ACCESS_LOGS, keys.STAGE,
    ]  # fmt: skip


def _route_keys(
    apps: list[dict[str, Any]], api_gateway: dict[str, Any] | None = None
) -> dict[str, str]:
    """Each composed route's key and its API route key, for ``apps`` behind a JWT authorizer."""
    xr = claim(apiGateway=JWT if api_gateway is None else api_gateway, apps=apps)
    return {
        item.key: item.manifest["spec"]["forProvider"]["routeKey"]
        for item in apigateway.build(context(xr))
        if item.manifest is not None and item.manifest["kind"] == "Route"
    }


SCOPED = {"auth": {"scopes": ["s"]}}
WEB_CORS = {"cors": {"allowOrigins": ["https://a.example.com"]}}


@pytest.mark.parametrize(
    ("reason", "app", "extra"),
    [
        pytest.param("a trailing slash is not part of the route paths",
                     {"pathPrefix": "/web/", **SCOPED},
                     {"route-web-proxy": "ANY /web/{proxy+}", "route-web-root": "ANY /web"},
                     id="trailing-slash"),
        pytest.param("only slashes are stripped: a prefix ending in 'X' keeps it",
                     {"pathPrefix": "/apiX", **SCOPED},
                     {"route-web-proxy": "ANY /apiX/{proxy+}", "route-web-root": "ANY /apiX"},
                     id="only-slashes-stripped"),
        pytest.param("an app with its own scopes that answers CORS gets both pairs",
                     {"pathPrefix": "/web", **SCOPED, **WEB_CORS},
                     {"route-web-proxy": "ANY /web/{proxy+}", "route-web-root": "ANY /web",
                      "route-web-preflight-proxy": "OPTIONS /web/{proxy+}",
                      "route-web-preflight-root": "OPTIONS /web"},
                     id="own-and-preflight"),
        pytest.param("an app on '/' answering CORS gets the OPTIONS pair at the root",
                     {"pathPrefix": "/", **WEB_CORS},
                     {"route-preflight-proxy": "OPTIONS /{proxy+}",
                      "route-preflight-root": "OPTIONS /"},
                     id="root-preflight"),
    ],
)  # fmt: skip
def test_app_route_keys(reason: str, app: dict[str, Any], extra: dict[str, str]) -> None:
    """An app's routes are keyed by its name and suffix, at its prefix without a trailing slash."""
    routes = _route_keys([{"name": "web", "service": "web", **app}])
    catch_all = {keys.ROUTE_PROXY: "ANY /{proxy+}", keys.ROUTE_ROOT: "ANY /"}
    assert routes == {**catch_all, **extra}, reason


def test_preflight_routes_take_the_apps_throttling() -> None:
    """An app's public OPTIONS routes are throttled like its other routes, once observed."""
    app = {"name": "web", "pathPrefix": "/web", "service": "web", **WEB_CORS,
           "throttling": {"burstLimit": 7, "rateLimit": 3}}  # fmt: skip
    observed = {
        key: reported()
        for key in ("route-web-preflight-proxy", "route-web-preflight-root", keys.ROUTE_PROXY)
    }
    built = apigateway.build(context(claim(apiGateway=JWT, apps=[app]), observed=observed))
    assert for_provider(built, keys.STAGE)["routeSettings"] == [
        {"routeKey": "OPTIONS /web/{proxy+}", "throttlingBurstLimit": 7, "throttlingRateLimit": 3},
        {"routeKey": "OPTIONS /web", "throttlingBurstLimit": 7, "throttlingRateLimit": 3},
    ]


def _app(name: str, path: str, host: str, **extra: Any) -> dict[str, Any]:
    """An app named ``name`` at ``path`` on ``host``."""
    return {"name": name, "pathPrefix": path, "hosts": [host], "service": name, **extra}


@pytest.mark.parametrize(
    ("reason", "apps", "message"),
    [
        pytest.param("the same auth with different throttling cannot share one route",
                     [_app("a", "/x", "a.example.com", throttling={"burstLimit": 1}),
                      _app("b", "/x", "b.example.com", throttling={"burstLimit": 2})],
                     "spec.apps[1].auth: apps 'a' and 'b' share the API route 'ANY /x/{proxy+}' "
                     "but ask for different auth or throttling", id="throttling-differs"),
        pytest.param("an app whose route key is another app's preflight key would replace it",
                     [_app("a", "/a", "a.example.com", **WEB_CORS),
                      _app("a-preflight", "/b", "b.example.com", **SCOPED)],
                     "spec.apps[1].name: app 'a-preflight' would compose its API route "
                     "'ANY /b/{proxy+}' under the key 'route-a-preflight-proxy', which app 'a' "
                     "uses for 'OPTIONS /a/{proxy+}'; rename the app", id="key-collision"),
    ],
)  # fmt: skip
def test_routes_refused(reason: str, apps: list[dict[str, Any]], message: str) -> None:
    """Routes that would silently merge or replace each other are refused, naming the field."""
    with pytest.raises(InvalidError) as refused:
        _route_keys(apps)
    assert str(refused.value) == message, reason


def test_apps_sharing_a_route_with_equal_settings() -> None:
    """Two apps on one path with the same auth and throttling share one pair of routes."""
    throttling = {"burstLimit": 5, "rateLimit": 2}
    apps = [
        _app("a", "/x", "a.example.com", throttling=throttling),
        _app("b", "/x", "b.example.com", throttling=throttling),
    ]
    assert _route_keys(apps) == {
        keys.ROUTE_PROXY: "ANY /{proxy+}",
        keys.ROUTE_ROOT: "ANY /",
        "route-a-proxy": "ANY /x/{proxy+}",
        "route-a-root": "ANY /x",
        "route-b-proxy": "ANY /x/{proxy+}",
        "route-b-root": "ANY /x",
    }


@pytest.mark.parametrize(
    ("other_app", "owner"),
    [
        pytest.param("a", "app 'a' uses", id="app-owned"),
        pytest.param(None, "the catch-all routes use", id="catch-all-owned"),
    ],
)
def test_check_key_names_the_owner(other_app: str | None, owner: str) -> None:
    """A refused key names who holds it: an app, or the catch-all routes (which have no app).

    No app's route key can equal a catch-all key today (an app's key holds its name), so
    the second case is stated on the check itself.
    """
    auth = RouteAuth(type="NONE")
    held = apigateway.ApiRoute(keys.ROUTE_PROXY, "ANY /{proxy+}", auth, None, other_app)
    route = apigateway.ApiRoute(keys.ROUTE_PROXY, "ANY /b/{proxy+}", auth, None, "b")
    with pytest.raises(InvalidError) as refused:
        apigateway._check_key(3, held, route)  # noqa: SLF001
    assert str(refused.value) == (
        "spec.apps[3].name: app 'b' would compose its API route 'ANY /b/{proxy+}' under the "
        f"key 'route-proxy', which {owner} for 'ANY /{{proxy+}}'; rename the app"
    )
    # The same route key under the same key is the same route: nothing to refuse.
    apigateway._check_key(3, held, held)  # noqa: SLF001
    apigateway._check_key(3, None, route)  # noqa: SLF001
