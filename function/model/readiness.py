"""Readiness of composed resources, reported to Crossplane per resource."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.model.convert import OBJECTS, StructView, dig

if TYPE_CHECKING:
    from collections.abc import Mapping

# Kinds that never carry a Ready condition: they are ready once they exist.
_READY_WHEN_PRESENT = frozenset({"ProviderConfig", "Secret"})
# A condition as found: its type and status, each of whatever type it holds, and the
# condition itself, whose message is read only for a Synced=False condition.
Condition = tuple[Any, Any, "Mapping[str, Any]"]
_OBJECTS = (StructView, *OBJECTS)


def conditions(resource: Mapping[str, Any] | None) -> tuple[Condition, ...]:
    """The type and status of each condition the resource carries, read once, and the condition.

    Both ``is_ready`` and ``sync_error`` read these; anything malformed is left out.
    """
    found = dig(resource, "status", "conditions")
    if not isinstance(found, list):
        return ()
    return tuple((c.get("type"), c.get("status"), c) for c in found if isinstance(c, _OBJECTS))


def is_ready(resource: Mapping[str, Any] | None, found: tuple[Condition, ...]) -> bool:
    """A composed resource is ready only when observed with Ready=True.

    Anything else (not yet created, no conditions, Ready False or Unknown, a
    malformed status) is not ready, never unspecified, so Crossplane cannot guess.
    ``found``: the resource's ``conditions``.
    """
    if resource is None:
        return False
    kind = resource.get("kind")
    if isinstance(kind, str) and kind in _READY_WHEN_PRESENT:
        return True
    return any(kind == "Ready" and status == "True" for kind, status, _ in found)


def sync_error(found: tuple[Condition, ...]) -> str | None:
    """The message of a Synced=False condition: the provider could not apply the resource.

    None when the resource is synced, has no such condition, or is not observed (no
    conditions). ``found``: the resource's ``conditions``.
    """
    for kind, status, condition in found:
        if kind == "Synced" and status == "False":
            message = condition.get("message")
            return message if isinstance(message, str) and message else "no message"
    return None
