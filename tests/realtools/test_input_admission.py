"""The function's input CRD on a real API server: within the CEL cost budget, and strict.

It refuses the same unbounded or multi-line input the function refuses (``bad-inputs.yaml``).
The control plane installs the input CRD before the XRDs and waits for it to be Established,
so a rule the API server refuses (its CEL cost included) fails every suite here. Each Input
below is a server-side dry run, so the API server's own validation, CEL included, answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from realtools import install
from realtools.kube import ApiError

if TYPE_CHECKING:
    from realtools.controlplane import ControlPlane

pytestmark = pytest.mark.xdist_group("controlplane")

API_VERSION = "vclusterenvironment.fn.platform.example.org/v1beta1"
INPUT_CRD = "inputs.vclusterenvironment.fn.platform.example.org"


def _input(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Input",
        "metadata": {"name": "admission-probe", "namespace": "default"},
        **fields,
    }


@pytest.mark.usefixtures("project_apis")
def test_input_crd_is_established(control_plane: ControlPlane) -> None:
    """The API server accepted the input CRD, its CEL rule on the selector's keys included."""
    crd = control_plane.client.get(install.CRD_API, "CustomResourceDefinition", INPUT_CRD)
    assert crd is not None
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True"
    selector = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"][
        "ingressGateway"
    ]["properties"]["selector"]
    assert selector["x-kubernetes-validations"]


BAD_INPUTS = [
    # A line break in the health check path would forge a header line in the health check.
    pytest.param(
        {"ingressGateway": {"healthCheckPath": "/healthz/ready\r\nHost: x"}},
        "ingressGateway.healthCheckPath",
        id="health-check-path-crlf",
    ),
    # AWS takes a health check path of at most 1024 characters.
    pytest.param(
        {"ingressGateway": {"healthCheckPath": "/" + "p" * 1024}},
        "Too long: may not be more than 1024",
        id="health-check-path-too-long",
    ),
    # A selector key is a label key: the CEL rule refuses a space.
    pytest.param(
        {"ingressGateway": {"selector": {"istio gateway": "x"}}},
        "each key must be a Kubernetes label key",
        id="selector-key",
    ),
    # A label key's prefix is at most 253 characters: only the CEL rule's indexOf sees it.
    pytest.param(
        {"ingressGateway": {"selector": {"p" * 254 + "/app": "x"}}},
        "each key must be a Kubernetes label key",
        id="selector-key-prefix",
    ),
    # A label value is one line of at most 63 characters.
    pytest.param(
        {"ingressGateway": {"selector": {"istio": "v" * 64}}},
        "Too long: may not be more than 63",
        id="selector-value",
    ),
    # A ProviderConfig is named as a DNS subdomain.
    pytest.param(
        {"providerConfigs": {"aws": "My Config"}},
        "providerConfigs.aws",
        id="provider-config-name",
    ),
    # A chart comes from an https, http or oci repository, never a file.
    pytest.param(
        {"charts": {"vcluster": {"repository": "file:///x", "name": "v", "version": "1.0.0"}}},
        "charts.vcluster.repository",
        id="chart-repository",
    ),
]


@pytest.mark.usefixtures("project_apis")
@pytest.mark.parametrize(("fields", "message"), BAD_INPUTS)
def test_bad_input_is_refused_at_admission(
    control_plane: ControlPlane, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as refused:
        control_plane.client.create(_input(**fields), dry_run=True)
    assert refused.value.reason == "Invalid", refused.value
    assert message in refused.value.message, refused.value.message


@pytest.mark.usefixtures("project_apis")
def test_input_at_its_limits_is_admitted(control_plane: ControlPlane) -> None:
    """Every bound at its limit passes: the refusals above are not a blanket refusal."""
    prefix = f"{'a' * 61}.b.{'c' * 189}"
    created = control_plane.client.create(
        _input(
            ingressGateway={
                "healthCheckPath": "/" + "p" * 1023,
                "selector": {f"k{i}": "v" * 63 for i in range(15)} | {f"{prefix}/{'n' * 63}": ""},
            },
            providerConfigs={"aws": "a" * 253},
            charts={
                "vcluster": {"repository": "oci://r.example.com/c", "name": "v", "version": "1.0.0"}
            },
        ),
        dry_run=True,
    )
    assert len(created["ingressGateway"]["selector"]) == 16
