"""Server CPU per call, memory with a full memo, and fairness under a mixed load.

CPU is what each server process spends (user + system time from /proc/PID/stat), not
what a client waits: on a shared machine, wall time also counts other jobs. Each
(server, request) pair gets a block of calls at concurrency 1 in turn, the order
rotating every round, so that drift lands on every pair alike; a pair's figure is its
CPU time over its calls, summed over all its blocks.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# Clients sending large calls beside the seed calls in ``fairness``.
LARGE_CLIENTS = 2


class Target(Protocol):
    """A server the benchmark calls (``servers.Server``)."""

    @property
    def name(self) -> str:
        """The server's name in the report."""
        ...  # pragma: no cover

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far."""
        ...  # pragma: no cover

    def peak_rss_kib(self) -> int:
        """Peak resident set size of the server process so far."""
        ...  # pragma: no cover


class Sent(Protocol):
    """Requests sent in turn (``payloads.Payload``)."""

    @property
    def label(self) -> str:
        """The requests' name in the report."""
        ...  # pragma: no cover


@dataclass(frozen=True)
class Cpu:
    """Calls made to one (server, request) pair and the server CPU time they took."""

    calls: int = 0
    seconds: float = 0.0

    def __add__(self, other: Cpu) -> Cpu:
        """Both blocks' figures together."""
        return Cpu(self.calls + other.calls, self.seconds + other.seconds)

    @property
    def ms_per_call(self) -> float:
        """Server CPU milliseconds per call."""
        return 1000 * self.seconds / self.calls if self.calls else math.nan


def cpu_per_call(
    pairs: Sequence[tuple[Target, Sent]],
    call: Callable[[Target, Sent], float | None],
    rounds: int,
    block_seconds: float,
) -> dict[tuple[str, str], Cpu]:
    """Blocks of calls to each pair in turn; the CPU each server spent on each pair's calls.

    A block lasts ``block_seconds`` of wall time (at least one call), so that cheap and
    dear calls get the same time, and every block is long enough for the clock's ticks.
    """
    found = {(s.name, p.label): Cpu() for s, p in pairs}
    for number in range(rounds):
        shift = number % len(pairs)
        for server, payload in [*pairs[shift:], *pairs[:shift]]:
            calls = 0
            before = server.cpu_seconds()
            deadline = time.monotonic() + block_seconds
            while calls == 0 or time.monotonic() < deadline:
                call(server, payload)
                calls += 1
            found[server.name, payload.label] += Cpu(calls, server.cpu_seconds() - before)
    return found


def fill(
    servers: Sequence[Target], requests: Sequence[bytes], send: Callable[[Target, bytes], None]
) -> dict[str, int]:
    """Send every request to each server in turn; each server's peak RSS (KiB) afterwards."""
    for data in requests:
        for server in servers:
            send(server, data)
    return {server.name: server.peak_rss_kib() for server in servers}


@dataclass(frozen=True)
class Fairness:
    """Seed calls' latency alone and while large calls are composed beside them, in seconds."""

    alone_p99: float
    mixed_p99: float
    alone_p50: float
    mixed_p50: float
    large_calls: int

    @property
    def ratio(self) -> float:
        """How much longer the slowest 1% of seed calls take under the mixed load."""
        return self.mixed_p99 / self.alone_p99 if self.alone_p99 else math.nan


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def fairness(
    server: Target,
    small: Sent,
    large: Sent,
    call: Callable[[Target, Sent], float | None],
    seconds: float,
) -> Fairness:
    """Seed calls for ``seconds`` alone, then as long with LARGE_CLIENTS sending large ones."""

    def measure() -> list[float]:
        found = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if (elapsed := call(server, small)) is not None:
                found.append(elapsed)
        return found

    alone = measure()
    stop = threading.Event()
    counts = [0] * LARGE_CLIENTS

    def background(index: int) -> None:
        while not stop.is_set():
            call(server, large)
            counts[index] += 1

    threads = [
        threading.Thread(target=background, args=(i,), daemon=True) for i in range(LARGE_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(min(0.5, seconds / 4))  # the large calls are under way before timing starts
    try:
        mixed = measure()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return Fairness(
        percentile(alone, 0.99),
        percentile(mixed, 0.99),
        percentile(alone, 0.5),
        percentile(mixed, 0.5),
        sum(counts),
    )
