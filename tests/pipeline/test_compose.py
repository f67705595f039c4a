"""The whole composition through ``compose``: what is composed, held back, and reported."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from conftest import SEED, as_shape, converged_observed, load, platform_input
from contexts import SEED_SUFFIX

from function.compose import Outcome, compose
from function.model import naming

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
    observed = converged_observed(xr, function_input)
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


def test_named_stage_in_status() -> None:
    """A named stage is in the status, and its invoke URL ends with its name."""
    outcome = _converged(_xr(apiGateway={"stageName": "prod", "customDomain": False}))
    assert outcome.status["apiGateway"]["stage"] == "prod"
    assert outcome.status["apiGateway"]["endpoint"].endswith("/prod")


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


def test_target_group_waits_for_vpc_id() -> None:
    """Without vpcId the target group waits for the NLB; with it, it is created at once."""
    first = compose(_xr(), {}, platform_input())
    assert "target-group" not in first.resources
    assert "target-group: waiting for nlb to be ready" in first.status["pending"]
    with_vpc = compose(
        _xr(vpc={**SEED_SPEC["vpc"], "vpcId": "vpc-0123456789abcdef0"}), {}, platform_input()
    )
    assert _fp(with_vpc, "target-group")["vpcId"] == "vpc-0123456789abcdef0"


def test_access_logs_wait_for_log_group() -> None:
    """With access logs on, the stage is held back until the log group reports its ARN."""
    spec = {"apiGateway": {"accessLogs": {"enabled": True, "retentionDays": 14}}}
    first = compose(_xr(**spec), {}, platform_input())
    assert "stage" not in first.resources
    outcome = _converged(_xr(**spec))
    settings = _fp(outcome, "stage")["accessLogSettings"]
    assert settings["destinationArn"].endswith(
        f":log-group:/aws/apigateway/prod-env-{SEED_SUFFIX['legacy']}/access"
    )


def test_vcluster_waits_for_its_namespace() -> None:
    """The vCluster release is created only once its host namespace exists."""
    release = compose(_xr(), {}, platform_input())
    assert "vcluster" not in release.resources


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
        assert sent == f"{env}-{SEED_SUFFIX['legacy']}"
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
            suffix = f".vcluster-{other}-{SEED_SUFFIX['legacy']}.svc.cluster.local"
            assert all(h.endswith(suffix) for h in hosts)


USAGE = "usage-listener-uses-nlb"


@pytest.mark.parametrize(
    ("not_ready", "created"),
    [
        pytest.param((), True, id="both-ready"),
        pytest.param(("listener",), False, id="user-not-ready"),
        pytest.param(("nlb",), False, id="used-not-ready"),
        pytest.param(("listener", "nlb"), False, id="neither-ready"),
    ],
)  # fmt: skip
def test_usage_waits_for_both_ends(not_ready: tuple[str, ...], created: bool) -> None:
    """A new Usage is sent only once both resources it names are ready: it selects them."""
    xr = _xr()
    observed = {
        key: body for key, body in converged_observed(xr).items() if not key.startswith("usage-")
    }
    for key in not_ready:
        observed[key]["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    outcome = compose(xr, observed, platform_input())
    assert outcome.fatal is None
    assert (USAGE in outcome.resources) is created


@pytest.mark.parametrize("shape", ["legacy", "namespaced"])
def test_connection_details_are_the_status_endpoint(shape: str) -> None:
    """What a consumer learns, by connection details or the v2 Secret, is the status endpoint."""
    outcome = _converged(as_shape(load(SEED), shape))
    endpoint = outcome.status["apiGateway"]["endpoint"]
    assert outcome.connection == {"endpoint": endpoint}
    if shape == "namespaced":
        body = outcome.resources["connection-secret"]
        assert base64.b64decode(body["data"]["endpoint"]).decode() == endpoint
    else:
        assert "connection-secret" not in outcome.resources


@pytest.mark.parametrize(
    ("impostor", "why"),
    [
        pytest.param(
            {"apiVersion": "v1", "kind": "Secret"},
            "A Secret counts as ready once present; under our key it is no namespace.",
            id="secret",
        ),
        pytest.param(
            {"apiVersion": "kubernetes.crossplane.io/v1alpha1", "kind": "Object"},
            "The kind we compose, at an apiVersion we never sent, is not ours either.",
            id="other-version",
        ),
    ],
)
def test_readiness_reads_only_what_was_composed(impostor: dict[str, Any], why: str) -> None:
    """An observed object of another type under a composed key is not ready, releasing nothing."""
    xr = load(SEED)
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    outcome = compose(xr, {"namespace": {**impostor, **ready}}, platform_input())
    assert outcome.ready["namespace"] is False, why
    assert "vcluster" not in outcome.resources, why


def test_lost_resource_is_a_fatal_that_records_what_it_read() -> None:
    """A resource whose copied value vanished is a Fatal naming it; the memo keeps what it read.

    The memo answers a later call from the answers alone, so a Fatal must record the
    questions it depended on: else a fixed observed state would be refused forever.
    """
    xr = _xr()
    observed = converged_observed(xr)
    del observed["nlb"]["status"]["atProvider"]["vpcId"]
    del observed["target-group"]["spec"]["forProvider"]["vpcId"]
    outcome = compose(xr, observed, platform_input())
    assert outcome.fatal == (
        "cannot re-render observed resources target-group: "
        "a value they need disappeared from observed state"
    )
    assert ("get", "nlb", "status", "atProvider", "vpcId") in outcome.answers
    assert outcome.resources == {}


def test_every_lost_resource_is_named() -> None:
    """Two resources that lost what they copy are both named, in plan order, comma-separated."""
    xr = _xr()
    observed = converged_observed(xr)
    del observed["nlb"]["status"]["atProvider"]["vpcId"]
    del observed["target-group"]["spec"]["forProvider"]["vpcId"]
    del observed["target-group"]["status"]["atProvider"]["arn"]
    binding = observed["target-group-binding"]["spec"]["forProvider"]["manifest"]
    del binding["spec"]["targetGroupARN"]
    outcome = compose(xr, observed, platform_input())
    assert outcome.fatal == (
        "cannot re-render observed resources target-group, target-group-binding: "
        "a value they need disappeared from observed state"
    )


def test_refused_input_records_what_it_read() -> None:
    """A Fatal decided against observed state (an edit AWS cannot apply) records its answers."""
    xr = _xr()
    observed = converged_observed(xr)
    edited = copy.deepcopy(xr)
    edited["spec"]["vpc"]["subnetIds"] = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    outcome = compose(edited, observed, platform_input())
    assert outcome.fatal is not None
    assert outcome.answers != {}
