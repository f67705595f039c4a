"""The tenant-header policy alone: only the load balancer's ranges may send the header."""

from __future__ import annotations

from typing import Any

import crdcheck
import pytest
from apps import SLUG, ingress_input, xr
from conftest import skip_or_fail
from contexts import context, embedded

from function.builders import tenantpolicy
from function.model import keys, naming

RANGES = ["10.0.1.0/24", "10.0.2.0/24"]


@pytest.fixture(autouse=True)
def _crds_present() -> None:
    if not crdcheck.crds_dir().is_dir():
        skip_or_fail(f"shared CRDs not found at {crdcheck.crds_dir()}")


def _policy(mode: str, ranges: list[str]) -> list[Any]:
    return tenantpolicy.build(context(xr([]), ingress_input(mode, trustedSourceRanges=ranges)))


def test_no_ranges_no_policy() -> None:
    """Without the load balancer's ranges no policy can tell it apart: none is sent."""
    assert _policy("istio", []) == []


@pytest.mark.parametrize(
    ("mode", "namespace", "selector", "why"),
    [
        pytest.param("istio", "istio-ingress", {"istio": "ingressgateway"},
                     "Istio mode: the platform's ingress gateway pods", id="istio"),
        pytest.param("gatewayAPI", "istio-ingress",
                     {"gateway.networking.k8s.io/gateway-name": "shared-ingress"},
                     "Gateway API mode: the pods Istio deploys for the shared Gateway",
                     id="gateway-api"),
    ],
)  # fmt: skip
def test_policy_denies_the_header_from_elsewhere(
    mode: str, namespace: str, selector: dict[str, str], why: str
) -> None:
    """The tenant's own header value is denied unless it comes from the trusted ranges."""
    policy = embedded(_policy(mode, RANGES), keys.TENANT_POLICY)
    assert policy["metadata"]["namespace"] == namespace, why
    assert policy["metadata"]["name"] == f"{SLUG}-tenant-header", why
    assert policy["spec"]["selector"] == {"matchLabels": selector}, why
    assert policy["spec"]["action"] == "DENY"
    assert policy["spec"]["rules"] == [
        {
            "from": [{"source": {"notIpBlocks": RANGES}}],
            "when": [{"key": f"request.headers[{naming.TENANT_HEADER}]", "values": [SLUG]}],
        }
    ]
    assert crdcheck.validate(policy) == []


@pytest.mark.parametrize(
    ("reason", "shape", "path", "expected"),
    [
        pytest.param("the Object carries the policy's key, so Usages and people can select it",
                     "legacy", "metadata", {"labels": {
                         naming.LABEL_ENVIRONMENT: SLUG,
                         naming.LABEL_RESOURCE: keys.TENANT_POLICY}},
                     id="object-metadata"),
        pytest.param("a legacy XR applies it with the cluster-scoped Object",
                     "legacy", "apiVersion", "kubernetes.crossplane.io/v1alpha2",
                     id="object-legacy"),
        pytest.param("a v2 XR applies it with the namespaced Object", "namespaced",
                     "apiVersion", "kubernetes.m.crossplane.io/v1alpha1", id="object-v2"),
        pytest.param("Istio's v1 API serves AuthorizationPolicy", "legacy",
                     "spec.forProvider.manifest.apiVersion", "security.istio.io/v1",
                     id="policy-api-version"),
        pytest.param("the kind Istio enforces on the gateway's pods", "legacy",
                     "spec.forProvider.manifest.kind", "AuthorizationPolicy", id="policy-kind"),
        pytest.param("the policy itself is labelled like every composed object", "legacy",
                     "spec.forProvider.manifest.metadata.labels",
                     {naming.LABEL_ENVIRONMENT: SLUG, naming.LABEL_RESOURCE: keys.TENANT_POLICY},
                     id="policy-labels"),
    ],
)  # fmt: skip
def test_policy_object(reason: str, shape: str, path: str, expected: Any) -> None:
    """The policy reaches the host cluster in the shape's Object, labelled as its key."""
    function_input = ingress_input("istio", trustedSourceRanges=RANGES)
    found = tenantpolicy.build(context(xr([], shape=shape), function_input))
    assert [item.key for item in found] == [keys.TENANT_POLICY], reason
    value: Any = found[0].manifest
    for part in path.split("."):
        value = value[part]
    assert value == expected, reason
