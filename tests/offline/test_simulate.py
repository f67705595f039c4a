"""Every example converges in both XR shapes, never drops a resource, and is well-formed.

Each round's composed resources are checked for what ``crossplane resource validate``
(tests/realtools) does not check: object metadata and core Secrets; and the vCluster's
Helm values against the chart's own schema.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import crdcheck
import pytest
from conftest import SEED, as_shape, case_name, example_files, load, platform_input

from function.model import naming
from function.offline.simulate import Simulation, simulate

if TYPE_CHECKING:
    from pathlib import Path

SHAPES = ("legacy", "namespaced")
CASES = [
    pytest.param(path, shape, id=f"{case_name(path)}-{shape}")
    for path in example_files()
    for shape in SHAPES
]
AWS_GROUP_SUFFIXES = (".aws.upbound.io", ".aws.m.upbound.io")
# Namespaced kinds outside the providers' .m. groups that a v2 XR may compose.
NAMESPACED_CORE = {("protection.crossplane.io", "Usage"), ("v1", "Secret")}


@cache
def _run(path: Path, shape: str) -> Simulation:
    return simulate(as_shape(load(path), shape), platform_input())


pytestmark = pytest.mark.usefixtures("crds_present")


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_converges_without_dropping(path: Path, shape: str) -> None:
    """The example reaches a ready XR and no round leaves out an observed resource."""
    result = _run(path, shape)
    assert result.fatal is None
    assert result.converged, [r.status.get("pending") for r in result.rounds[-2:]]
    assert result.dropped == []
    assert result.final_status["ready"] is True
    assert result.final_status["pending"] == []


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_every_round_has_valid_metadata(path: Path, shape: str) -> None:
    """Every resource of every round has names, labels and annotations the API server admits.

    Each resource's schema and CEL rules are checked by the real ``crossplane resource
    validate`` at every round (tests/realtools/test_render.py, which also shows that render
    composes the same resources as simulate); it checks neither object metadata nor the
    fields of a core Secret, so those are checked here.
    """
    problems = [
        f"round {r.number} {key} ({body['apiVersion']} {body['kind']}): {error}"
        for r in _run(path, shape).rounds
        for key, body in r.desired.items()
        for error in crdcheck.validate_schema(body, _UNCHECKED_SCHEMA.get(_kind(body), _ANY))
    ]
    assert problems == []


def _kind(body: dict[str, Any]) -> tuple[str, str]:
    return body["apiVersion"], body["kind"]


# Schemas crank leaves to us: any content (metadata is always checked), and a core Secret.
_ANY = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_UNCHECKED_SCHEMA = {
    ("v1", "Secret"): {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "data": {
                "type": "object",
                "additionalProperties": {"type": "string", "format": "byte"},
            },
        },
    },
}


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_helm_values_match_chart_schema(path: Path, shape: str) -> None:
    """The vCluster release's values validate against the vcluster 0.36 values schema."""
    final = _run(path, shape).rounds[-1].desired
    values = final["vcluster"]["spec"]["forProvider"]["values"]
    assert crdcheck.validate_helm_values(values) == []


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_shape_picks_api_groups(path: Path, shape: str) -> None:
    """Legacy XRs compose cluster-scoped groups; v2 XRs only namespaced kinds in their namespace."""
    result = _run(path, shape)
    for body in result.rounds[-1].desired.values():
        group = body["apiVersion"].split("/")[0]
        if shape == "legacy":
            assert ".m." not in group, body["apiVersion"]
            assert "namespace" not in body["metadata"]
            assert (group, body["kind"]) not in NAMESPACED_CORE
        else:
            assert (
                group.endswith((".m.upbound.io", ".m.crossplane.io"))
                or (
                    group,
                    body["kind"],
                )
                in NAMESPACED_CORE
            ), body["apiVersion"]
            assert (
                body["metadata"]["namespace"]
                == as_shape(load(path), shape)["metadata"]["namespace"]
            )
        # route53 is global: its Record is the one AWS kind without a region.
        if group.endswith(AWS_GROUP_SUFFIXES) and not group.startswith("route53."):
            assert body["spec"]["forProvider"]["region"]


