"""Figures of one benchmark run, the table printed and the summary line (``page``: the Markdown)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cells
import realreport

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SERVERS = OURS, COMPOSING, FLOOR, GO_TEMPLATING, PYTHONIC = (
    realreport.OURS,
    realreport.COMPOSING,
    realreport.FLOOR,
    realreport.GO_TEMPLATING,
    realreport.PYTHONIC,
)
BEFORE_SERVERS = realreport.BEFORE, realreport.COMPOSING_BEFORE
REAL_LABELS = realreport.REAL_LABELS
Real = realreport.Real
SEED_LABEL = "seed"
CHANGING_LABEL = "seed, unread change"
LARGEST_LABEL = "300 apps"
# The targets, as ratios measured in one run.
P50_TARGET = 1.3
SCALING_TARGET = 10.0
RSS_TARGET = 1.5
FULL_COMMAND = "python bench/run.py --before"  # what `make bench` runs, then its revision
PACKAGES = ("crossplane-function-sdk-python", "grpcio", "protobuf", "pydantic")
# How each latency row is described: (server, request label) -> what the call does.
WAYS = {
    (OURS, SEED_LABEL): "ours: the same request again (same tag: the memo answers)",
    (OURS, CHANGING_LABEL): "ours: an unread field changed (new tag: the memo checks its inputs)",
    (COMPOSING, SEED_LABEL): "ours, memo off: composed every call",
    (FLOOR, SEED_LABEL): "floor: no-op SDK function",
}
GO_TEMPLATE_WAY = "function-go-templating: renders the template every call"


@dataclass(frozen=True)
class Latency:
    """Concurrency-1 latency of one (server, request) pair, in seconds."""

    p50: float
    p99: float
    count: int


@dataclass(frozen=True)
class Throughput:
    """Calls completed at concurrency 8 and the server CPU time they took."""

    calls: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def __add__(self, other: Throughput) -> Throughput:
        """Both slices' figures together."""
        return Throughput(
            self.calls + other.calls,
            self.seconds + other.seconds,
            self.cpu_seconds + other.cpu_seconds,
        )

    @property
    def per_second(self) -> float:
        """Completed calls per second of wall time."""
        return self.calls / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        """Server CPU milliseconds per completed call."""
        return 1000 * self.cpu_seconds / self.calls if self.calls else math.nan


@dataclass(frozen=True)
class GoTemplating:
    """Where the function-go-templating figures came from."""

    binary: str
    template: str


@dataclass(frozen=True)
class Result:
    """Every figure of one run; latencies in seconds, memory in KiB."""

    real: Real
    latency: dict[tuple[str, str], Latency]
    go_latency: dict[tuple[str, str], Latency]  # a phase of its own; empty if not measured
    throughput: dict[str, Throughput]
    throughput_errors: int
    rss_idle_kib: dict[str, int]
    rss_seed_kib: dict[str, int]
    rss_end_kib: dict[str, int]
    scaling_p50: dict[tuple[str, str], float]
    scaling_count: int
    payloads: list[tuple[str, int, int, int]]
    errors: dict[str, int]
    error_samples: list[str]
    seconds: float
    load: tuple[float, float]
    clients: int
    mode: dict[str, Any]
    go_templating: GoTemplating | None

    @property
    def total_errors(self) -> int:
        """Failed calls and wrong answers over the whole run."""
        return sum(self.errors.values())

    @property
    def servers(self) -> list[str]:
        """The servers of this run, in SERVERS order."""
        return [name for name in SERVERS if name in self.throughput]

    def p50(self, server: str, label: str = SEED_LABEL) -> float:
        """A pair's p50 latency; NaN if it was not measured."""
        found = self.latency.get((server, label))
        return found.p50 if found is not None else math.nan

    def over_floor(self, server: str, label: str = SEED_LABEL) -> float:
        """A pair's p50 over the floor's p50 for the seed claim."""
        return cells.ratio(self.p50(server, label), self.p50(FLOOR))

    def versus_go_templating(self, server: str, label: str = SEED_LABEL) -> float:
        """A pair's p50 over function-go-templating's, measured in the same phase."""
        ours = self.go_latency.get((server, label))
        go = next((v for (name, _), v in self.go_latency.items() if name == GO_TEMPLATING), None)
        return math.nan if ours is None or go is None else cells.ratio(ours.p50, go.p50)

    @property
    def scaling_ratio(self) -> float:
        """Composing every call: p50 for 300 apps over p50 for the seed claim."""
        return cells.ratio(
            self.scaling_p50[COMPOSING, LARGEST_LABEL], self.scaling_p50[COMPOSING, SEED_LABEL]
        )


