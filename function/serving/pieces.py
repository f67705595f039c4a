"""Each composed resource's encoded bytes, given again while its manifest is the same.

Turning a manifest (plain dicts and lists) into a protobuf Struct is Python code run
for every value, a large part of composing. Most reconciles compose most resources
exactly as the last time, so the Struct's bytes are kept, keyed by a digest of the
manifest, and parsed (in C) into the answer instead.

The key is a digest of the manifest as ``marshal`` writes it (format 2, which has no
references, so the bytes depend on content alone), three times faster than its ``repr``.
marshal keeps every value exactly, type included, so it tells apart every value a Struct
tells apart (``True``, ``1`` and ``1.0``; ``-0.0`` and ``0.0``; ``'1'`` and ``1``), and
more: a manifest that differs only where a Struct does not (``1`` and ``1.0``, a tuple and
a list, another key order) gets its own piece, of the same bytes. marshal refuses values of
other types, subclasses of ``str`` among them: such a manifest is filled and not kept.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from function.model import convert

if TYPE_CHECKING:
    from google.protobuf import struct_pb2

KEY_BYTES = 16
# The newest marshal format without references to objects written before.
MARSHAL_FORMAT = 2
# Besides the bytes: the key, and the dict slot holding both.
PIECE_COST_BYTES = 128


class Pieces:
    """Encoded manifests, least recently used first out, within a memory budget."""

    def __init__(self, budget_bytes: int) -> None:
        """Keep pieces costing at most ``budget_bytes`` in all; 0 keeps none."""
        self.budget = budget_bytes
        self.used = 0
        self.hits = 0
        self._pieces: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many pieces are kept."""
        return len(self._pieces)

    def fill(self, struct: struct_pb2.Struct, manifest: dict[str, Any]) -> None:
        """Make the empty ``struct`` hold ``manifest``, as ``convert.fill`` does."""
        try:
            written = marshal.dumps(manifest, MARSHAL_FORMAT)
        except ValueError:
            convert.fill(struct, manifest)
            return
        key = hashlib.blake2b(written, digest_size=KEY_BYTES).digest()
        with self._lock:
            data = self._pieces.get(key)
            if data is not None:
                self._pieces.move_to_end(key)
                self.hits += 1
        if data is not None:
            struct.MergeFromString(data)
            return
        convert.fill(struct, manifest)
        data = struct.SerializeToString(deterministic=True)
        with self._lock:
            self._store(key, data)

    def _store(self, key: bytes, data: bytes) -> None:
        """Keep ``data`` under ``key``, making room; call with the lock held."""
        cost = len(data) + PIECE_COST_BYTES
        if key in self._pieces or cost > self.budget:
            return
        while self.used + cost > self.budget:
            _, old = self._pieces.popitem(last=False)
            self.used -= len(old) + PIECE_COST_BYTES
        self._pieces[key] = data
        self.used += cost
