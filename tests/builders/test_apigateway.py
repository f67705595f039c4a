"""The API Gateway builder alone: API, VPC link, integration, authorizer, routes and stage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from conftest import EXAMPLES, platform_input
from contexts import as_observed, by_key, claim, context, for_provider, reported

from function.builders import apigateway
from function.model import keys, naming
from function.model.errors import InvalidError

if TYPE_CHECKING:
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
