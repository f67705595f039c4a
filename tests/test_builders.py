"""Table-driven tests of each builder's output, through the pure ``compose`` entry point."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import SEED, as_shape, load, platform_input

from function.compose import Outcome, compose
from function.model import naming
from function.model.naming import Names
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shared/0123456789abcdef/0123456789abcdef"  # noqa: E501
AWS_KEYS = {
    "api", "vpc-link", "integration", "route-proxy", "route-root", "stage", "nlb",
    "target-group", "listener", "target-group-binding", "access-log-group",
}  # fmt: skip


def _xr(**spec: Any) -> dict[str, Any]:
    xr = as_shape(load(SEED), "legacy")
    for key, value in spec.items():
        if value is None:
            xr["spec"].pop(key, None)
        else:
            xr["spec"][key] = value
    return xr


def _converged(xr: dict[str, Any], function_input: dict[str, Any] | None = None) -> Outcome:
    """Compose against the observed state of a fully converged simulation."""
    result = simulate(xr, function_input or platform_input())
    assert result.converged, result.fatal
    provider = FakeProvider(xr["metadata"]["name"])
    last = result.rounds[-1]
    observed = provider.apply(last.desired, last.observed_before)
    return compose(xr, observed, function_input or platform_input())


def _fp(outcome: Outcome, key: str) -> dict[str, Any]:
    return outcome.resources[key]["spec"]["forProvider"]


SEED_SPEC = load(SEED)["spec"]
BYO = {"listenerArn": LISTENER, "vpcLinkId": "abc123"}


@pytest.mark.parametrize(
    ("spec", "function_input", "present", "absent"),
    [
        pytest.param(
            {"include": ["grafana"]}, None, {"vcluster", "grafana"}, AWS_KEYS,
            id="no-api-gateway",
        ),
        pytest.param(
            {"apiGateway": BYO}, None, {"api", "integration", "stage"},
            {"nlb", "target-group", "listener", "target-group-binding", "vpc-link"},
            id="byo-listener-and-link",
        ),
        pytest.param(
            {"apiGateway": {"vpcLinkId": "abc123"}}, None, {"nlb", "listener"}, {"vpc-link"},
            id="byo-link-only",
        ),
        pytest.param(
            {}, {**platform_input(), "shared": BYO}, {"api", "integration"},
            {"nlb", "listener", "vpc-link"},
            id="platform-shared",
        ),
        pytest.param(
            {"include": ["apiGatewaySupport"]}, None, {"vcluster", "api"},
            {"grafana", "prometheus", "vcluster-provider-config"},
            id="no-monitoring",
        ),
    ],
)  # fmt: skip
def test_what_is_composed(
    spec: dict[str, Any],
    function_input: dict[str, Any] | None,
    present: set[str],
    absent: set[str],
) -> None:
    """Optional parts are composed only when asked for, and given resources are not duplicated."""
    outcome = _converged(_xr(**spec), function_input)
    assert present <= set(outcome.resources)
    assert not absent & set(outcome.resources)


def test_without_api_gateway_status_says_so() -> None:
    """Without apiGatewaySupport the status states the API Gateway is not enabled."""
    outcome = _converged(_xr(include=["grafana"]))
    assert outcome.status["apiGateway"] == {"enabled": False}
    assert outcome.xr_ready


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
    integration = _fp(_converged(_xr(**spec), function_input), "integration")
    assert integration["integrationUri"] == uri
    for key, value in connection.items():
        assert integration[key] == value
    other = {"connectionId", "connectionIdSelector"} - set(connection)
    assert not other & set(integration)


def test_stage_is_named_by_external_name() -> None:
    """The stage is named by external name, with autoDeploy and no deploymentId."""
    outcome = _converged(_xr(apiGateway={"stageName": "prod", "customDomain": False}))
    stage = outcome.resources["stage"]
    assert stage["metadata"]["annotations"][naming.EXTERNAL_NAME] == "prod"
    assert stage["spec"]["forProvider"]["autoDeploy"] is True
    assert "deploymentId" not in stage["spec"]["forProvider"]
    assert outcome.status["apiGateway"]["stage"] == "prod"
    assert outcome.status["apiGateway"]["endpoint"].endswith("/prod")


def test_routes_target_the_integration() -> None:
    """Both routes reach the integration through a selector and say they need no auth."""
    outcome = _converged(_xr())
    keys = {_fp(outcome, k)["routeKey"] for k in ("route-proxy", "route-root")}
    assert keys == {"ANY /{proxy+}", "ANY /"}
    for key in ("route-proxy", "route-root"):
        route = _fp(outcome, key)
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
    api = _fp(_converged(_xr(apiGateway={"cors": cors})), "api")
    assert api.get("corsConfiguration", {}).get("allowOrigins") == expected


@pytest.mark.parametrize(
    ("spec", "region"),
    [
        pytest.param({}, "us-east-1", id="platform-default"),
        pytest.param({"region": "eu-central-1"}, "eu-central-1", id="claim-overrides"),
    ],
)
def test_region_on_every_aws_resource(spec: dict[str, Any], region: str) -> None:
    """Every AWS resource carries the claim's region, else the platform's."""
    outcome = _converged(_xr(**spec))
    aws = [b for b in outcome.resources.values() if ".aws." in b["apiVersion"]]
    assert len(aws) >= 9
    assert {b["spec"]["forProvider"]["region"] for b in aws} == {region}


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
    integration = _fp(_converged(_xr(apiGateway=api_gateway), function_input), "integration")
    assert integration["timeoutMilliseconds"] == expected


def test_target_group_waits_for_vpc_id() -> None:
    """Without vpcId the target group waits for the VPC id AWS reports for the NLB."""
    first = compose(_xr(), {}, platform_input())
    assert "target-group" not in first.resources
    assert "target-group: waiting for nlb to be ready" in first.status["pending"]
    with_vpc = compose(
        _xr(vpc={**SEED_SPEC["vpc"], "vpcId": "vpc-0123456789abcdef0"}), {}, platform_input()
    )
    assert _fp(with_vpc, "target-group")["vpcId"] == "vpc-0123456789abcdef0"


def test_target_group_binding_copies_arn() -> None:
    """The binding carries the observed target group ARN and binds the ingress Service."""
    outcome = _converged(_xr())
    binding = outcome.resources["target-group-binding"]["spec"]["forProvider"]["manifest"]
    assert binding["spec"]["targetGroupARN"].startswith("arn:aws:elasticloadbalancing:")
    assert binding["spec"]["serviceRef"] == {"name": "istio-ingressgateway", "port": 80}
    assert binding["metadata"]["namespace"] == "istio-ingress"


def test_access_logs_wait_for_log_group() -> None:
    """With access logs on, the stage waits for the log group and drops its ':*' ARN suffix."""
    spec = {"apiGateway": {"accessLogs": {"enabled": True, "retentionDays": 14}}}
    first = compose(_xr(**spec), {}, platform_input())
    assert "stage" not in first.resources
    outcome = _converged(_xr(**spec))
    settings = _fp(outcome, "stage")["accessLogSettings"]
    assert settings["destinationArn"].endswith(":log-group:/aws/apigateway/prod-env/access")
    assert '"requestId":"$context.requestId"' in settings["format"]
    group = outcome.resources["access-log-group"]
    assert (
        group["metadata"]["annotations"][naming.EXTERNAL_NAME] == "/aws/apigateway/prod-env/access"
    )
    assert group["spec"]["forProvider"]["retentionInDays"] == 14


@pytest.mark.parametrize(
    ("service", "namespace", "env", "expected"),
    [
        pytest.param("web", "default", "prod", "web-x-default-x-prod", id="short"),
        pytest.param(
            "a" * 30, "b" * 20, "prod-env",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x-bbbbbbbbbbbbbbbbbbb-c4791ac7fc",
            id="hashed-above-63",
        ),
    ],
)  # fmt: skip
def test_vcluster_host_service_name(service: str, namespace: str, env: str, expected: str) -> None:
    """Routes use the name vCluster gives a synced Service on the host."""
    name = Names(env).host_service(service, namespace)
    assert name == expected
    assert len(name) <= 63


def test_virtual_service_routes() -> None:
    """Longest prefix first, each route bound to this environment's tenant header."""
    apps = [
        {"name": "web", "pathPrefix": "/", "service": "web"},
        {"name": "api", "pathPrefix": "/api", "service": "api", "namespace": "backend",
         "port": 8080},
        {"name": "v2", "pathPrefix": "/api/v2", "service": "api-v2", "namespace": "backend"},
    ]  # fmt: skip
    outcome = _converged(_xr(apps=apps))
    vs = outcome.resources["ingress-routes"]["spec"]["forProvider"]["manifest"]
    http = vs["spec"]["http"]
    assert [r["match"][0]["uri"]["prefix"] for r in http] == ["/api/v2", "/api", "/"]
    assert all(
        r["match"][0]["headers"] == {naming.TENANT_HEADER: {"exact": "prod-env"}} for r in http
    )
    destination = http[1]["route"][0]["destination"]
    assert destination == {
        "host": "api-x-backend-x-prod-env.vcluster-prod-env.svc.cluster.local",
        "port": {"number": 8080},
    }
    assert vs["spec"]["gateways"] == ["vcluster-prod-env/prod-env-gateway"]