def summary(result: Result) -> str:
    """The one line a person or CI reads first."""
    versus_go = result.versus_go_templating(COMPOSING)
    throughput = cells.ratio(
        result.throughput[OURS].per_second, result.throughput[FLOOR].per_second
    )
    go = (
        "go-templating=not-measured"
        if math.isnan(versus_go)
        else f"p50_composed/go-templating={versus_go:.2f}"
    )
    return (
        f"errors={result.total_errors} "
        f"p50_same_request/floor={result.over_floor(OURS):.2f} "
        f"p50_unread_change/floor={result.over_floor(OURS, CHANGING_LABEL):.2f} "
        f"p50_composed/floor={result.over_floor(COMPOSING):.2f} "
        f"throughput_ours/floor={throughput:.2f} "
        f"rss_ours/floor={cells.ratio(result.rss_end_kib[OURS], result.rss_end_kib[FLOOR]):.2f} "
        f"p50_300apps/seed={result.scaling_ratio:.2f} "
        f"{go} {realreport.summary(result.real)}"
    )


def _latency_rows(
    phase: dict[tuple[str, str], Latency], ratio: Callable[[str, str], float]
) -> list[tuple[str, ...]]:
    """(what, requests, p50, p99, ratio) rows of one latency phase."""
    return [
        (
            WAYS.get((server, label), GO_TEMPLATE_WAY),
            str(value.count),
            cells.ms(value.p50),
            cells.ms(value.p99),
            cells.times(ratio(server, label)),
        )
        for (server, label), value in phase.items()
    ]


def floor_rows(result: Result) -> list[tuple[str, ...]]:
    """The seed at concurrency 1: each way of ours and the floor, over the floor."""
    return _latency_rows(result.latency, result.over_floor)


def go_rows(result: Result) -> list[tuple[str, ...]]:
    """The seed at concurrency 1 against function-go-templating."""
    return _latency_rows(result.go_latency, result.versus_go_templating)


def throughput_rows(result: Result) -> list[tuple[str, ...]]:
    """Calls and CPU per call at concurrency 8, over the floor."""
    floor = result.throughput[FLOOR]
    return [
        (
            name,
            f"{value.per_second:.0f}/s",
            str(value.calls),
            f"{value.cpu_ms_per_call:.2f} ms",
            cells.times(cells.ratio(value.per_second, floor.per_second)),
            cells.times(cells.ratio(value.cpu_ms_per_call, floor.cpu_ms_per_call)),
        )
        for name, value in result.throughput.items()
    ]


def memory_rows(result: Result) -> list[tuple[str, ...]]:
    """Peak RSS of each server after each phase, over the floor."""
    return [
        (
            name,
            cells.mib(result.rss_idle_kib[name]),
            cells.mib(result.rss_seed_kib[name]),
            cells.mib(result.rss_end_kib[name]),
            cells.times(cells.ratio(result.rss_end_kib[name], result.rss_end_kib[FLOOR])),
        )
        for name in result.servers
    ]


def scaling_rows(result: Result) -> list[tuple[str, ...]]:
    """p50 per claim size, composed every call and against the seed."""
    seed = result.scaling_p50[COMPOSING, SEED_LABEL]
    return [
        (
            label,
            str(apps),
            f"{size / 1024:.0f} KiB",
            str(resources),
            cells.ms(result.scaling_p50[COMPOSING, label]),
            cells.times(cells.ratio(result.scaling_p50[COMPOSING, label], seed)),
            cells.ms(result.scaling_p50[OURS, label]),
            cells.ms(result.scaling_p50[FLOOR, label]),
        )
        for label, apps, size, resources in result.payloads
    ]


LATENCY_HEADER = ("seed claim, concurrency 1", "requests", "p50", "p99", "p50 / floor")
GO_HEADER = ("seed claim, concurrency 1", "requests", "p50", "p99", "p50 / go-templating")
THROUGHPUT_HEADER = ("server", "calls/s", "calls", "CPU per call", "calls/s / floor", "CPU / floor")
MEMORY_HEADER = ("server", "after start-up", "after seed phases", "at the end", "end / floor")
SCALING_HEADER = (
    "claim",
    "apps",
    "request",
    "resources",
    "composed p50",
    "composed / seed",
    "same request p50",
    "floor p50",
)


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(
            f"{c:>{w}}" if i else f"{c:<{w}}"
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def table(result: Result) -> str:
    """A plain console table of every figure."""
    parts = [
        _text_table(realreport.TARGETS_HEADER, realreport.targets(result.real)),
        _text_table(
            ("server", "request", "calls", "CPU per call", "over the floor"),
            realreport.cpu_rows(result.real),
        ),
        _text_table(LATENCY_HEADER, floor_rows(result)),
        *([_text_table(GO_HEADER, go_rows(result))] if result.go_latency else []),
        _text_table(THROUGHPUT_HEADER, throughput_rows(result)),
        _text_table(MEMORY_HEADER, memory_rows(result)),
        _text_table(SCALING_HEADER, scaling_rows(result)),
        (
            f"errors: {result.errors or 'none'}; run took {result.seconds:.0f} s; "
            f"load average {result.load[0]:.2f} -> {result.load[1]:.2f}"
        ),
    ]
    return "\n\n".join(parts)
