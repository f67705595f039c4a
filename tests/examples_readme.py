"""What examples/README.md documents per folder: the render command and what it prints.

The printed excerpt is a summary of render's output (the XR's Ready condition, its status,
the composed kinds), so tests can compute the same summary from a real render and compare.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

README = Path(__file__).resolve().parent.parent / "examples" / "README.md"
# A folder's section: its heading, the command block, then the excerpt of what it prints.
SECTION = re.compile(
    r"^### `(?P<case>[\w-]+)/`\n.*?```sh\n(?P<command>.*?)```\n.*?```text\n(?P<prints>.*?)```",
    re.DOTALL | re.MULTILINE,
)


@dataclass(frozen=True)
class Documented:
    """One folder's documented render: the files the command names, and the excerpt."""

    xr: Path
    composition: Path
    functions: Path
    observed: Path | None
    prints: str


def _documented(command: str, prints: str) -> Documented:
    words = shlex.split(command.replace("\\\n", " "))
    if words[1:3] != ["composition", "render"]:
        msg = f"not a render command: {command}"
        raise ValueError(msg)
    flags = {words[i]: words[i + 1] for i in range(3, len(words) - 1) if words[i].startswith("-")}
    files = [w for i, w in enumerate(words[3:], 3) if words[i - 1] not in flags and w[0] != "-"]
    observed = flags.get("--observed-resources")
    return Documented(Path(files[0]), Path(files[1]), Path(files[2]),
                      Path(observed) if observed else None, prints)  # fmt: skip


def documented() -> dict[str, Documented]:
    """Each folder's documented command and excerpt, by folder name."""
    return {
        match["case"]: _documented(match["command"], match["prints"])
        for match in SECTION.finditer(README.read_text(encoding="utf-8"))
    }


def summary(
    xr: Mapping[str, Any], composed: Mapping[str, Mapping[str, Any]], *, with_ready: bool = True
) -> str:
    """The excerpt of render's output: Ready as core sets it, the status, the composed kinds."""
    status = xr.get("status") or {}
    lines = []
    if with_ready:
        ready = next(c for c in status.get("conditions") or [] if c.get("type") == "Ready")
        lines.append(f"{xr['kind']} {xr['metadata']['name']}: Ready={ready['status']} "
                     f"({ready['reason']})")  # fmt: skip
    # What our function reports; an XR of another Composition (a Team) may have none of it.
    told = [f"ready={str(status['ready']).lower()}"] if "ready" in status else []
    told += [f"pending={len(status['pending'])}"] if "pending" in status else []
    if endpoint := (status.get("apiGateway") or {}).get("endpoint"):
        told.append(f"endpoint={endpoint}")
    if told:
        lines.append("status: " + ", ".join(told))
    kinds = Counter(str(body["kind"]) for body in composed.values())
    lines.append("composed: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())))
    return "\n".join(lines) + "\n"
