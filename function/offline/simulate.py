"""Drive the function against the fake provider until the XR is ready."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.offline import documents
from function.offline.fakeprovider import FakeProvider
from function.serving import fn

MAX_ROUNDS = 25


@dataclass
class Round:
    """One call of the function and what the fake provider made of it."""

    number: int
    created: list[str]
    desired: dict[str, dict[str, Any]]
    observed_before: dict[str, dict[str, Any]]
    status: dict[str, Any]
    xr_ready: bool
    dropped: list[str]


@dataclass
class Simulation:
    """Every round, and how it ended."""

    rounds: list[Round] = field(default_factory=list)
    fatal: str | None = None
    converged: bool = False

    @property
    def final_status(self) -> dict[str, Any]:
        """The XR status after the last round."""
        return self.rounds[-1].status if self.rounds else {}

    @property
    def dropped(self) -> list[str]:
        """Observed resources a round left out of desired state (must stay empty)."""
        return [f"round {r.number}: {key}" for r in self.rounds for key in r.dropped]


Runner = Callable[[fnv1.RunFunctionRequest], fnv1.RunFunctionResponse]


def owns_dns(xr: Mapping[str, Any], function_input: Mapping[str, Any] | None) -> bool:
    """Whether a hosted zone is given, so the function composes the validation record."""
    return any(
        isinstance(source, Mapping)
        and isinstance(dns := source.get("dns"), Mapping)
        and bool(dns.get("hostedZoneId"))
        for source in (xr.get("spec"), function_input)
    )


def simulate(
    xr: Mapping[str, Any],
    function_input: Mapping[str, Any] | None,
    runner: Runner = fn.run,
    max_rounds: int = MAX_ROUNDS,
) -> Simulation:
    """Call the function, apply its desired state with the fake provider, repeat."""
    provider = FakeProvider(
        str((xr.get("metadata") or {}).get("name", "xr")), owns_dns=owns_dns(xr, function_input)
    )
    observed: dict[str, dict[str, Any]] = {}
    composite = dict(xr)
    result = Simulation()
    for number in range(1, max_rounds + 1):
        rsp = runner(documents.request(composite, observed, function_input))
        if (fatal := documents.fatal_of(rsp)) is not None:
            result.fatal = fatal
            return result
        desired = documents.desired_of(rsp)
        status = documents.status_of(rsp)
        xr_ready = rsp.desired.composite.ready == fnv1.READY_TRUE
        result.rounds.append(
            Round(
                number=number,
                created=[key for key in desired if key not in observed],
                desired=desired,
                observed_before=observed,
                status=status,
                xr_ready=xr_ready,
                dropped=[key for key in observed if key not in desired],
            )
        )
        if xr_ready and not result.rounds[-1].created:
            result.converged = True
            return result
        observed = provider.apply(desired, observed)
        composite = {**composite, "status": status}
    return result