def _by_round(result: Simulation) -> list[list[str]]:
    return [sorted(r.created) for r in result.rounds]


def test_seed_order_of_creation() -> None:
    """Dependents appear only after what they need: the documented waves of the seed claim."""
    result = _run(SEED, "legacy")
    assert _by_round(result) == [
        ["api", "certificate", "namespace", "nlb", "vpc-link"],
        ["certificate-validation", "ingress-gateway", "stage", "target-group", "vcluster"],
        ["domain-name", "listener", "target-group-binding", "usage-vcluster-uses-namespace",
         "vcluster-provider-config"],
        [
            "api-mapping", "grafana", "integration", "prometheus",
            "usage-domain-name-uses-certificate", "usage-listener-uses-nlb",
            "usage-listener-uses-target-group", "usage-target-group-binding-uses-target-group",
        ],
        [
            "route-proxy", "route-root", "usage-api-mapping-uses-domain-name",
            "usage-grafana-uses-namespace", "usage-grafana-uses-vcluster",
            "usage-integration-uses-listener", "usage-integration-uses-vpc-link",
            "usage-prometheus-uses-namespace", "usage-prometheus-uses-vcluster",
        ],
        [],
    ]  # fmt: skip


def test_seed_status_is_filled() -> None:
    """The seed claim's status carries the API id, invoke URL, VPC link id and stage."""
    final = _run(SEED, "legacy").final_status["apiGateway"]
    last = _run(SEED, "legacy").rounds[-1]
    observed_api = last.observed_before["api"]["status"]["atProvider"]
    observed_stage = last.observed_before["stage"]["status"]["atProvider"]
    assert final["id"] == observed_api["id"]
    assert observed_stage["invokeUrl"].startswith(f"https://{final['id']}.execute-api.")
    # The seed has a custom domain: once it is live the endpoint is the domain.
    assert final["endpoint"] == "https://api.mycompany.com"
    assert final["vpcLinkId"] == last.observed_before["vpc-link"]["status"]["atProvider"]["id"]
    assert final["stage"] == "prod"


def _integration(result: Simulation) -> dict[str, Any]:
    return result.rounds[-1].desired["integration"]["spec"]["forProvider"]


def test_integration_targets_listener_arn() -> None:
    """The integration's URI is the observed listener ARN, never a DNS name."""
    result = _run(SEED, "legacy")
    listener_arn = result.rounds[-1].observed_before["listener"]["status"]["atProvider"]["arn"]
    integration = _integration(result)
    assert integration["integrationUri"] == listener_arn
    assert ":listener/net/" in integration["integrationUri"]
    assert integration["connectionType"] == "VPC_LINK"
    assert integration["connectionIdSelector"] == {"matchControllerRef": True}
    assert integration["requestParameters"]["overwrite:path"] == "$request.path"
    assert integration["requestParameters"][f"overwrite:header.{naming.TENANT_HEADER}"] == (
        "prod-env-381583e839d74e93"
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_seed_is_served_on_the_prod_stage(shape: str) -> None:
    """The Compositions serve the seed on its `prod` stage, the backend never seeing the prefix.

    The seed asks for a `prod` stage; a named stage's prefix reaches the backend unless the
    integration overwrites the path (FIELD-NOTES: AWS API Gateway HTTP API). The endpoint is
    the stage's invoke URL, ending in /prod, until the custom domain is live.
    """
    result = _run(SEED, shape)
    before_domain = [
        r.status["apiGateway"]["endpoint"]
        for r in result.rounds
        if r.status.get("apiGateway", {}).get("endpoint")
        and not r.status.get("customDomain", {}).get("ready")
    ]
    assert before_domain
    assert all(url.endswith(".amazonaws.com/prod") for url in before_domain), before_domain
    assert result.final_status["apiGateway"]["endpoint"] == "https://api.mycompany.com"
    last = result.rounds[-1].desired
    stage = next(body for body in last.values() if body["kind"] == "Stage")
    assert stage["metadata"]["annotations"][naming.EXTERNAL_NAME] == "prod"
    integration = next(body for body in last.values() if body["kind"] == "Integration")
    parameters = integration["spec"]["forProvider"]["requestParameters"]
    assert parameters["overwrite:path"] == "$request.path"
