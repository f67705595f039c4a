"""The floor: a no-op composition function on the same SDK as ours.

It answers every RunFunctionRequest with the request's desired state unchanged, served by
the SDK runtime with ours' logging and message size limits, so the difference between the
two is the cost of our code and our serving (which reads requests shallowly first, where
the SDK's handlers parse each whole).

Usage: ``python bench/floor.py --address 127.0.0.1:PORT``
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crossplane.function import logging, response, runtime
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

if TYPE_CHECKING:
    import grpc
    from crossplane.function.proto.v1 import run_function_pb2 as fnv1

# The SDK CLI's default limit (4 MB), as ``sdkcli.run`` passes it to our server.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class FloorRunner(grpcv1.FunctionRunnerServiceServicer):
    """Returns the desired state it was given, and nothing else."""

    async def RunFunction(
        self, req: fnv1.RunFunctionRequest, _: grpc.aio.ServicerContext
    ) -> fnv1.RunFunctionResponse:
        """Run the no-op function."""
        return response.to(req)


def main() -> None:
    """Serve the floor insecurely on the given address until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="host:port to listen on")
    args = parser.parse_args()
    logging.configure(level=logging.Level.INFO)
    runtime.serve(
        FloorRunner(),
        args.address,
        creds=None,
        insecure=True,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )


if __name__ == "__main__":
    main()