def test_vcluster_release() -> None:
    """The vCluster release is named by external name, pinned and installed in its namespace."""
    release = compose(_xr(), {}, platform_input())
    assert "vcluster" not in release.resources  # waits for its namespace
    outcome = _converged(_xr())
    body = outcome.resources["vcluster"]
    assert body["metadata"]["annotations"][naming.EXTERNAL_NAME] == "prod-env"
    chart = body["spec"]["forProvider"]["chart"]
    assert chart == {
        "name": "vcluster",
        "repository": "https://charts.loft.sh",
        "version": "0.36.1",
    }
    assert body["spec"]["forProvider"]["namespace"] == "vcluster-prod-env"
    assert body["spec"]["forProvider"]["skipCreateNamespace"] is True


@pytest.mark.parametrize(
    ("include", "datasource"),
    [
        pytest.param(["grafana", "prometheus"], True, id="with-prometheus"),
        pytest.param(["grafana"], False, id="grafana-alone"),
    ],
)
def test_grafana_datasource(include: list[str], datasource: bool) -> None:
    """Grafana gets a Prometheus datasource only when Prometheus is installed too."""
    outcome = _converged(_xr(include=include))
    values = _fp(outcome, "grafana")["values"]
    assert ("datasources" in values) is datasource
    assert outcome.resources["grafana"]["spec"]["providerConfigRef"] == {
        "name": "prod-env-vcluster"
    }


