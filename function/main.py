"""The command line: serve the function, or run it offline with render and simulate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import yaml
from crossplane.function import cli as sdkcli
from crossplane.function import logging

from function.offline import documents
from function.offline.simulate import simulate as run_simulation
from function.serving import fn, memo, server


def _dump(output: list[Any]) -> None:
    click.echo(yaml.safe_dump_all(output, sort_keys=True, width=100), nl=False)


def _composite(path: Path) -> dict[str, Any]:
    loaded = documents.load_documents(path)
    if not loaded:
        msg = f"{path}: no YAML document found"
        raise documents.OfflineError(msg)
    return documents.composite_from(loaded[0])


def _input(path: Path | None) -> dict[str, Any] | None:
    return documents.input_from(documents.load_documents(path)) if path is not None else None


@click.group()
def cli() -> None:
    """Compose a vCluster environment behind a private AWS API Gateway HTTP API."""


@cli.command()
@sdkcli.standard_options
@click.option(
    "--cache-mib",
    type=click.IntRange(min=0),
    default=memo.DEFAULT_BUDGET_MIB,
    show_default=True,
    envvar="FUNCTION_CACHE_MIB",
    help="Memory for the last answer per XR, given again while its inputs are unchanged; "
    "0 composes every call.",
)
def serve(  # noqa: PLR0913
    *,
    debug: bool,
    address: str,
    tls_certs_dir: str | None,
    insecure: bool,
    max_recv_message_size: int,
    max_send_message_size: int | None,
    cache_mib: int,
) -> None:
    """Serve RunFunction over gRPC."""
    logging.configure(level=logging.Level.DEBUG if debug else logging.Level.INFO)
    send = max_send_message_size or max_recv_message_size
    options = [
        ("grpc.max_receive_message_length", max_recv_message_size * 1024 * 1024),
        ("grpc.max_send_message_length", send * 1024 * 1024),
    ]
    server.serve(
        address,
        tls_certs_dir=tls_certs_dir,
        insecure=insecure,
        options=options,
        cache_bytes=cache_mib * 1024 * 1024,
    )


@cli.command()
@click.argument("composite", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--observed", type=click.Path(exists=True, path_type=Path), help="Observed resources."
)
@click.option("--input", "input_path", type=click.Path(exists=True, path_type=Path))
def render(composite: Path, observed: Path | None, input_path: Path | None) -> None:
    """Print desired composed resources and the XR status, like `crossplane render`."""
    try:
        xr = _composite(composite)
        seen = documents.observed_from(documents.load_documents(observed)) if observed else {}
        rsp = fn.run(documents.request(xr, seen, _input(input_path)))
    except documents.OfflineError as error:
        raise click.ClickException(str(error)) from None
    if (fatal := documents.fatal_of(rsp)) is not None:
        click.echo(f"Fatal: {fatal}", err=True)
        sys.exit(1)
    output: list[Any] = [{**xr, "status": documents.status_of(rsp)}]
    for key, body in documents.desired_of(rsp).items():
        annotations = body.setdefault("metadata", {}).setdefault("annotations", {})
        annotations[documents.RESOURCE_NAME_ANNOTATION] = key
        output.append(body)
    _dump(output)


@cli.command()
@click.argument("composite", type=click.Path(exists=True, path_type=Path))
@click.option("--input", "input_path", type=click.Path(exists=True, path_type=Path))
def simulate(composite: Path, input_path: Path | None) -> None:
    """Run against a fake provider until the XR is ready; print each wave."""
    try:
        xr = _composite(composite)
        result = run_simulation(xr, _input(input_path))
    except documents.OfflineError as error:
        raise click.ClickException(str(error)) from None
    if result.fatal is not None:
        click.echo(f"Fatal: {result.fatal}", err=True)
        sys.exit(1)
    for item in result.rounds:
        pending = item.status.get("pending") or []
        click.echo(f"round {item.number}: created {', '.join(item.created) or 'nothing'}")
        for line in pending:
            click.echo(f"    pending  {line}")
    verdict = "ready" if result.converged else "NOT ready"
    click.echo(f"\nXR {verdict} after {len(result.rounds)} rounds")
    if result.dropped:
        click.echo(f"dropped observed resources: {', '.join(result.dropped)}", err=True)
    _dump([{"status": result.final_status}])
    if not result.converged or result.dropped:
        sys.exit(1)
