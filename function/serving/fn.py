"""The gRPC servicer: wire bytes in, ``compose``, protobuf out. Nothing else lives here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import TYPE_CHECKING, Any, Protocol

from crossplane.function import logging, response
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from function import feedback
from function.compose import Outcome, compose
from function.model import convert
from function.serving import shallow
from function.serving.memo import Encoded, Spliced
from function.serving.pieces import entry, splice

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    import grpc

    from function.serving.memo import Memo, Miss
    from function.serving.pieces import Pieces

    # What the memo hands out is already serialized; both serialize the same way.
    Answer = fnv1.RunFunctionResponse | Encoded

    class Offload(Protocol):
        """Runs composing off the caller's event loop, large calls apart from the rest."""

        def __call__(
            self, work: Callable[[], tuple[Answer, str | None]], *, large: bool
        ) -> Awaitable[tuple[Answer, str | None]]:
            """``work()``, awaited."""
            ...


READY = {True: fnv1.READY_TRUE, False: fnv1.READY_FALSE}
# A claim with this many apps takes several times a seed-sized claim's time to compose.
LARGE_APPS = 50
CONDITION_STATUS = {True: fnv1.STATUS_CONDITION_TRUE, False: fnv1.STATUS_CONDITION_FALSE}


def _tell(
    req: fnv1.RunFunctionRequest, rsp: fnv1.RunFunctionResponse, status: Mapping[str, Any]
) -> None:
    """The EnvironmentReady condition on the XR and its claim, and an event when it changes."""
    now = feedback.condition(status)
    rsp.conditions.add(
        type=feedback.CONDITION,
        status=CONDITION_STATUS[now.ready],
        reason=now.reason,
        message=now.message,
        target=fnv1.TARGET_COMPOSITE_AND_CLAIM,
    )
    before = feedback.previous(convert.StructView(req.observed.composite.resource))
    if feedback.changed(before, now):
        rsp.results.add(
            severity=fnv1.SEVERITY_NORMAL,
            reason=now.reason,
            message=f"{feedback.CONDITION}: {now.message}",
            target=fnv1.TARGET_COMPOSITE_AND_CLAIM,
        )


def _observed(req: fnv1.RunFunctionRequest) -> dict[str, convert.StructView]:
    """The observed composed resources, read in place."""
    return {
        name: convert.StructView(composed.resource)
        for name, composed in req.observed.resources.items()
    }


def large(req: fnv1.RunFunctionRequest) -> bool:
    """Whether composing ``req`` takes long enough that smaller calls should not wait for it."""
    spec = req.observed.composite.resource.fields.get("spec")
    apps = spec.struct_value.fields.get("apps") if spec is not None else None
    return apps is not None and len(apps.list_value.values) >= LARGE_APPS


