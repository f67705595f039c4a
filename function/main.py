"""The command line: serve the function, or run it offline with render, simulate and graph."""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
import yaml
from crossplane.function import cli as sdkcli
from crossplane.function import logging

from function.offline import documents, graph, report
from function.offline.simulate import simulate as run_simulation
from function.serving import fn, memo, server

DISTRIBUTION = "function-vcluster-environment"
INPUT_HELP = "A Composition (its step for this function) or an Input document: the function input."


def _dump(output: list[Any], fmt: str = "yaml") -> None:
    if fmt == "json":
        click.echo(json.dumps(output, indent=2, sort_keys=True))
    else:
        click.echo(yaml.safe_dump_all(output, sort_keys=True, width=100), nl=False)


def _composite(path: Path) -> dict[str, Any]:
    loaded = documents.load_documents(path)
    if not loaded:
        msg = f"{path}: no YAML document found"
        raise documents.OfflineError(msg)
    return documents.composite_from(loaded[0])


def _offline(composite: Path, input_path: Path | None) -> tuple[dict[str, Any], Any]:
    """The XR and the function input, refusing a Composition for another type of XR."""
    xr = _composite(composite)
    if input_path is None:
        return xr, None
    loaded = documents.load_documents(input_path)
    documents.check_composition(loaded, xr)
    return xr, documents.input_from(loaded)


@click.group()
@click.version_option(version(DISTRIBUTION), prog_name=DISTRIBUTION)
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
    help="Memory for the last answer per XR, given again while its inputs are unchanged, "
    "and a sixteenth of it again for the encoded resources composing reuses; "
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
    log = logging.get_logger()
    send = max_send_message_size or max_recv_message_size
    options = [
        ("grpc.max_receive_message_length", max_recv_message_size * 1024 * 1024),
        ("grpc.max_send_message_length", send * 1024 * 1024),
    ]
    log.info(
        "serving",
        version=version(DISTRIBUTION),
        address=address,
        tls="off" if insecure or tls_certs_dir is None else "mTLS",
        memo_mib=cache_mib,
    )
    server.serve(
        address,
        tls_certs_dir=tls_certs_dir,
        insecure=insecure,
        options=options,
        cache_bytes=cache_mib * 1024 * 1024,
    )
    log.info("stopped", address=address)


# Every option of serve shows the environment variable that sets it, the SDK's included.
for _option in serve.params:
    if isinstance(_option, click.Option) and _option.envvar:
        _option.show_envvar = True


def environment() -> tuple[str, ...]:
    """Every environment variable ``serve`` reads, the SDK's included, sorted.

    What a harness starting servers removes from their environment, so that a stray one
    changes none of them.
    """
    names: list[str] = []
    for option in serve.params:
        if isinstance(option, click.Option) and option.envvar:
            given = option.envvar
            names.extend([given] if isinstance(given, str) else given)
    return tuple(sorted(names))


@cli.command()
@click.argument("composite", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--observed",
    type=click.Path(exists=True, path_type=Path),
    help="Observed composed resources (a file or a folder of YAML), each with its "
    "crossplane.io/composition-resource-name annotation; render's own output is accepted.",
)
@click.option(
    "--input", "input_path", type=click.Path(exists=True, path_type=Path), help=INPUT_HELP
)
def render(composite: Path, observed: Path | None, input_path: Path | None) -> None:
    """Print desired composed resources and the XR status, like `crossplane render`."""
    try:
        xr, function_input = _offline(composite, input_path)
        loaded = documents.load_documents(observed) if observed else []
        seen = documents.observed_from(loaded, xr)
        rsp = fn.run(documents.request(xr, seen, function_input))
    except documents.OfflineError as error:
        raise click.ClickException(str(error)) from None
    if (fatal := documents.fatal_of(rsp)) is not None:
        click.echo(f"Fatal: {fatal}", err=True)
        sys.exit(1)
    _dump(report.rendered(xr, documents.status_of(rsp), documents.desired_of(rsp)))


@cli.command()
@click.argument("composite", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--input", "input_path", type=click.Path(exists=True, path_type=Path), help=INPUT_HELP
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "yaml", "json"]),
    default="text",
    show_default=True,
    help="text: the waves for a reader; yaml or json: the converged XR and every composed "
    "resource, for other tools.",
)
@click.option(
    "--rounds",
    is_flag=True,
    help="With -o yaml or json: every round, each as a List of the XR and its resources.",
)
def simulate(composite: Path, input_path: Path | None, output: str, *, rounds: bool) -> None:
    """Run against a fake provider until the XR is ready; print each wave."""
    try:
        xr, function_input = _offline(composite, input_path)
        result = run_simulation(xr, function_input)
    except documents.OfflineError as error:
        raise click.ClickException(str(error)) from None
    if result.fatal is not None:
        click.echo(f"Fatal: {result.fatal}", err=True)
        sys.exit(1)
    if output == "text":
        click.echo(report.waves(result), nl=False)
        _dump([{"status": result.final_status}])
    else:
        _dump(report.documents(xr, result, every_round=rounds), output)
    if result.dropped:
        click.echo(f"dropped observed resources: {', '.join(result.dropped)}", err=True)
    if not result.converged or result.dropped:
        sys.exit(1)


@cli.command(name="graph")
@click.argument("composite", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--input", "input_path", type=click.Path(exists=True, path_type=Path), help=INPUT_HELP
)
def graph_command(composite: Path, input_path: Path | None) -> None:
    """Print what the XR composes, wave by wave, and who waits for whom, as Mermaid."""
    try:
        xr, function_input = _offline(composite, input_path)
        click.echo(graph.mermaid(xr, function_input), nl=False)
    except (documents.OfflineError, ValueError) as error:
        raise click.ClickException(str(error)) from None
