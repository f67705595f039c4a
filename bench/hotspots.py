"""Profile ``function.serving.fn.run`` in-process on a benchmark request with pyinstrument.

Prints the call tree (where the time goes, top down), then the functions with the most
time of their own and the share of each area (protobuf conversion, our code, pydantic).
No gRPC: only our code and its protobuf conversion.

Usage: ``python bench/hotspots.py [--apps N] [--calls N]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from payloads import build_payload
from report import SEED_LABEL

from function.serving import fn

if TYPE_CHECKING:
    from pyinstrument.frame import Frame

WARMUP_CALLS = 50
TOP_FUNCTIONS = 12
# Where a frame's file lives -> the area its time is charged to; the first match wins.
AREAS = (
    ("google/protobuf/json_format", "protobuf json_format (SDK dict<->Struct)"),
    ("google/protobuf", "protobuf, other"),
    ("/function/", "our code (function/)"),
    ("pydantic", "pydantic"),
)

Seconds = defaultdict[str, float]


def _largest(times: Seconds) -> list[tuple[str, float]]:
    """(name, seconds) pairs, largest first."""
    return sorted(times.items(), key=lambda item: item[1], reverse=True)


def _own_times(frame: Frame, functions: Seconds, areas: Seconds) -> None:
    """Add each function's own time to both counters.

    pyinstrument keeps a frame's own time in a synthetic ``[self]`` child, so that time
    is charged to the parent frame's function. Built-ins count in their caller's area.
    """
    owner = frame.parent if frame.is_synthetic_leaf and frame.parent is not None else frame
    own = frame.time - sum(child.time for child in frame.children)
    if own > 0:
        caller = owner
        while caller.parent is not None and not (caller.file_path or "").endswith(".py"):
            caller = caller.parent
        path = caller.file_path or ""
        functions[f"{owner.function}  {owner.file_path_short}:{owner.line_no}"] += own
        areas[next((area for key, area in AREAS if key in path), "other")] += own
    for child in frame.children:
        _own_times(child, functions, areas)


def _flat(profiler: Any) -> str:  # noqa: ANN401 - pyinstrument's Profiler
    """Top functions by own time and the share of each area, as text."""
    root = profiler.last_session.root_frame()
    functions: Seconds = defaultdict(float)
    areas: Seconds = defaultdict(float)
    _own_times(root, functions, areas)
    total = root.time or 1.0
    lines = ["own time by area:"]
    lines += [f"  {100 * t / total:5.1f}%  {name}" for name, t in _largest(areas)]
    lines.append(f"top {TOP_FUNCTIONS} functions by own time:")
    lines += [
        f"  {100 * t / total:5.1f}%  {name}" for name, t in _largest(functions)[:TOP_FUNCTIONS]
    ]
    return "\n".join(lines)


def main() -> int:
    """Profile ``--calls`` calls after a warm-up and print tree and flat views."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=0, help="apps in the claim (0: the seed)")
    parser.add_argument("--calls", type=int, default=500, help="profiled calls")
    parser.add_argument("--interval", type=float, default=0.0002, help="sampling interval, s")
    args = parser.parse_args()
    try:
        from pyinstrument import Profiler  # noqa: PLC0415 - a dev-only tool
    except ImportError:
        print("pyinstrument is missing: pip install -e '.[dev]'", file=sys.stderr)
        return 2

    label = SEED_LABEL if not args.apps else f"{args.apps} apps"
    req = fnv1.RunFunctionRequest.FromString(build_payload(label, args.apps).data)
    for _ in range(WARMUP_CALLS):
        fn.run(req)
    profiler = Profiler(interval=args.interval)
    start = time.perf_counter()
    with profiler:
        for _ in range(args.calls):
            fn.run(req)
    per_call_ms = 1000 * (time.perf_counter() - start) / args.calls
    flat = _flat(profiler)  # first: rendering the tree below regroups its frames
    print(profiler.output_text(show_all=False, time="percent_of_total"))
    print(flat)
    print(f"{label}: {args.calls} calls, {per_call_ms:.2f} ms per call under the profiler")
    return 0


if __name__ == "__main__":
    sys.exit(main())
