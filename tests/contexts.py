"""A builder's inputs made by hand: a Context from a claim, and observed state as AWS reports it.

With these a builder is tested on its own, without the pipeline or a simulation.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from conftest import SEED, as_shape, load, platform_input

from function import compose
from function.model.observed import Observed

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from function.model.context import Context, Desired

READY = {"type": "Ready", "status": "True"}
# The identity suffix of the seed claim's XR in each shape: 16 hex digits of the SHA-256
# of '/production-vcluster' (legacy) and 'team-a/production-vcluster' (namespaced).
SEED_SUFFIX = {"legacy": "381583e839d74e93", "namespaced": "1747f004f355faef"}
NOT_READY = {"type": "Ready", "status": "False"}


def claim(source: Path = SEED, shape: str = "legacy", **spec: Any) -> dict[str, Any]:
    """An example as an XR of ``shape``, with spec fields set (None removes one)."""
    xr = as_shape(load(source), shape)
    for field, value in spec.items():
        if value is None:
            xr["spec"].pop(field, None)
        else:
            xr["spec"][field] = copy.deepcopy(value)
    return xr


def context(
    xr: dict[str, Any] | None = None,
    function_input: dict[str, Any] | None = None,
    observed: Mapping[str, Mapping[str, Any]] | None = None,
) -> Context:
    """The Context a builder gets for ``xr`` (the seed claim) and observed state."""
    return compose.context(
        claim() if xr is None else xr,
        Observed(observed or {}),
        platform_input() if function_input is None else function_input,
    )


def reported(*, ready: bool = True, **at_provider: Any) -> dict[str, Any]:
    """An observed resource: what AWS reported for it, and whether it is ready."""
    return {"status": {"atProvider": at_provider, "conditions": [READY if ready else NOT_READY]}}


def as_observed(item: Desired, **at_provider: Any) -> dict[str, Any]:
    """A composed resource as Crossplane observes it once created: sent, then reported."""
    assert item.manifest is not None, f"{item.key} has no manifest yet"
    return {**copy.deepcopy(item.manifest), **reported(**at_provider)}


def by_key(desired: Iterable[Desired]) -> dict[str, Desired]:
    """Desired resources by key."""
    return {item.key: item for item in desired}


def for_provider(desired: Iterable[Desired], key: str) -> dict[str, Any]:
    """The ``spec.forProvider`` of the resource ``key``, which must have a manifest."""
    manifest = by_key(desired)[key].manifest
    assert manifest is not None, f"{key} has no manifest yet"
    found: dict[str, Any] = manifest["spec"]["forProvider"]
    return found


def embedded(desired: Iterable[Desired], key: str) -> dict[str, Any]:
    """The manifest a provider-kubernetes Object applies to the host cluster."""
    found: dict[str, Any] = for_provider(desired, key)["manifest"]
    return found
