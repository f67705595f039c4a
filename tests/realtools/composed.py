"""Reading composed resources: an XR's references to them, and what an Object applies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

OBJECT_GROUPS = ("kubernetes.crossplane.io/", "kubernetes.m.crossplane.io/")


def refs_of(xr: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The composed resources an XR lists (legacy ``spec.resourceRefs``, v2 under crossplane)."""
    spec = xr.get("spec") or {}
    refs = spec.get("resourceRefs") or (spec.get("crossplane") or {}).get("resourceRefs") or []
    return [dict(r) for r in refs]


def manifest_of(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The manifest a provider-kubernetes Object applies, if ``body`` is one."""
    if body.get("kind") != "Object" or not str(body.get("apiVersion")).startswith(OBJECT_GROUPS):
        return None
    manifest = ((body.get("spec") or {}).get("forProvider") or {}).get("manifest")
    return manifest if isinstance(manifest, dict) else None
