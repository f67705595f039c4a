"""Two XRs with one ``spec.name``: no composed name, label or header value is shared."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import EXAMPLES, as_shape, load, platform_input

from function.compose import compose
from function.model import naming
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate

# With _rich below, every feature that composes a name: domain, logs, apps, Grafana.
RICH = EXAMPLES / "custom-domain" / "claim.yaml"
# Values the platform or the claim gives and that are shared by design, not derived.
GIVEN_KINDS = {
    "Stage": "a stage name is unique only within its own API",
    "DomainName": "the custom domain is the claim's own; AWS refuses a taken one",
    "Certificate": "the custom domain is the claim's own",
    "Record": "the custom domain is the claim's own",
}


def _converged(xr: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = simulate(xr, platform_input())
    assert result.converged, result.fatal
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    return compose(xr, observed, platform_input()).resources


def identifiers(resources: dict[str, dict[str, Any]]) -> set[str]:
    """Every name a composed resource claims in the cluster or the AWS account."""
    found: set[str] = set()
    for resource in resources.values():
        kind, meta = resource["kind"], resource["metadata"]
        found.add(f"label:{meta['labels'][naming.LABEL_ENVIRONMENT]}")
        if "name" in meta:
            found.add(f"{kind}:{meta.get('namespace', '')}/{meta['name']}")
        for_provider = resource["spec"].get("forProvider", {}) if "spec" in resource else {}
        external = meta.get("annotations", {}).get(naming.EXTERNAL_NAME)
        if external is not None and kind not in GIVEN_KINDS:
            # A Helm release is named within the cluster its provider config reaches.
            cluster = resource["spec"]["providerConfigRef"]["name"]
            found.add(f"{kind}:{cluster}:{for_provider.get('namespace', '')}/{external}")
        # An authorizer's name is unique only within its API.
        if "name" in for_provider and kind not in {"Authorizer", *GIVEN_KINDS}:
            found.add(f"aws:{kind}:{for_provider['name']}")
        if (manifest := for_provider.get("manifest")) is not None:
            inner = manifest["metadata"]
            found.add(f"k8s:{manifest['kind']}:{inner.get('namespace', '')}/{inner['name']}")
        tenant = for_provider.get("requestParameters", {}).get(
            f"overwrite:header.{naming.TENANT_HEADER}"
        )
        if tenant is not None:
            found.add(f"tenant:{tenant}")
    return found


def _rich(shape: str) -> dict[str, Any]:
    """The custom-domain example with every other part that composes a name switched on."""
    xr = as_shape(load(RICH), shape)
    spec = xr["spec"]
    spec["include"] = [*spec["include"], "grafana", "prometheus"]
    spec["apiGateway"]["accessLogs"] = {"enabled": True}
    # No groups brought along: both of the network path's groups are composed and named.
    spec["vpc"] = {"vpcId": "vpc-0123456789abcdef0", "subnetIds": spec["vpc"]["subnetIds"]}
    spec["apps"] = [
        {"name": "web", "service": "web", "circuitBreaker": {"maxConnections": 10}},
        {"name": "admin", "service": "admin", "pathPrefix": "/admin"},
    ]
    return xr


def _pair(shape: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two XRs of one ``spec.name``: claims in two namespaces, or v2 XRs in two namespaces."""
    first = _rich(shape)
    second = copy.deepcopy(first)
    if shape == "legacy":  # each claim's XR: the claim's name and a random suffix
        first["metadata"]["name"], second["metadata"]["name"] = "env-x7k2p", "env-q9z3m"
    else:
        first["metadata"]["namespace"], second["metadata"]["namespace"] = "team-a", "team-b"
    return first, second


@pytest.mark.parametrize("shape", ["legacy", "namespaced"])
def test_one_spec_name_twice_composes_disjoint_names(shape: str) -> None:
    """Whatever one tenant names, the other never names too: no resource is shared or taken."""
    first, second = (_converged(xr) for xr in _pair(shape))
    mine, theirs = identifiers(first), identifiers(second)
    assert len(mine) > 15, sorted(mine)  # the extractor reads what is there
    assert not mine & theirs, sorted(mine & theirs)
