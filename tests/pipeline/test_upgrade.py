"""Upgrading from 0.1.0: a live environment keeps every name, a new one gets unique names.

The observed state in tests/data/upgrade-0.1.0 was recorded by running version 0.1.0's own
code (see each file's header), so it carries the names that version really composed, not
names this code derives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import platform_input

from function.compose import compose
from function.model import naming

RECORDED = Path(__file__).resolve().parent.parent / "data" / "upgrade-0.1.0"
SHAPES = ["legacy", "namespaced"]
TENANT = f"overwrite:header.{naming.TENANT_HEADER}"
# Where a composed resource carries a name that renaming would replace or that routes depend on.
NAMED_AT = (
    ("metadata", "name"),
    ("metadata", "annotations", naming.EXTERNAL_NAME),
    ("spec", "forProvider", "name"),
    ("spec", "forProvider", "namespace"),
    ("spec", "forProvider", "manifest", "metadata", "name"),
    ("spec", "forProvider", "manifest", "metadata", "namespace"),
    ("spec", "forProvider", "requestParameters", TENANT),
)


def _recorded(shape: str) -> dict[str, Any]:
    return yaml.safe_load((RECORDED / f"{shape}.yaml").read_text(encoding="utf-8"))


def _at(resource: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(resource, dict):
            return None
        resource = resource.get(part)
    return resource


def _names(resources: dict[str, Any]) -> dict[tuple[str, tuple[str, ...]], bytes]:
    """Every name the function sets, by key and place, as the bytes sent."""
    return {
        (key, path): value.encode()
        for key, resource in resources.items()
        for path in NAMED_AT
        if isinstance(value := _at(resource, path), str)
    }


@pytest.mark.parametrize("shape", SHAPES)
def test_environment_of_0_1_0_keeps_every_name(shape: str) -> None:
    """No resource 0.1.0 composed is renamed, so none is replaced or orphaned on upgrade."""
    recorded = _recorded(shape)
    outcome = compose(recorded["xr"], recorded["observed"], platform_input())
    assert outcome.fatal is None, outcome.fatal
    before = _names(recorded["observed"])
    after = _names(outcome.resources)
    # Crossplane generates the object names of composed resources; only names we send count.
    compared = {where for where in after if where in before}
    renamed = {w: (before[w], after[w]) for w in compared if before[w] != after[w]}
    assert renamed == {}
    spec_name = recorded["xr"]["spec"]["name"]
    kept = {after[where] for where in compared}
    # What 0.1.0 named after spec.name alone, and this version would otherwise suffix.
    for name in (
        f"vcluster-{spec_name}",
        f"{spec_name}-vcluster",
        f"{spec_name}-nlb",
        f"{spec_name}-tg",
        f"{spec_name}-vpclink",
        f"{spec_name}-ingress",
        f"/aws/apigateway/{spec_name}/access",
        spec_name,
    ):
        assert name.encode() in kept, name
    # Nor is any dropped: Crossplane would delete it.
    assert set(recorded["observed"]) <= set(outcome.resources)


@pytest.mark.parametrize("shape", SHAPES)
def test_new_environment_gets_unique_names(shape: str) -> None:
    """The same XR composed from nothing gets the suffixed names, none of 0.1.0's."""
    recorded = _recorded(shape)
    outcome = compose(recorded["xr"], {}, platform_input())
    assert outcome.fatal is None, outcome.fatal
    old = set(_names(recorded["observed"]).values())
    new = _names(outcome.resources)
    namespace = new["namespace", ("spec", "forProvider", "manifest", "metadata", "name")]
    assert namespace.startswith(f"vcluster-{recorded['xr']['spec']['name']}-".encode())
    assert namespace not in old
