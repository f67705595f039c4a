"""The XRDs on a real API server: Established, within the CEL cost budget, refusing bad claims.

Only a real API server checks a CRD's CEL rules against its cost budget (Kubernetes 1.35
refuses a rule whose estimated cost exceeds it), and Crossplane derives the XR and claim
CRDs from the XRDs, so an XRD with an expensive rule never becomes Established: its derived
CRD is refused and only its Warning events say why. Each claim below is sent as a
server-side dry run, so the API server's own CEL evaluation answers.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from realtools import install
from realtools.kube import ApiError

if TYPE_CHECKING:
    from pathlib import Path

    from realtools.controlplane import ControlPlane

pytestmark = pytest.mark.xdist_group("controlplane")

GROUP_VERSION = "platform.example.org/v1alpha1"
# Kind -> (XRD file, namespace): how a user submits one, per XRD.
SUBMITTED_AS = {
    "VClusterEnvironmentClaim": (install.XRDS[0], "default"),
    "VClusterEnvironment": (install.XRDS[1], "default"),
}
COST_REFUSAL = "estimated rule cost exceeds budget"
# The bound the pairwise pathPrefix rule's strings had before: 1.0173 times the budget.
OLD_PATH_PREFIX_MAX = 256


def _claim(kind: str, **spec: Any) -> dict[str, Any]:
    _, namespace = SUBMITTED_AS[kind]
    return {
        "apiVersion": GROUP_VERSION,
        "kind": kind,
        "metadata": {"name": "admission-probe", "namespace": namespace},
        "spec": {"name": "probe", **spec},
    }


def _apps(*apps: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"service": "web", **app} for app in apps]


@pytest.mark.parametrize("path", install.XRDS, ids=lambda p: p.stem)
def test_xrd_is_established(
    control_plane: ControlPlane,
    project_apis: dict[str, install.XrdOutcome],
    path: Path,
) -> None:
    """Both XRDs as shipped: Established, and no derived CRD refused on the way."""
    xrd = install.load(path)
    outcome = project_apis[xrd["metadata"]["name"]]
    assert outcome.seconds is not None, outcome.warnings
    assert [w for w in outcome.warnings if install.REFUSED in w] == []
    crds = {
        c["metadata"]["name"]
        for c in control_plane.client.list(install.CRD_API, "CustomResourceDefinition")
    }
    assert set(install.derived_crds(xrd)) <= crds


def _spec_schema_as_crd(path: Path, max_length: int) -> dict[str, Any]:
    """A CRD with the XRD's schema and its path strings bounded at ``max_length``."""
    xrd = install.load(path)
    schema = copy.deepcopy(xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    app = schema["properties"]["spec"]["properties"]["apps"]["items"]["properties"]
    app["pathPrefix"]["maxLength"] = max_length
    plural = f"costprobes{max_length}"
    return {
        "apiVersion": install.CRD_API,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.cost.example.org"},
        "spec": {
            "group": "cost.example.org",
            "scope": "Namespaced",
            "names": {"kind": f"CostProbe{max_length}", "plural": plural},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


@pytest.mark.parametrize("path", install.XRDS, ids=lambda p: p.stem)
def test_path_prefix_bound_keeps_the_pairwise_rule_in_budget(
    control_plane: ControlPlane, path: Path
) -> None:
    """Kubernetes 1.35 CEL cost budget: the pathPrefix bound is what keeps the XRDs in it.

    The unique-pathPrefix rule compares every pair of up to 300 apps, and a string comparison
    costs in proportion to the strings' maxLength. At the old bound of 256 the API server
    refuses the schema (by a factor of 1.0173); at the XRD's own bound it accepts it.
    """
    client = control_plane.client
    shipped = install.load(path)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    bound = shipped["properties"]["spec"]["properties"]["apps"]["items"]["properties"][
        "pathPrefix"
    ]["maxLength"]
    assert bound < OLD_PATH_PREFIX_MAX
    client.create(_spec_schema_as_crd(path, bound), dry_run=True)
    with pytest.raises(ApiError, match=COST_REFUSAL) as refused:
        client.create(_spec_schema_as_crd(path, OLD_PATH_PREFIX_MAX), dry_run=True)
    assert "x-kubernetes-validations[1].rule" in refused.value.message


BAD_CLAIMS = [
    # Two apps with one name: routes and Istio objects are named after apps.
    pytest.param(
        {"apps": _apps({"name": "a", "pathPrefix": "/a"}, {"name": "a", "pathPrefix": "/b"})},
        "apps: each name must be unique",
        id="duplicate-app-name",
    ),
    # Two host-less apps on one prefix: one of them could never be reached.
    pytest.param(
        {"apps": _apps({"name": "a", "pathPrefix": "/x"}, {"name": "b", "pathPrefix": "/x"})},
        "apps: each pathPrefix must be unique among apps without hosts",
        id="duplicate-path-prefix",
    ),
    # Each app with auth or throttling takes two of the HTTP API's 300 routes.
    pytest.param(
        {
            "apps": _apps(
                *({"name": f"a{i}", "pathPrefix": f"/p{i}", "throttling": {}} for i in range(150))
            )
        },
        "apps: at most 149 apps may set auth or throttling",
        id="too-many-throttled-apps",
    ),
    # JWT auth on an app needs the API's JWT authorizer.
    pytest.param(
        {"apps": _apps({"name": "a", "auth": {"type": "JWT"}})},
        "apps ask for JWT auth but no JWT authorizer is configured",
        id="jwt-without-authorizer",
    ),
    # Browsers refuse credentials with a wildcard origin.
    pytest.param(
        {"apiGateway": {"cors": {"allowOrigins": ["*"], "allowCredentials": True}}},
        "'*' cannot be combined with allowCredentials: true",
        id="credentials-with-wildcard-origin",
    ),
    # A canary split is exactly two destinations adding up to 100.
    pytest.param(
        {
            "apps": _apps(
                {
                    "name": "a",
                    "destinations": [
                        {"service": "a", "weight": 90},
                        {"service": "b", "weight": 20},
                    ],
                }
            )
        },
        "destinations: the weights must add up to 100",
        id="canary-weights",
    ),
    # A path longer than the bound that keeps the pairwise rule within the cost budget.
    pytest.param(
        {"apps": _apps({"name": "a", "pathPrefix": "/" + "p" * 128})},
        "Too long: may not be more than 128 bytes",
        id="path-prefix-too-long",
    ),
]


@pytest.mark.usefixtures("project_apis")
@pytest.mark.parametrize("kind", sorted(SUBMITTED_AS))
@pytest.mark.parametrize(("spec", "message"), BAD_CLAIMS)
def test_bad_claim_is_refused_at_admission(
    control_plane: ControlPlane, kind: str, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as refused:
        control_plane.client.create(_claim(kind, **spec), dry_run=True)
    assert refused.value.reason == "Invalid", refused.value
    assert message in refused.value.message


@pytest.mark.usefixtures("project_apis")
@pytest.mark.parametrize("kind", sorted(SUBMITTED_AS))
def test_good_claim_is_admitted(control_plane: ControlPlane, kind: str) -> None:
    """Apps at the limits the rules allow: distinct names and prefixes, one prefix per host."""
    apps = _apps(
        {"name": "web", "pathPrefix": "/" + "p" * 127},
        {"name": "a", "pathPrefix": "/x", "hosts": ["a.example.com"]},
        {"name": "b", "pathPrefix": "/x", "hosts": ["b.example.com"]},
        *({"name": f"t{i}", "pathPrefix": f"/t{i}", "throttling": {}} for i in range(149)),
    )
    created = control_plane.client.create(_claim(kind, apps=apps), dry_run=True)
    assert len(created["spec"]["apps"]) == len(apps)
