"""Every round of convergence through ``crossplane composition render``.

Render shows one reconcile: the function's answer to what is observed. Each round, the
provider emulation turns the rendered composed resources into observed ones (resolved
against the previous round's), and render runs again, until the XR is Ready and nothing
new appears, as Crossplane would see it happen against real providers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from function.offline import documents
from function.offline.simulate import owns_dns
from realtools import emulation

if TYPE_CHECKING:
    from pathlib import Path

    from realtools.crank import Crank, Rendered

MAX_ROUNDS = 25


@dataclass(frozen=True)
class RenderRound:
    """One render: what was observed before it, what it rendered, what the providers made of it."""

    number: int
    observed_before: dict[str, dict[str, Any]]
    rendered: Rendered
    observed_after: dict[str, dict[str, Any]]

    @property
    def created(self) -> list[str]:
        """Composed resources this round asks for that did not exist before it."""
        return sorted(key for key in self.rendered.composed if key not in self.observed_before)

    @property
    def dropped(self) -> list[str]:
        """Observed resources this round left out (Crossplane would delete them)."""
        return sorted(key for key in self.observed_before if key not in self.rendered.composed)


@dataclass
class Convergence:
    """Every round of one XR, and whether it converged."""

    xr: dict[str, Any]
    rounds: list[RenderRound] = field(default_factory=list)
    converged: bool = False


def converge(
    crank: Crank, xr: dict[str, Any], composition: Path, max_rounds: int = MAX_ROUNDS
) -> Convergence:
    """Render ``xr`` round after round until it is Ready with nothing new, or give up."""
    result = Convergence(xr=xr)
    function_input = documents.input_from(documents.load_documents(composition))
    dns = owns_dns(xr, function_input)
    observed: dict[str, dict[str, Any]] = {}
    for number in range(1, max_rounds + 1):
        rendered = crank.render(xr, composition, list(observed.values()))
        after = emulation.observe_all(rendered.composed, observed, owns_dns=dns)
        result.rounds.append(RenderRound(number, observed, rendered, after))
        if rendered.xr_ready and not result.rounds[-1].created:
            result.converged = True
            break
        observed = after
    return result