def test_manifests_do_not_alias() -> None:
    """Builders return fresh dicts: changing one output never changes another call's."""
    first = compose(_xr(), {}, platform_input())
    again = compose(_xr(), {}, platform_input())
    mutated = copy.deepcopy(first.resources)
    first.resources["api"]["spec"]["forProvider"]["tags"]["x"] = "y"
    assert again.resources["api"] == mutated["api"]


def test_tenants_sharing_listener_cannot_reach_each_other() -> None:
    """Environments sharing a listener and VPC link: each header matches only its own routes."""
    shared = {**platform_input(), "shared": BYO}
    apps = [{"name": "web", "pathPrefix": "/", "service": "web"}]
    outcomes = {env: _converged(_xr(name=env, apps=apps), shared) for env in ("team-a", "team-b")}
    for env, outcome in outcomes.items():
        integration = _fp(outcome, "integration")
        assert integration["integrationUri"] == LISTENER
        sent = integration["requestParameters"][f"overwrite:header.{naming.TENANT_HEADER}"]
        assert sent == env
        for other, other_outcome in outcomes.items():
            vs = other_outcome.resources["ingress-routes"]["spec"]["forProvider"]["manifest"]
            matches = [
                m["headers"][naming.TENANT_HEADER]["exact"] == sent
                for route in vs["spec"]["http"]
                for m in route["match"]
            ]
            # Every route of every environment requires the header; only the own one matches.
            assert all(matches) is (other == env)
            assert any(matches) is (other == env)
            hosts = {
                r["destination"]["host"] for route in vs["spec"]["http"] for r in route["route"]
            }
            assert all(h.endswith(f".vcluster-{other}.svc.cluster.local") for h in hosts)
