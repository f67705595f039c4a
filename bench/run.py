"""Benchmark RunFunction over loopback gRPC: our function side by side with the SDK floor.

Starts ``python -m function serve --insecure`` and ``bench/floor.py`` on free ports of
127.0.0.1, sends both the same realistic requests (the seed claim, fully composed, with
observed resources from a converged simulation) and reports, from one run:

- p50 / p99 latency at concurrency 1 (the two servers alternate request by request);
- throughput and errors at concurrency 8 (the two servers alternate in time slices);
- peak RSS (VmHWM) of each server process;
- latency for claims with 1, 10, 100 and 300 apps (round-robin over every size).

Every loop is bounded by a request count or a deadline. ``--smoke`` is the short mode CI
runs; the full mode writes ``docs/benchmarks.md`` unless told not to.

Usage: ``python bench/run.py [--smoke] [--write-docs | --no-write-docs]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import page
import realistic
import report
from measure import FULL, SMOKE, Mode, Requests, measure
from payloads import (
    GO_TEMPLATE,
    PYTHONIC_COMPOSITION,
    REPO,
    BenchError,
    build_payload,
    converge,
    dressed,
    fill_requests,
    go_template_payload,
    real_changes,
    steady,
    unread_changes,
)
from servers import Server

if TYPE_CHECKING:
    from collections.abc import Sequence

DOCS = REPO / "docs" / "benchmarks.md"
# Where the peers are found unless given: function-go-templating from the shared tools, and
# function-pythonic in the venv ``make bench-peers`` makes.
GO_TEMPLATING_DEFAULT = REPO.parent / "shared" / "bin" / "function-go-templating"
PYTHONIC_DEFAULT = REPO / ".venv-pythonic" / "bin" / "function-pythonic"
SEED_LABEL = report.SEED_LABEL
CHANGING_LABEL = report.CHANGING_LABEL
GO_TEMPLATING_LABEL = "seed, go template"
OURS, COMPOSING, FLOOR, GO_TEMPLATING, PYTHONIC = report.SERVERS
BEFORE, COMPOSING_BEFORE = report.BEFORE_SERVERS
REAL = report.REAL_LABELS
APP_COUNTS = (1, 10, 100, 300)
SUMMARY_PREFIX = "bench summary:"


def build_requests(peers: dict[str, Path], fill_xrs: int) -> Requests:
    """Converge the seed claim and every size once, and serialize their requests."""
    seed_state = converge(SEED_LABEL, 0)
    seed = steady(seed_state, SEED_LABEL, 0)
    sizes = [seed] + [build_payload(f"{n} app{'s' * (n > 1)}", n) for n in APP_COUNTS]
    real_same, real_changing, real_reading = (
        dressed(seed_state, suffix) for suffix in ("-real", "-real-changing", "-real-reading")
    )
    large_state = converge(report.LARGEST_LABEL, APP_COUNTS[-1])
    same_label, changed_label, read_label, large_label = REAL
    real = {
        same_label: steady(real_same, same_label, 0),
        changed_label: real_changes(real_changing, changed_label, read=False),
        read_label: real_changes(real_reading, read_label, read=True),
        large_label: steady(dressed(large_state, "-real"), large_label, APP_COUNTS[-1]),
    }
    inputs = {GO_TEMPLATING: GO_TEMPLATE, PYTHONIC: PYTHONIC_COMPOSITION}
    return Requests(
        seed=seed,
        changing=unread_changes(seed_state, CHANGING_LABEL),
        sizes=sizes,
        go_template=go_template_payload(seed_state, GO_TEMPLATE, GO_TEMPLATING_LABEL)
        if GO_TEMPLATING in peers
        else None,
        real=real,
        peers={
            name: go_template_payload(real_same, inputs[name], f"{same_label}, {name}")
            for name in peers
        },
        fill=fill_requests(dressed(seed_state, "-fill"), fill_xrs),
        sizes_added=realistic.sizes(seed_state.observed, real_same.observed),
    )


def commands(peers: dict[str, Path], *, before: bool) -> dict[str, list[str]]:
    """How each server is started (without ``--address``)."""
    ours = [sys.executable, "-m", "function", "serve", "--insecure"]
    found = {
        OURS: ours,
        COMPOSING: [*ours, "--cache-mib", "0"],
        FLOOR: [sys.executable, str(Path(__file__).with_name("floor.py"))],
    }
    if before:
        found.update({BEFORE: ours, COMPOSING_BEFORE: [*ours, "--cache-mib", "0"]})
    found.update({name: [str(binary), "--insecure"] for name, binary in peers.items()})
    return found


def extract(revision: str, into: Path) -> None:
    """This repository's files at ``revision``, written into ``into``.

    Raises:
        BenchError: git does not know the revision.
    """
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", revision],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        msg = f"--before {revision}: git archive failed ({error})"
        raise BenchError(msg) from error
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run(mode: Mode, peers: dict[str, Path], before: str | None = None) -> report.Result:
    """Build the requests, start the servers, measure, and always stop the servers."""
    requests = build_requests(peers, mode.fill_xrs)
    servers: dict[str, Server] = {}
    with contextlib.ExitStack() as stack:
        earlier = REPO
        if before is not None:
            earlier = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-before-")))
            extract(before, earlier)
        for name, argv in commands(peers, before=before is not None).items():
            log = stack.enter_context(tempfile.TemporaryFile(prefix="bench-server-"))
            checkout = earlier if name in {BEFORE, COMPOSING_BEFORE} else REPO
            servers[name] = Server.launch(name, argv, log, checkout)
            stack.callback(servers[name].stop)
        for name, server in servers.items():
            first = requests.peers.get(name, requests.seed)
            server.wait_ready(first.data)
        return measure(mode, servers, requests, before)


def _found(path: Path) -> Path | None:
    return path if path.exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, run, print the table and one summary line; 1 if any call failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a short run for CI")
    parser.add_argument(
        "--write-docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"write {DOCS.relative_to(REPO)} (default: only in full mode)",
    )
    for flag, env, default, given, where in (
        (
            "--go-templating",
            "GO_TEMPLATING_BIN",
            GO_TEMPLATING_DEFAULT,
            GO_TEMPLATE,
            "../shared/bin",
        ),
        ("--pythonic", "PYTHONIC_BIN", PYTHONIC_DEFAULT, PYTHONIC_COMPOSITION, ".venv-pythonic"),
    ):
        parser.add_argument(
            flag,
            type=Path,
            default=os.environ.get(env) or _found(default),
            help=f"function-{flag[2:]} to measure beside ours, given {given.relative_to(REPO)} "
            f"as input (default: ${env}, else the one in {where} if there)",
        )
    parser.add_argument(
        "--no-peers", action="store_true", help="measure neither peer (what CI's smoke run does)"
    )
    parser.add_argument(
        "--before",
        metavar="REVISION",
        help="also measure our function as it was at REVISION (a git commit of this "
        "repository) on the real-sized requests, to show what the changes since bought",
    )
    args = parser.parse_args(argv)
    peers = (
        {}
        if args.no_peers
        else {
            name: path
            for name, path in ((GO_TEMPLATING, args.go_templating), (PYTHONIC, args.pythonic))
            if path is not None
        }
    )
    mode = SMOKE if args.smoke else FULL
    write_docs = (not args.smoke) if args.write_docs is None else args.write_docs
    command = shlex.join(["python", "bench/run.py", *(argv or sys.argv[1:])])
    try:
        result = run(mode, peers, args.before)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    print(report.table(result))
    if write_docs:
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text(page.markdown(result, command, smoke=args.smoke), encoding="utf-8")
        print(f"wrote {DOCS.relative_to(REPO)}")
    for sample in result.error_samples:
        print(f"error: {sample}", file=sys.stderr)
    print(f"{SUMMARY_PREFIX} {report.summary(result)}")
    return 1 if result.total_errors else 0


if __name__ == "__main__":
    sys.exit(main())
