"""Serving RunFunction over gRPC with deterministic response bytes.

The SDK's generated handlers serialize with plain ``SerializeToString``, whose
map order (every protobuf Struct is a map) depends on a per-process hash seed:
two replicas would answer the same request with different bytes. Registering the
handlers here with ``deterministic=True`` makes the wire bytes a function of the
request alone. Everything else (credentials, reflection, graceful SIGTERM) is the
SDK's own behaviour.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Any

import grpc
from crossplane.function import runtime
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1beta1 import run_function_pb2 as fnv1beta1
from grpc_reflection.v1alpha import reflection

from function.fn import FunctionRunner

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def _deterministic(message: Any) -> bytes:  # noqa: ANN401
    return bytes(message.SerializeToString(deterministic=True))


def _handler(
    module: Any,  # noqa: ANN401
    method: Callable[..., Any],
) -> grpc.GenericRpcHandler:
    service = module.DESCRIPTOR.services_by_name["FunctionRunnerService"].full_name
    return grpc.method_handlers_generic_handler(
        service,
        {
            "RunFunction": grpc.unary_unary_rpc_method_handler(
                method,
                request_deserializer=module.RunFunctionRequest.FromString,
                response_serializer=_deterministic,
            )
        },
    )


async def _serve(
    address: str, creds: grpc.ServerCredentials | None, options: Sequence[tuple[str, Any]]
) -> None:
    runner = FunctionRunner()
    server = grpc.aio.server(options=options)
    server.add_generic_rpc_handlers(
        (
            _handler(fnv1, runner.RunFunction),
            _handler(fnv1beta1, runtime.BetaFunctionRunner(wrapped=runner).RunFunction),
        )
    )
    reflection.enable_server_reflection(runtime.SERVICE_NAMES, server)
    if creds is None:
        server.add_insecure_port(address)
    else:
        server.add_secure_port(address, creds)
    loop = asyncio.get_running_loop()
    grace = runtime.SHUTDOWN_GRACE_PERIOD_SECONDS
    stopping: list[asyncio.Task[None]] = []
    # In-flight calls get the grace period to finish; new ones are refused.
    loop.add_signal_handler(
        signal.SIGTERM, lambda: stopping.append(asyncio.ensure_future(server.stop(grace)))
    )
    await server.start()
    try:
        await server.wait_for_termination()
    finally:
        await server.stop(grace)


def serve(
    address: str, *, tls_certs_dir: str | None, insecure: bool, options: Sequence[tuple[str, Any]]
) -> None:
    """Serve until SIGTERM; insecure wins over certificates, on one listener only."""
    creds = None if insecure else runtime.load_credentials(tls_certs_dir)  # type: ignore[arg-type]
    if creds is None and not insecure:
        msg = "no credentials: pass --tls-certs-dir (or TLS_SERVER_CERTS_DIR) or --insecure"
        raise SystemExit(msg)
    asyncio.run(_serve(address, creds, options))
