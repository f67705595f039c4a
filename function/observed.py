"""A read-only view of the observed composed resources.

Builders read single values from here (an ARN, an id, readiness); they never copy
an observed object into desired state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from function.readiness import is_ready


def dig(obj: Any, *path: str) -> Any:  # noqa: ANN401
    """Walk nested dicts, returning None at the first missing or non-dict step."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def text(value: Any) -> str | None:  # noqa: ANN401
    """A non-empty string, or None for anything else (missing, null, wrong type)."""
    return value if isinstance(value, str) and value else None


class Observed:
    """Observed composed resources keyed by composition resource name."""

    def __init__(self, resources: Mapping[str, Mapping[str, Any]]) -> None:
        """Wrap resources already converted from protobuf to plain dicts."""
        self._resources = resources

    def __contains__(self, key: str) -> bool:
        """Whether Crossplane reports this composed resource as existing."""
        return key in self._resources

    def keys(self) -> list[str]:
        """Names of every observed composed resource, sorted."""
        return sorted(self._resources)

    def get(self, key: str, *path: str) -> Any:  # noqa: ANN401
        """A nested value of an observed resource, or None."""
        return dig(self._resources.get(key), *path)

    def text(self, key: str, *path: str) -> str | None:
        """A nested non-empty string of an observed resource, or None."""
        return text(self.get(key, *path))

    def at_provider(self, key: str, field: str) -> str | None:
        """A string from ``status.atProvider``: the values AWS assigned."""
        return self.text(key, "status", "atProvider", field)

    def ready(self, key: str) -> bool:
        """Whether the resource exists and is ready."""
        return is_ready(self._resources.get(key))
