"""Serving RunFunction over gRPC with deterministic response bytes.

The SDK's generated handlers serialize with plain ``SerializeToString``, whose
map order (every protobuf Struct is a map) depends on a per-process hash seed:
two replicas would answer the same request with different bytes. Registering the
handlers here with ``deterministic=True`` makes the wire bytes a function of the
request alone.

Two more departures from the SDK's ``runtime.serve``, both for reliability:

- Large calls compose on a thread of their own (``_Worker``), so that small calls do
  not queue behind them, and SIGTERM drains the calls that reached the server instead
  of cancelling those gRPC had not picked up yet (``_Arrivals``).
- With mTLS, the certificates are re-read when they change on disk (``tls``), so a
  rotated Secret takes effect without a restart.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from crossplane.function import runtime
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1beta1 import run_function_pb2 as fnv1beta1
from grpc_reflection.v1alpha import reflection

from function.serving.fn import FunctionRunner
from function.serving.memo import Memo
from function.serving.tls import credentials

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

SWITCH_INTERVAL_S = 0.0005
# Tracked objects allocated, net, before Python's collector looks at the youngest ones
# (its default is 700). A seed-sized call keeps about a thousand alive while it composes
# (views, questions, answers) and makes no cycles: at 700 the collector would walk them
# inside most calls and free nothing; a 300-app call still meets it.
GC_YOUNG_THRESHOLD = 10_000
T = TypeVar("T")
# SIGTERM: serve on until calls stop arriving for QUIET_S, at most DRAIN_MAX_S (_Arrivals).
QUIET_S = 0.2
DRAIN_MAX_S = 2.0


def _deterministic(message: Any) -> bytes:  # noqa: ANN401
    return bytes(message.SerializeToString(deterministic=True))


def _handler(
    module: Any,  # noqa: ANN401
    method: Callable[[bytes, grpc.aio.ServicerContext], Awaitable[Any]],
) -> grpc.GenericRpcHandler:
    """``method`` serving ``module``'s RunFunction, given each request's wire bytes.

    The bytes are not parsed here: the memo reads them shallowly first (``fn``). v1beta1
    messages have v1's wire format, so one method serves both versions.
    """
    service = module.DESCRIPTOR.services_by_name["FunctionRunnerService"].full_name
    return grpc.method_handlers_generic_handler(
        service,
        {
            "RunFunction": grpc.unary_unary_rpc_method_handler(
                method, response_serializer=_deterministic
            )
        },
    )


class _Worker:
    """Composes small calls on the gRPC loop and large ones on a thread of their own.

    Handing a call to another thread and back cost more CPU than the rest of composing a
    seed-sized call after a read value changed (a quarter of the server's CPU per call),
    so small calls compose on the loop, where remembered answers are given too. A call
    that arrives meanwhile is taken in as soon as the loop is free, and SIGTERM waits for
    it (``_Arrivals``).

    Large calls (``fn.large``) compose on one thread, one at a time: a seed-sized call
    shares the processor with a 300-app call in progress (the interpreter switches threads
    every SWITCH_INTERVAL_S) instead of waiting for it, and for every large call queued
    before it, to end.
    """

    def __init__(self) -> None:
        self._large = ThreadPoolExecutor(max_workers=1, thread_name_prefix="compose-large")

    async def run(self, work: Callable[[], T], *, large: bool) -> T:
        """``work()``: awaited from the large calls' thread, or run at once on the loop."""
        if not large:
            return work()
        return await asyncio.get_running_loop().run_in_executor(self._large, work)

    def close(self) -> None:
        """Stop the thread; the server has finished or cancelled every call by then."""
        self._large.shutdown(wait=True)


class _Arrivals:
    """When the last call arrived, so that SIGTERM can wait for a burst to be taken in.

    gRPC cancels, on stop, the calls that reached the server but that its loop had not
    taken in yet. A burst of calls answered quickly (from the memo) keeps the loop busy
    enough for some to wait there, so the server serves on after SIGTERM until no call
    has arrived for QUIET_S (at most DRAIN_MAX_S), and only then stops.
    """

    def __init__(self) -> None:
        self.last = time.monotonic()

    def noting(
        self, method: Callable[[Any, Any], Awaitable[Any]]
    ) -> Callable[[Any, Any], Awaitable[Any]]:
        """``method``, noting each call's arrival."""

        async def call(request: Any, context: Any) -> Any:  # noqa: ANN401
            self.last = time.monotonic()
            return await method(request, context)

        return call

    async def quiet(self) -> None:
        """Return once no call has arrived for QUIET_S, or after DRAIN_MAX_S."""
        deadline = time.monotonic() + DRAIN_MAX_S
        # Each sleep lasts until the quiet period would end if nothing arrived meanwhile;
        # an Event cannot say "nothing happened for a while".
        while (wait := min(self.last + QUIET_S, deadline) - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)


async def _serve(
    address: str,
    creds: grpc.ServerCredentials | None,
    options: Sequence[tuple[str, Any]],
    memo: Memo | None,
) -> None:
    worker = _Worker()
    runner = FunctionRunner(memo, worker.run)
    arrivals = _Arrivals()
    server = grpc.aio.server(options=options)
    server.add_generic_rpc_handlers(
        tuple(_handler(module, arrivals.noting(runner.answer)) for module in (fnv1, fnv1beta1))
    )
    reflection.enable_server_reflection(runtime.SERVICE_NAMES, server)
    if creds is None:
        server.add_insecure_port(address)
    else:
        server.add_secure_port(address, creds)
    loop = asyncio.get_running_loop()
    grace = runtime.SHUTDOWN_GRACE_PERIOD_SECONDS
    stopping: list[asyncio.Task[None]] = []

    async def drain_then_stop() -> None:
        await arrivals.quiet()
        # In-flight calls get the grace period to finish; new ones are refused.
        await server.stop(grace)

    loop.add_signal_handler(
        signal.SIGTERM, lambda: stopping.append(asyncio.ensure_future(drain_then_stop()))
    )
    await server.start()
    try:
        await server.wait_for_termination()
    finally:
        await server.stop(grace)
        worker.close()


def tune() -> None:
    """Set the interpreter's thread switching and collector for serving (see their constants)."""
    # The large calls' thread holds the GIL for whole milliseconds at a time; the gRPC loop
    # must get it back quickly to pick up each call as it arrives (see _Worker). 0.5 ms
    # rather than Python's 5 ms: with 1 ms, SIGTERM during a burst still cancelled calls.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    _, *older = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *older)


def serve(
    address: str,
    *,
    tls_certs_dir: str | None,
    insecure: bool,
    options: Sequence[tuple[str, Any]],
    cache_bytes: int,
) -> None:
    """Serve until SIGTERM; insecure wins over certificates, on one listener only.

    ``cache_bytes`` bounds the memory for remembered answers (``memo``); 0 turns it off.
    """
    if insecure:
        creds = None
    elif tls_certs_dir is not None:
        creds = credentials(tls_certs_dir)
    else:
        msg = "no credentials: pass --tls-certs-dir (or TLS_SERVER_CERTS_DIR) or --insecure"
        raise SystemExit(msg)
    tune()
    memo = Memo(cache_bytes) if cache_bytes > 0 else None
    asyncio.run(_serve(address, creds, options, memo))
