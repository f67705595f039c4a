"""The gRPC servicer: protobuf in, ``compose``, protobuf out. Nothing else lives here."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from crossplane.function import logging, response
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from function import convert
from function.compose import Outcome, compose

if TYPE_CHECKING:
    import grpc

READY = {True: fnv1.READY_TRUE, False: fnv1.READY_FALSE}


def _observed(req: fnv1.RunFunctionRequest) -> dict[str, dict[str, Any]]:
    return {
        name: convert.to_dict(composed.resource)
        for name, composed in sorted(req.observed.resources.items())
    }


def run(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
    """Answer one RunFunctionRequest; pure apart from protobuf conversion."""
    xr = convert.to_dict(req.observed.composite.resource)
    raw_input = convert.to_dict(req.input) if req.HasField("input") else None
    outcome = compose(xr, _observed(req), raw_input)
    return to_response(req, outcome)


def to_response(req: fnv1.RunFunctionRequest, outcome: Outcome) -> fnv1.RunFunctionResponse:
    """Turn an Outcome into a response that keeps earlier functions' desired state."""
    rsp = response.to(req, dt.timedelta(seconds=outcome.ttl_seconds))
    if outcome.fatal is not None:
        response.fatal(rsp, outcome.fatal)
        return rsp
    for name, manifest in outcome.resources.items():
        composed = rsp.desired.resources[name]
        composed.resource.update(manifest)
        composed.ready = READY[outcome.ready[name]]
    # Merge into status rather than replace it: earlier functions may own other fields.
    rsp.desired.composite.resource.get_or_create_struct("status").update(outcome.status)
    for key, value in outcome.connection.items():
        rsp.desired.composite.connection_details[key] = value.encode()
    rsp.desired.composite.ready = READY[outcome.xr_ready]
    return rsp


class FunctionRunner(grpcv1.FunctionRunnerServiceServicer):
    """A FunctionRunner handles gRPC RunFunctionRequests."""

    def __init__(self) -> None:
        """Create a new FunctionRunner."""
        self.log = logging.get_logger()

    async def RunFunction(
        self, req: fnv1.RunFunctionRequest, _: grpc.aio.ServicerContext
    ) -> fnv1.RunFunctionResponse:
        """Run the function."""
        log = self.log.bind(tag=req.meta.tag)
        rsp = run(req)
        for result in rsp.results:
            if result.severity == fnv1.SEVERITY_FATAL:
                log.info("refused the composite resource", message=result.message)
        return rsp
