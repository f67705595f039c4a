"""What a user sees in ``kubectl describe`` and ``crossplane resource trace``.

One condition on the XR and its claim, ``EnvironmentReady``, says whether the environment is
ready and, while it is not, the first thing it waits for. It is derived from the status alone,
so the same request gives the same condition and it never flaps. An event (a Normal result) is
added only when the condition's status or reason differs from the one the XR already carries:
once per change, not once per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from function.model.convert import dig

CONDITION = "EnvironmentReady"
READY_REASON = "Available"
WAITING_REASON = "Waiting"
READY_MESSAGE = "every composed resource is ready"


@dataclass(frozen=True)
class Condition:
    """The ``EnvironmentReady`` condition: True or False, a CamelCase reason, a message."""

    ready: bool
    reason: str
    message: str


def condition(status: Mapping[str, Any]) -> Condition:
    """The condition the function's own ``status`` (``status.build``) implies."""
    pending = list(status.get("pending") or [])
    if status.get("ready") and not pending:
        return Condition(
            ready=True, reason=READY_REASON, message="every composed resource is ready"
        )
    first = pending[0] if pending else "the environment is not ready yet"
    more = f" (and {len(pending) - 1} more in status.pending)" if len(pending) > 1 else ""
    return Condition(ready=False, reason=WAITING_REASON, message=f"{first}{more}")


def previous(xr: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (status, reason) of the ``EnvironmentReady`` condition the XR carries, if any."""
    for item in dig(xr, "status", "conditions") or []:
        if isinstance(item, Mapping) and item.get("type") == CONDITION:
            return str(item.get("status")), str(item.get("reason"))
    return None


def changed(before: tuple[str, str] | None, now: Condition) -> bool:
    """Whether ``now`` is news: the XR carries no such condition, or another status or reason."""
    return before != ("True" if now.ready else "False", now.reason)
