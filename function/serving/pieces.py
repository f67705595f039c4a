"""Each composed resource's encoded bytes, given again while its manifest is the same.

Turning a manifest (plain dicts and lists) into a protobuf Struct is Python code run
for every value, a large part of composing. Most reconciles compose most resources
exactly as the last time, so each resource's bytes, as a ``State`` holding that resource
alone, are kept, keyed by a digest of its name, readiness and manifest, and an answer is
spliced together from them (``splice``) instead of being built and serialized again.

The key is a digest of those as ``marshal`` writes them (format 2, which has no
references, so the bytes depend on content alone), three times faster than their ``repr``.
marshal keeps every value exactly, type included, so it tells apart every value a Struct
tells apart (``True``, ``1`` and ``1.0``; ``-0.0`` and ``0.0``; ``'1'`` and ``1``), and
more: a manifest that differs only where a Struct does not (``1`` and ``1.0``, a tuple and
a list, another key order) gets its own piece, of the same bytes. marshal refuses values of
other types, subclasses of ``str`` among them: such a resource is encoded and not kept.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.model import convert

if TYPE_CHECKING:
    from collections.abc import Iterable

KEY_BYTES = 16
# The newest marshal format without references to objects written before.
MARSHAL_FORMAT = 2
# Besides the bytes: the key, and the dict slot holding both.
PIECE_COST_BYTES = 128
# Manifests last encoded, told by identity: composing hands out the very objects it built
# before for each builder it does not run again (``compose``'s ``before``), and a manifest
# is never changed once built. By count, as each holds its manifest (so that no other
# object gets its id meanwhile): a seed-sized composition has 32.
SAME_KEPT = 1024
# RunFunctionResponse.desired, a length-delimited field (wire type 2).
DESIRED_TAG = b"\x12"
# No byte of UTF-8 is 0xFF: appended to a name, it sorts the name after every longer name
# it begins.
LAST = b"\xff"


def entry(name: str, resource: fnv1.Resource) -> bytes:
    """A ``State`` holding ``resource`` under ``name`` and nothing else, serialized."""
    state = fnv1.State()
    state.resources[name].CopyFrom(resource)
    return bytes(state.SerializeToString(deterministic=True))


def _order(name: str) -> bytes:
    """Where protobuf's deterministic serialization puts ``name`` among a map's keys.

    upb compares keys' bytes and puts a key after every longer key it begins.
    """
    return name.encode() + LAST


def _varint(number: int) -> bytes:
    """``number`` (not negative) as a protobuf varint: seven bits a byte, lowest first."""
    out = bytearray()
    while number > 0x7F:  # noqa: PLR2004 - the largest number one byte holds
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def splice(rsp: fnv1.RunFunctionResponse, entries: dict[str, bytes]) -> bytes:
    """``rsp``, serialized deterministically, with ``entries`` as its desired resources.

    ``entries``: each resource's ``entry``; ``rsp`` must hold no desired resources, and a
    meta field (``response.to`` sets one). The bytes are what protobuf gives for ``rsp``
    holding those resources: fields in number order, meta (1) then desired (2), map
    entries in protobuf's order. ``rsp`` loses its desired state.
    """
    head = len(fnv1.RunFunctionResponse(meta=rsp.meta).SerializeToString(deterministic=True))
    desired = bytes(rsp.desired.SerializeToString(deterministic=True)) + b"".join(
        entries[name] for name in sorted(entries, key=_order)
    )
    rsp.ClearField("desired")
    rest = bytes(rsp.SerializeToString(deterministic=True))
    return rest[:head] + DESIRED_TAG + _varint(len(desired)) + desired + rest[head:]


class Pieces:
    """Encoded resources, least recently used first out, within a memory budget."""

    def __init__(self, budget_bytes: int) -> None:
        """Keep pieces costing at most ``budget_bytes`` in all; 0 keeps none."""
        self.budget = budget_bytes
        self.used = 0
        self.hits = 0
        self._pieces: OrderedDict[bytes, bytes] = OrderedDict()
        self._same: OrderedDict[int, tuple[dict[str, Any], str, fnv1.Ready, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many pieces are kept."""
        return len(self._pieces)

    def entry(self, name: str, manifest: dict[str, Any], ready: fnv1.Ready) -> bytes:
        """The ``entry`` of a resource composed as ``manifest``, ready or not as ``ready``."""
        return self.entries(((name, manifest, ready),))[name]

    def entries(self, made: Iterable[tuple[str, dict[str, Any], fnv1.Ready]]) -> dict[str, bytes]:
        """The ``entry`` of each resource, by name, from its name, manifest and readiness.

        One lock for every manifest told by identity: a composition hands out dozens.
        """
        found: dict[str, bytes] = {}
        anew: list[tuple[str, dict[str, Any], fnv1.Ready]] = []
        with self._lock:
            for name, manifest, ready in made:
                same = self._same.get(id(manifest))
                if same is not None and same[1] == name and same[2] == ready:
                    self._same.move_to_end(id(manifest))
                    found[name] = same[3]
                else:
                    anew.append((name, manifest, ready))
            self.hits += len(found)
        if not anew:
            return found
        for name, manifest, ready in anew:
            found[name] = self._alike(name, manifest, ready)
        with self._lock:
            for name, manifest, ready in anew:
                self._same[id(manifest)] = (manifest, name, ready, found[name])
                self._same.move_to_end(id(manifest))
            while len(self._same) > SAME_KEPT:
                self._same.popitem(last=False)
        return found

    def _alike(self, name: str, manifest: dict[str, Any], ready: fnv1.Ready) -> bytes:
        """``entry``, given again for a manifest of the same content."""
        try:
            written = marshal.dumps((name, ready, manifest), MARSHAL_FORMAT)
        except ValueError:
            return _encoded(name, manifest, ready)
        key = hashlib.blake2b(written, digest_size=KEY_BYTES).digest()
        with self._lock:
            data = self._pieces.get(key)
            if data is not None:
                self._pieces.move_to_end(key)
                self.hits += 1
        if data is not None:
            return data
        data = _encoded(name, manifest, ready)
        with self._lock:
            self._store(key, data)
        return data

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


def _encoded(name: str, manifest: dict[str, Any], ready: fnv1.Ready) -> bytes:
    """The ``entry`` of a resource composed as ``manifest``, built value by value."""
    resource = fnv1.Resource(ready=ready)
    convert.fill(resource.resource, manifest)
    return entry(name, resource)