def run(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
    """Answer one RunFunctionRequest; pure apart from protobuf conversion."""
    return to_response(req, outcome(req))


def outcome(
    req: fnv1.RunFunctionRequest,
    miss: Miss | None = None,
    observed: Mapping[str, Mapping[str, Any]] | None = None,
) -> Outcome:
    """What composing ``req`` gives, reading only what ``miss`` does not know already.

    ``observed``: the observed resources, when not read from ``req`` (``shallow.Views``).
    """
    views = _observed(req) if observed is None else observed
    xr = convert.StructView(req.observed.composite.resource)
    if miss is not None and miss.parsed is not None:
        return compose(xr, views, known=miss.known, parsed=miss.parsed, before=miss.built)
    raw_input = convert.to_dict(req.input) if req.HasField("input") else None
    return compose(xr, views, raw_input, known=miss.known if miss is not None else None)


def composed(
    req: fnv1.RunFunctionRequest,
    observed: Mapping[str, Mapping[str, Any]],
    memo: Memo,
    miss: Miss,
) -> tuple[Answer, str | None]:
    """Compose the answer to ``req`` and remember it in ``memo``; the answer and its Fatal.

    The memo gives the answer again (``Memo.recall``) while nothing it was made from
    changes. When it cannot, ``miss`` (what its recall found out) spares reading again
    what is unchanged (``observed`` parses a resource only when it is read), and its
    pieces spare encoding again each unchanged resource. The answer is serialized once.
    """
    made = outcome(req, miss, observed)
    answer = spliced(req, made, memo.pieces)
    memo.keep(req.meta.tag, miss, made, answer)
    return answer, made.fatal


def spliced(req: fnv1.RunFunctionRequest, outcome: Outcome, pieces: Pieces) -> Spliced:
    """``to_response(req, outcome)``, serialized from each composed resource's piece."""
    if outcome.fatal is not None:
        rsp = to_response(req, outcome)
        return Spliced(bytes(rsp.SerializeToString(deterministic=True)), rsp.meta)
    rsp = to_response(req, dataclasses.replace(outcome, resources={}))
    # Earlier functions' resources stay, but not under a key of ours (to_response).
    entries = {name: entry(name, resource) for name, resource in rsp.desired.resources.items()}
    entries.update(
        pieces.entries(
            (name, manifest, READY[outcome.ready[name]])
            for name, manifest in outcome.resources.items()
        )
    )
    rsp.desired.ClearField("resources")
    return Spliced(splice(rsp, entries), rsp.meta)


def to_response(req: fnv1.RunFunctionRequest, outcome: Outcome) -> fnv1.RunFunctionResponse:
    """Turn an Outcome into a response that keeps earlier functions' desired state."""
    rsp = response.to(req, dt.timedelta(seconds=outcome.ttl_seconds))
    if outcome.fatal is not None:
        response.fatal(rsp, outcome.fatal)
        return rsp
    for name, manifest in outcome.resources.items():
        composed = rsp.desired.resources[name]
        # Replace, never merge: an earlier step's resource under our key must not lend
        # its fields (another kind, a foreign manifest) to ours.
        composed.Clear()
        convert.fill(composed.resource, manifest)
        composed.ready = READY[outcome.ready[name]]
    # Merge into status rather than replace it: earlier functions may own other fields.
    convert.fill(rsp.desired.composite.resource.get_or_create_struct("status"), outcome.status)
    for key, value in outcome.connection.items():
        rsp.desired.composite.connection_details[key] = value.encode()
    rsp.desired.composite.ready = READY[outcome.xr_ready]
    _tell(req, rsp, outcome.status)
    return rsp


def _unremembered(
    req: fnv1.RunFunctionRequest, observed: Mapping[str, Mapping[str, Any]]
) -> tuple[Answer, str | None]:
    made = outcome(req, observed=observed)
    return to_response(req, made), made.fatal


class FunctionRunner(grpcv1.FunctionRunnerServiceServicer):
    """A FunctionRunner handles gRPC RunFunctionRequests."""

    def __init__(self, memo: Memo | None = None, offload: Offload | None = None) -> None:
        """Create a FunctionRunner.

        Args:
            memo: where answers are remembered; None composes every call.
            offload: runs composing off the caller's event loop; None runs it inline.
        """
        self.log = logging.get_logger()
        self.memo = memo
        self.offload = offload

    async def RunFunction(
        self, req: fnv1.RunFunctionRequest, context: grpc.aio.ServicerContext
    ) -> Answer:
        """Run the function (the SDK's interface; the server calls ``answer``)."""
        return await self.answer(req.SerializeToString(), context)

    async def answer(self, data: bytes, _: grpc.aio.ServicerContext | None) -> Answer:
        """Run the function on a request's wire bytes.

        Raises:
            google.protobuf.message.DecodeError: ``data`` is no RunFunctionRequest.
        """
        memo = self.memo
        read = shallow.parse(data)
        # Recalling takes a fraction of a millisecond: not worth a trip to the worker.
        remembered = memo.recall(read) if memo is not None else None
        if isinstance(remembered, Encoded):
            return remembered
        # Never parsed whole: composing parses what it reads of the observed resources.
        req = shallow.request(read)
        observed = shallow.Views(read.observed.resources)
        work = (
            functools.partial(_unremembered, req, observed)
            if memo is None or remembered is None
            else functools.partial(composed, req, observed, memo, remembered)
        )
        answer, fatal = (
            await self.offload(work, large=large(req)) if self.offload is not None else work()
        )
        # Logged when composed: a remembered Fatal is the same refusal again.
        if fatal is not None:
            self.log.info("refused the composite resource", tag=req.meta.tag, message=fatal)
        return answer
