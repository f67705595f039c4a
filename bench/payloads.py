"""The benchmark's requests: the seed claim, converged by simulation, as Crossplane sends it.

Each ``Payload`` holds serialized requests sent in turn and our in-process answer to
each, so that every answer a server gives can be checked byte for byte.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import realistic
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.offline import documents
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate
from function.serving import fn

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "seed" / "claim.yaml"
COMPOSITION = REPO / "compositions" / "composition-legacy.yaml"
GO_TEMPLATE = REPO / "bench" / "go-templating" / "seed.yaml"
PYTHONIC_COMPOSITION = REPO / "bench" / "pythonic" / "seed.yaml"
# The observed resource whose value the function reads changes in "read value changed".
READ_RESOURCE = "listener"
# Requests with an unread change: enough that no two in a row are alike.
VARIANTS = 64
CHANGED_RESOURCE = "api"


class BenchError(RuntimeError):
    """The benchmark cannot go on (a server did not start, a request is not realistic)."""


@dataclass(frozen=True)
class Payload:
    """Serialized requests, sent in turn, and what a correct answer from each server holds."""

    label: str
    apps: int
    variants: tuple[bytes, ...]
    resources: int
    # Our function's answer to each variant, composed in-process; empty for another input.
    answers: tuple[bytes, ...] = ()
    turn: Iterator[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Start the turn at the first variant."""
        # itertools.cycle advances atomically, so client threads may share one payload.
        object.__setattr__(self, "turn", itertools.cycle(range(len(self.variants))))

    @property
    def data(self) -> bytes:
        """The first request (every request, for a payload of one variant)."""
        return self.variants[0]

    def next(self) -> tuple[bytes, bytes | None]:
        """The next request in turn, and our answer to it if known."""
        index = next(self.turn)
        return self.variants[index], self.answers[index] if self.answers else None


def composed_answers(variants: Sequence[bytes]) -> tuple[bytes, ...]:
    """Our answers to serialized requests, composed in-process."""
    return tuple(
        bytes(
            fn.run(fnv1.RunFunctionRequest.FromString(data)).SerializeToString(deterministic=True)
        )
        for data in variants
    )


def _apps(count: int) -> list[dict[str, Any]]:
    return [
        {"name": f"app{i}", "pathPrefix": f"/p{i}", "service": f"svc{i}", "port": 8080}
        for i in range(count)
    ]


@dataclass(frozen=True)
class Converged:
    """A claim's XR, function input and the observed state its simulation converged to."""

    xr: dict[str, Any]
    function_input: dict[str, Any] | None
    observed: dict[str, dict[str, Any]]


def converge(label: str, apps: int) -> Converged:
    """The seed claim with ``apps`` apps, as observed once its simulation converged.

    Every size is its own XR (its own name), as separate claims would be.

    Raises:
        BenchError: the simulation did not converge or the request is not fully composed.
    """
    xr = documents.composite_from(documents.load_documents(SEED)[0])
    if apps:
        xr["spec"]["apps"] = _apps(apps)
        xr["metadata"]["name"] = f"{xr['metadata']['name']}-{apps}"
    function_input = documents.input_from(documents.load_documents(COMPOSITION))
    result = simulate(xr, function_input)
    if not result.converged or result.fatal is not None:
        msg = f"{label}: the simulation did not converge ({result.fatal})"
        raise BenchError(msg)
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    rsp = fn.run(documents.request(xr, observed, function_input))
    if documents.fatal_of(rsp) is not None or len(rsp.desired.resources) != len(observed):
        msg = f"{label}: the request does not compose every observed resource"
        raise BenchError(msg)
    return Converged(xr, function_input, observed)


def steady(state: Converged, label: str, apps: int) -> Payload:
    """One request, sent again and again: a steady-state reconcile of a converged claim."""
    req = documents.request(state.xr, state.observed, state.function_input)
    variants = (req.SerializeToString(),)
    return Payload(label, apps, variants, len(state.observed), composed_answers(variants))


def build_payload(label: str, apps: int) -> Payload:
    """The steady-state request of the seed claim with ``apps`` apps."""
    return steady(converge(label, apps), label, apps)


def unread_changes(state: Converged, label: str) -> Payload:
    """VARIANTS requests differing only where the function never reads, each with its own tag.

    A provider writing an observed resource bumps its resourceVersion; realtime compositions
    then call the function with that change and nothing else. The XR is a second one (its
    own name), so that its answers and the steady-state request's do not displace each other.
    """
    xr = copy.deepcopy(state.xr)
    xr["metadata"]["name"] = f"{xr['metadata']['name']}-changing"
    variants = []
    for number in range(VARIANTS):
        observed = copy.deepcopy(state.observed)
        observed[CHANGED_RESOURCE]["metadata"]["resourceVersion"] = str(number + 1)
        req = documents.request(xr, observed, state.function_input)
        variants.append(req.SerializeToString())
    return Payload(label, 0, tuple(variants), len(state.observed), composed_answers(variants))


def go_template_payload(state: Converged, template: Path, label: str) -> Payload:
    """The seed request with a peer's input (its one document) in place of ours."""
    loaded = documents.load_documents(template)
    if len(loaded) != 1:
        msg = f"{template}: expected one input document, found {len(loaded)}"
        raise BenchError(msg)
    req = documents.request(state.xr, state.observed, loaded[0])
    return Payload(label, 0, (req.SerializeToString(),), len(state.observed))


def dressed(state: Converged, suffix: str) -> Converged:
    """``state`` as Crossplane really sends it (``realistic``), for an XR of its own."""
    xr = copy.deepcopy(state.xr)
    xr["metadata"]["name"] = f"{xr['metadata']['name']}{suffix}"
    xr, observed = realistic.dress(xr, state.observed)
    return Converged(xr, state.function_input, observed)


def _bump(observed: dict[str, Any], key: str, number: int) -> None:
    """A write to an observed object, as the API server records it: a new resourceVersion."""
    observed[key]["metadata"]["resourceVersion"] = str(900_000 + number)


def real_changes(state: Converged, label: str, *, read: bool) -> Payload:
    """VARIANTS real-sized requests, each a write to one observed object since the last.

    ``read``: the write changes the listener ARN, which the integration copies (the
    answer changes); otherwise only the API's resourceVersion changes.
    """
    variants = []
    for number in range(VARIANTS):
        observed = copy.deepcopy(state.observed)
        if read:
            at_provider = observed[READ_RESOURCE]["status"]["atProvider"]
            at_provider["arn"] = f"{at_provider['arn']}-{number}"
        _bump(observed, READ_RESOURCE if read else CHANGED_RESOURCE, number)
        req = documents.request(state.xr, observed, state.function_input)
        variants.append(req.SerializeToString())
    return Payload(label, 0, tuple(variants), len(state.observed), composed_answers(variants))


def fill_requests(state: Converged, count: int) -> list[bytes]:
    """The real-sized seed request for ``count`` XRs of other names, to fill the memo."""
    req = documents.request(state.xr, state.observed, state.function_input)
    found = []
    for number in range(count):
        req.observed.composite.resource["metadata"]["name"] = f"fill-{number:04d}"
        found.append(bytes(documents.retag(req).SerializeToString()))
    return found
