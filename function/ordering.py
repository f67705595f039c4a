"""Which desired resources may be sent to Crossplane now.

A resource is created only once the resources it needs are ready and every value
it copies exists. A resource Crossplane already observes is always kept, because
leaving it out of desired state would make Crossplane delete it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from function.model import Desired
    from function.observed import Observed


@dataclass(frozen=True)
class Plan:
    """The outcome of gating: what to send, what waits and why."""

    emit: tuple[Desired, ...]
    held: tuple[tuple[str, str], ...]  # (key, reason), in builder order
    lost: tuple[str, ...]  # observed resources that cannot be re-rendered


def gate(desired: list[Desired], observed: Observed) -> Plan:
    """Split desired resources into those sent now and those held back."""
    emit: list[Desired] = []
    held: list[tuple[str, str]] = []
    lost: list[str] = []
    for item in desired:
        if item.key in observed:
            if item.manifest is None:
                lost.append(item.key)
            else:
                emit.append(item)
            continue
        waiting = [key for key in item.after if not observed.ready(key)]
        if waiting:
            held.append((item.key, "waiting for " + ", ".join(waiting) + " to be ready"))
        elif item.manifest is None:
            held.append((item.key, f"waiting for {item.waiting_for}"))
        else:
            emit.append(item)
    return Plan(tuple(emit), tuple(held), tuple(lost))
