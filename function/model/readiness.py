"""Readiness of composed resources, reported to Crossplane per resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Kinds that never carry a Ready condition: they are ready once they exist.
_READY_WHEN_PRESENT = frozenset({"ProviderConfig", "Secret"})


def is_ready(resource: Mapping[str, Any] | None) -> bool:
    """A composed resource is ready only when observed with Ready=True.

    Anything else (not yet created, no conditions, Ready False or Unknown, a
    malformed status) is not ready, never unspecified, so Crossplane cannot guess.
    """
    if resource is None:
        return False
    kind = resource.get("kind")
    if isinstance(kind, str) and kind in _READY_WHEN_PRESENT:
        return True
    status = resource.get("status")
    conditions = status.get("conditions") if isinstance(status, Mapping) else None
    if not isinstance(conditions, list):
        return False
    return any(
        isinstance(c, Mapping) and c.get("type") == "Ready" and c.get("status") == "True"
        for c in conditions
    )


def sync_error(resource: Mapping[str, Any] | None) -> str | None:
    """The message of a Synced=False condition: the provider could not apply the resource.

    None when the resource is synced, has no such condition, or is not observed.
    """
    status = resource.get("status") if resource is not None else None
    conditions = status.get("conditions") if isinstance(status, Mapping) else None
    for condition in conditions if isinstance(conditions, list) else []:
        if (
            isinstance(condition, Mapping)
            and condition.get("type") == "Synced"
            and condition.get("status") == "False"
        ):
            message = condition.get("message")
            return message if isinstance(message, str) and message else "no message"
    return None
