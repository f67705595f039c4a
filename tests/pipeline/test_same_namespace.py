"""Two v2 XRs in one namespace may share ``spec.name``: nothing either composes may share a name.

A v2 XR is unique by namespace and name, not by ``spec.name``, so two environments of one
team can both be called ``payments``. Anything they share by name (the kubeconfig copy Helm
reads, the Role that lets the vCluster write it, a host namespace, an AWS name) would let one
overwrite or read the other's.
"""

from __future__ import annotations

import copy
from typing import Any

from conftest import EXAMPLES, load, platform_input

from function.model import naming
from function.offline.simulate import simulate

XR = load(EXAMPLES / "v2" / "xr.yaml")  # namespaced, with Prometheus: the kubeconfig is copied


def _named(resource: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    """(kind, namespace, name) of every object one composed resource names or makes."""
    found: set[tuple[str, str | None, str]] = set()
    metadata = resource.get("metadata", {})
    if "name" in metadata:
        found.add((resource["kind"], metadata.get("namespace"), metadata["name"]))
    for_provider = resource.get("spec", {}).get("forProvider", {})
    if naming.EXTERNAL_NAME in metadata.get("annotations", {}):
        # A Helm release is named within its namespace.
        where = for_provider.get("namespace")
        found.add((resource["kind"], where, metadata["annotations"][naming.EXTERNAL_NAME]))
    manifest = for_provider.get("manifest")
    if isinstance(manifest, dict):
        found |= _named(manifest)
    values = for_provider.get("values", {})
    for secret in values.get("exportKubeConfig", {}).get("additionalSecrets", []):
        found.add(("Secret", secret["namespace"], secret["name"]))
    if isinstance(for_provider.get("name"), str):
        found.add((resource["kind"], for_provider.get("namespace"), for_provider["name"]))
    return found


def _converged_names(name: str, user: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    xr = copy.deepcopy(XR)
    xr["metadata"]["name"] = name
    xr["spec"].update(user)
    result = simulate(xr, platform_input())
    assert result.converged, result.fatal
    return set().union(*(_scoped(r) for r in result.rounds[-1].desired.values()))


def test_two_xrs_of_one_namespace_share_no_name() -> None:
    """Same namespace and spec.name, other XR names: no object name is composed by both."""
    # The domain and stage are the user's own choice, not names this function derives.
    first = _converged_names("staging", {})
    second = _converged_names(
        "staging-2",
        {
            "domain": "other.mycompany.com",
            "apiGateway": {**XR["spec"]["apiGateway"], "stageName": "v2"},
        },
    )
    assert {kind for kind, _, _ in first} >= {"Role", "RoleBinding", "Secret"}  # copied kubeconfig
    assert first & second == set()


def _scoped(resource: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    """What one composed resource names, scoped by the cluster or account it writes to."""
    config = resource.get("spec", {}).get("providerConfigRef", {}).get("name", "")
    return {(kind, f"{config}/{where}", name) for kind, where, name in _named(resource)}
