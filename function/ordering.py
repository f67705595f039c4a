"""Which desired resources may be sent to Crossplane now.

A resource is first created only once the resources it needs (``model.edges``)
are ready and every value it copies exists. A resource Crossplane already observes
is always kept, because leaving it out of desired state would make Crossplane
delete it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from function.model import keys
from function.model.edges import EDGES, USAGES

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from function.model.context import Context, Desired
    from function.model.observed import Observed

_BY_USER = {
    user: tuple(e for e in EDGES if e.user == user) for user in dict.fromkeys(e.user for e in EDGES)
}
# A Usage's selectors resolve only once both its ends exist: it waits for them.
_USAGE_ENDS = {keys.usage(edge.user, edge.used): (edge.user, edge.used) for edge in USAGES}


@dataclass(frozen=True)
class Plan:
    """The outcome of gating: what to send, what waits and why."""

    emit: tuple[Desired, ...]
    held: tuple[tuple[str, str], ...]  # (key, reason), in builder order
    lost: tuple[str, ...]  # observed resources that cannot be re-rendered


def needs(ctx: Context, item: Desired, composed: Collection[str]) -> tuple[str, ...]:
    """The composed resources ``item`` waits for, in the edges table's order."""
    if (ends := _USAGE_ENDS.get(item.key)) is not None:
        return ends
    return tuple(
        edge.used
        for edge in _BY_USER.get(item.role or item.key, ())
        if edge.used in composed and (edge.when is None or edge.when(ctx))
    )


def plan(ctx: Context, desired: list[Desired]) -> Plan:
    """Gate ``desired`` on what each item needs, as the edges table says."""
    composed = {item.key for item in desired}
    return gate(desired, ctx.observed, lambda item: needs(ctx, item, composed))


def gate(
    desired: list[Desired], observed: Observed, after: Callable[[Desired], tuple[str, ...]]
) -> Plan:
    """Split desired resources into those sent now and those held back.

    ``after`` names, per item, the resources that must be ready before it is first created;
    it is asked only about items not observed yet (a converged environment asks nothing).
    """
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
        waiting = [key for key in after(item) if not observed.ready(key)]
        if waiting:
            held.append((item.key, "waiting for " + ", ".join(waiting) + " to be ready"))
        elif item.manifest is None:
            held.append((item.key, f"waiting for {item.waiting_for}"))
        else:
            emit.append(item)
    return Plan(tuple(emit), tuple(held), tuple(lost))
