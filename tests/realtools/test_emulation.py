"""The provider emulation on its own: what it reports, resolves and refuses (no tools needed)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from realtools import emulation
from realtools.project import TRANSITION_TIME

XR_UID = "0b6c0a4e-0000-4000-8000-000000000001"
OTHER_UID = "0b6c0a4e-0000-4000-8000-000000000002"
AWS = "apigatewayv2.aws.upbound.io/v1beta1"
REQUIRED_CONDITION_FIELDS = {"type", "status", "reason", "lastTransitionTime"}


def _composed(
    kind: str,
    key: str,
    api_version: str = AWS,
    *,
    spec: dict[str, Any] | None = None,
    controller: str = XR_UID,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A composed resource as render prints it: name, labels, controller reference."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": f"env-{key}",
            "annotations": {"crossplane.io/composition-resource-name": key},
            "labels": {"crossplane.io/composite": "env", **(labels or {})},
            "ownerReferences": [
                {"apiVersion": "platform.example.org/v1alpha1", "kind": "XVClusterEnvironment",
                 "name": "env", "uid": controller, "controller": True},
            ],
        },
        "spec": {"forProvider": {"region": "us-east-1", **(spec or {})}},
    }  # fmt: skip


API = _composed("API", "api", "apigatewayv2.aws.upbound.io/v1beta2", spec={"protocolType": "HTTP"})
SELECT = {"matchControllerRef": True}
FORWARD = {"type": "forward", "targetGroupArnSelector": SELECT}


def _observed_api(controller: str = XR_UID) -> dict[str, Any]:
    return emulation.observe(
        _composed(
            "API", "api", API["apiVersion"], spec={"protocolType": "HTTP"}, controller=controller
        ),
        [],
    )


def _conditions(obj: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["type"]: c for c in obj["status"].get("conditions", [])}


@pytest.mark.parametrize(
    ("manifest", "types", "at_provider"),
    [
        pytest.param(
            API, {"Ready", "Synced"}, {"id", "arn", "apiEndpoint"},
            id="aws-api",
        ),  # An upjet kind: both conditions, and the ids and ARN AWS assigns.
        pytest.param(
            _composed("Release", "vcluster", "helm.crossplane.io/v1beta1",
                      spec={"chart": {"name": "vcluster"}}),
            {"Ready", "Synced"}, {"state", "revision"},
            id="helm-release",
        ),  # provider-helm reports the release state, never an AWS id.
        pytest.param(
            _composed("Object", "namespace", "kubernetes.crossplane.io/v1alpha2",
                      spec={"manifest": {"apiVersion": "v1", "kind": "Namespace"}}),
            {"Ready", "Synced"}, {"manifest"},
            id="kubernetes-object",
        ),  # provider-kubernetes' Object status has atProvider.manifest only, no id.
        pytest.param(
            {"apiVersion": "protection.crossplane.io/v1beta1", "kind": "ClusterUsage",
             "metadata": {"name": "u"}, "spec": {"replayDeletion": True}},
            {"Ready"}, None,
            id="usage",
        ),  # Core's Usage controller sets Ready only, and its status has no atProvider.
    ],
)  # fmt: skip
def test_reports_only_what_the_kind_has(
    manifest: dict[str, Any], types: set[str], at_provider: set[str] | None
) -> None:
    """Each kind gets the conditions and atProvider fields its CRD status schema has."""
    observed = emulation.observe(manifest, [])
    conditions = _conditions(observed)
    assert set(conditions) == types
    assert all(c["status"] == "True" for c in conditions.values())
    assert all(set(c) >= REQUIRED_CONDITION_FIELDS for c in conditions.values())
    if at_provider is None:
        assert "atProvider" not in observed["status"]
    else:
        assert set(observed["status"]["atProvider"]) == at_provider


@pytest.mark.parametrize(
    "manifest",
    [
        # A ProviderConfig has no Ready condition: it counts as ready once it exists.
        pytest.param(_composed("ProviderConfig", "pc", "helm.crossplane.io/v1beta1"), id="pc"),
        # A core Secret has no status at all.
        pytest.param(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}, id="secret"
        ),
    ],
)
def test_kinds_without_status(manifest: dict[str, Any]) -> None:
    """No provider writes a status for these kinds, so the emulation writes none either."""
    assert "status" not in emulation.observe(manifest, [])
    assert emulation.status(manifest, []) == {}


@pytest.mark.parametrize(
    ("manifest", "others", "path", "expected"),
    [
        pytest.param(
            _composed("Stage", "stage", spec={"apiIdSelector": SELECT}),
            [_observed_api()], ("apiId",), "{id}",
            id="api-id",
        ),  # upjet resolves apiIdSelector to the API's external name (its AWS id).
        pytest.param(
            _composed("Route", "route", spec={"targetSelector": SELECT}),
            [emulation.observe(_composed("Integration", "integration"), [])],
            ("target",), "integrations/{id}",
            id="route-target",
        ),  # A Route's target is integrations/<integration id>, not a bare id.
        pytest.param(
            _composed("DomainName", "domain-name", "apigatewayv2.aws.upbound.io/v1beta2",
                      spec={"domainNameConfiguration": {"certificateArnSelector": SELECT}}),
            [emulation.observe(_composed("Certificate", "certificate",
                                         "acm.aws.upbound.io/v1beta2"), [])],
            ("domainNameConfiguration", "certificateArn"), "{arn}",
            id="nested-certificate-arn",
        ),  # Selectors nested in an object resolve in place.
        pytest.param(
            _composed("LBListener", "listener", "elbv2.aws.upbound.io/v1beta2",
                      spec={"defaultAction": [FORWARD]}),
            [emulation.observe(_composed("LBTargetGroup", "target-group",
                                         "elbv2.aws.upbound.io/v1beta2"), [])],
            ("defaultAction", 0, "targetGroupArn"), "{arn}",
            id="list-item-target-group-arn",
        ),  # Selectors inside list items (defaultAction) resolve too.
    ],
)  # fmt: skip
def test_resolves_references(
    manifest: dict[str, Any], others: list[dict[str, Any]], path: tuple[Any, ...], expected: str
) -> None:
    """A selector matching a resource with a value gets the value (``expected``) and a Ref."""
    observed = emulation.observe(manifest, others)
    holder: Any = observed["spec"]["forProvider"]
    for step in path[:-1]:
        holder = holder[step]
    field = path[-1]
    assert holder[field] == expected.format(**others[0]["status"]["atProvider"])
    assert holder[f"{field}Ref"] == {"name": others[0]["metadata"]["name"]}
    assert _conditions(observed)["Ready"]["status"] == "True"


@pytest.mark.parametrize(
    "others",
    [
        # Nothing observed yet: the API the stage needs does not exist.
        pytest.param([], id="nothing-observed"),
        # An API composed by another XR never matches matchControllerRef.
        pytest.param([_observed_api(OTHER_UID)], id="other-controller"),
        # An API not created yet has no id to resolve to.
        pytest.param([{**API, "status": {}}], id="no-value-yet"),
    ],
)
def test_unresolved_reference_blocks_creation(others: list[dict[str, Any]]) -> None:
    """Without a value to resolve to, the provider cannot create the resource: no ids, not ready."""
    observed = emulation.observe(
        _composed("Stage", "stage", spec={"apiIdSelector": SELECT}), others
    )
    conditions = _conditions(observed)
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Synced"]["status"] == "False"
    assert "apiIdSelector" in conditions["Synced"]["message"]
    assert "atProvider" not in observed["status"]
    assert "apiId" not in observed["spec"]["forProvider"]


def test_usage_selectors_resolve_to_refs() -> None:
    """Core resolves a Usage's resourceSelectors to resourceRefs among the XR's resources."""
    listener = emulation.observe(
        _composed("LBListener", "listener", "elbv2.aws.upbound.io/v1beta2",
                  labels={"platform.example.org/resource": "listener"}),
        [],
    )  # fmt: skip
    end = {
        "apiVersion": "elbv2.aws.upbound.io/v1beta2",
        "kind": "LBListener",
        "resourceSelector": {
            "matchControllerRef": True,
            "matchLabels": {"platform.example.org/resource": "listener"},
        },
    }
    usage = _composed("ClusterUsage", "usage", "protection.crossplane.io/v1beta1")
    usage["spec"] = {"of": copy.deepcopy(end), "by": {**copy.deepcopy(end), "kind": "LB"}}
    observed = emulation.observe(usage, [listener])
    assert observed["spec"]["of"]["resourceRef"] == {"name": "env-listener"}
    # Nothing of kind LB matches: core records no condition until it resolves.
    assert observed["status"] == {}


def test_deterministic_and_pure() -> None:
    """Same input, same output (a fixed transition time); the inputs are never modified."""
    stage = _composed("Stage", "stage", spec={"apiIdSelector": SELECT})
    others = [_observed_api()]
    before = copy.deepcopy((stage, others))
    first = emulation.observe(stage, others)
    assert emulation.observe(stage, others) == first
    assert emulation.status(stage, others) == first["status"]
    assert (stage, others) == before
    times = {c["lastTransitionTime"] for c in first["status"]["conditions"]}
    assert times == {TRANSITION_TIME}


def test_external_name_is_recorded() -> None:
    """As upjet does after creating a resource, the AWS id becomes the external name."""
    observed = _observed_api()
    annotations = observed["metadata"]["annotations"]
    assert annotations[emulation.EXTERNAL_NAME] == observed["status"]["atProvider"]["id"]
