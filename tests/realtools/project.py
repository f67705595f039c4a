"""The one place the real-tool suites import the project's ``function`` package from.

``function/`` may be reorganised; only the imports below then need new paths. Everything
the suites need from the project goes through the names defined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.main import cli as function_cli
from function.offline import documents, fakeprovider
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate
from function.serving import fn
from function.serving.fn import FunctionRunner

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    import grpc

# The annotation that names a composed resource within its XR.
RESOURCE_NAME_ANNOTATION = documents.RESOURCE_NAME_ANNOTATION
# A claim as the legacy XR Crossplane makes of it; a request as Crossplane sends it, and
# the function's answer to it composed in this process; the Fatal message of an answer.
composite_from = documents.composite_from
request = documents.request
run = fn.run
fatal_of = documents.fatal_of
# The function's name in Compositions (``functionRef``) and as an installed package.
FUNCTION_NAME = documents.FUNCTION_NAME
# Conditions as the CRDs require them, and the kinds without a status: the fake provider's,
# so that the emulation and ``simulate`` write the same statuses.
condition = fakeprovider.condition
TRANSITION_TIME = fakeprovider.TRANSITION_TIME
NO_STATUS_KINDS = fakeprovider.NO_STATUS_KINDS
USAGE_GROUP = fakeprovider.USAGE_GROUP


def fake_at_provider(
    xr_name: str,
    key: str,
    manifest: Mapping[str, Any],
    others: Iterable[Mapping[str, Any]],
    *,
    owns_dns: bool = False,
) -> dict[str, Any]:
    """``status.atProvider`` as ``simulate``'s fake provider reports ``manifest`` (AWS ids, ARNs).

    Ids are derived from the XR name and ``key``, so a second loop seeded the same way
    sees the same ids as ``simulate`` does.
    """
    observed = {str(index): dict(other) for index, other in enumerate(others)}
    applied = FakeProvider(xr_name, owns_dns=owns_dns).apply({key: manifest}, observed)[key]
    return dict(applied.get("status", {}).get("atProvider") or {})


@dataclass(frozen=True)
class SimulatedRound:
    """What ``simulate`` saw in one round: the function's answer to that round's observed state."""

    number: int
    status: dict[str, Any]
    xr_ready: bool
    desired: dict[str, dict[str, Any]]
    ready: dict[str, bool]


@dataclass(frozen=True)
class Simulated:
    """Every round of ``simulate`` for one XR, and whether it converged."""

    rounds: list[SimulatedRound]
    converged: bool
    fatal: str | None


def simulated(xr: Mapping[str, Any], function_input: Mapping[str, Any] | None) -> Simulated:
    """Run ``simulate`` and keep, per round, the readiness the function gave each resource."""
    answers: list[fnv1.RunFunctionResponse] = []

    def runner(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        answers.append(fn.run(req))
        return answers[-1]

    result = simulate(xr, function_input, runner=runner)
    rounds = [
        SimulatedRound(
            number=round_.number,
            status=round_.status,
            xr_ready=round_.xr_ready,
            desired=round_.desired,
            ready={
                key: answer.desired.resources[key].ready == fnv1.READY_TRUE
                for key in round_.desired
            },
        )
        for round_, answer in zip(result.rounds, answers, strict=False)
    ]
    return Simulated(rounds=rounds, converged=result.converged, fatal=result.fatal)


def note_each_call(note: Callable[[fnv1.RunFunctionRequest], None]) -> None:
    """Make the function's gRPC servicer call ``note`` with every request, before answering.

    The server hands ``FunctionRunner.answer`` each request's wire bytes, so that is the
    method wrapped; the request is parsed here for ``note`` only.
    """
    answer = FunctionRunner.answer

    async def noted(
        self: FunctionRunner, data: bytes, context: grpc.aio.ServicerContext | None
    ) -> Any:
        note(fnv1.RunFunctionRequest.FromString(data))
        return await answer(self, data, context)

    FunctionRunner.answer = noted  # type: ignore[method-assign]


def run_cli(argv: Sequence[str]) -> None:
    """The function's command line (``function-vcluster-environment ARGS``); exits when done."""
    function_cli.main(args=list(argv), prog_name="function-vcluster-environment")
