"""Redraw README.md's Mermaid picture of the seed claim from the code (`make graph`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from function.offline import documents, graph

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed" / "claim.yaml"
COMPOSITION = ROOT / "compositions" / "composition-legacy.yaml"

xr = documents.composite_from(yaml.safe_load(SEED.read_text(encoding="utf-8")))
drawn = graph.mermaid(xr, documents.input_from(documents.load_documents(COMPOSITION)))
readme = ROOT / "README.md"
text, count = re.subn(
    r"```mermaid\n.*?```",
    lambda _: f"```mermaid\n{drawn}```",
    readme.read_text(encoding="utf-8"),
    flags=re.DOTALL,
)
if count != 1:
    sys.exit(f"README.md has {count} mermaid blocks; expected one")
readme.write_text(text, encoding="utf-8")
