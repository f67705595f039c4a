"""The composed graph of one XR as a Mermaid flowchart, from the code itself.

Nodes are the composed resources, grouped by the simulate round (wave) that first creates
them; an arrow from A to B says B is created only once A is ready (``model.edges``, read
through ``ordering.needs``), and a thick arrow that a Crossplane Usage also keeps A until B
is deleted. The README's picture is this output for the seed claim, and a test keeps it so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function import compose, ordering
from function.model import keys
from function.model.edges import USAGES
from function.model.observed import Observed
from function.offline.simulate import simulate

if TYPE_CHECKING:
    from collections.abc import Mapping


def _node(key: str) -> str:
    return key.replace("-", "_")


def mermaid(xr: Mapping[str, Any], function_input: Mapping[str, Any] | None) -> str:
    """The Mermaid flowchart of what ``xr`` composes once converged, wave by wave.

    Raises:
        ValueError: the XR does not converge (a Fatal result, or not ready in time).
    """
    result = simulate(xr, function_input)
    if result.fatal is not None or not result.converged:
        msg = result.fatal or "the XR does not converge"
        raise ValueError(msg)
    wave = {key: step.number for step in result.rounds for key in step.created}
    ctx = compose.context(xr, Observed(result.rounds[-1].observed_before), function_input)
    every = [item for item in compose.desired(ctx) if item.key in wave]
    composed = {item.key for item in every}
    # Usages are drawn as the thick arrows they protect, not as nodes of their own.
    usages = {keys.usage(edge.user, edge.used) for edge in USAGES}
    wanted = [item for item in every if item.key not in usages]
    lines = ["flowchart LR"]
    for number in sorted({wave[item.key] for item in wanted}):
        lines.append(f'  subgraph wave{number}["wave {number}"]')
        lines += [
            f'    {_node(item.key)}["{item.key}"]'
            for item in sorted(wanted, key=lambda item: item.key)
            if wave[item.key] == number
        ]
        lines.append("  end")
    for item in wanted:
        for used in ordering.needs(ctx, item, composed):
            arrow = "==>" if keys.usage(item.role or item.key, used) in composed else "-->"
            lines.append(f"  {_node(used)} {arrow} {_node(item.key)}")
    return "\n".join(lines) + "\n"
