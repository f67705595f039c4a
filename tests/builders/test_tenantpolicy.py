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
