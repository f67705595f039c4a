"""``function-vcluster-environment ARGS``, noting each RunFunction call in a file first.

Run as ``python -m realtools.fnserve CALLS-FILE serve ...``: the same command line and server
as the console script, plus one JSON line per call (the XR's kind, namespace and name, and
the time), so a test can count the calls Crossplane core made for each XR.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from realtools import project

if TYPE_CHECKING:
    from crossplane.function.proto.v1 import run_function_pb2 as fnv1


def _field(struct: object, name: str) -> str:
    fields = getattr(struct, "fields", {})
    # Look before indexing: indexing a protobuf map would add the key to the request.
    return fields[name].string_value if name in fields else ""


def composite_of(req: fnv1.RunFunctionRequest) -> dict[str, str]:
    """The kind, namespace and name of the XR a request is for."""
    resource = req.observed.composite.resource
    fields = resource.fields
    metadata = fields["metadata"].struct_value if "metadata" in fields else None
    return {
        "kind": _field(resource, "kind"),
        "namespace": _field(metadata, "namespace"),
        "name": _field(metadata, "name"),
    }


def main(argv: list[str]) -> None:
    """Note calls in ``argv[0]``, then run the function's command line with the rest."""
    calls = Path(argv[0])

    def note(req: fnv1.RunFunctionRequest) -> None:
        line = json.dumps({**composite_of(req), "time": time.time()})
        with calls.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    project.note_each_call(note)
    project.run_cli(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
