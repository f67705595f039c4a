"""Encoded pieces: a manifest's bytes are reused only for a manifest a Struct holds alike."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from google.protobuf import struct_pb2

from function.serving.pieces import PIECE_COST_BYTES, Pieces

BUDGET = 1 << 20


def _updated(manifest: dict[str, Any]) -> bytes:
    struct = struct_pb2.Struct()
    struct.update(manifest)
    return bytes(struct.SerializeToString(deterministic=True))


def _filled(pieces: Pieces, manifest: dict[str, Any]) -> bytes:
    struct = struct_pb2.Struct()
    pieces.fill(struct, manifest)
    return bytes(struct.SerializeToString(deterministic=True))


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        pytest.param({"a": True}, {"a": 1.0}, "true and 1.0 are equal in Python, not in a Struct.",
                     id="bool-number"),
        pytest.param({"a": -0.0}, {"a": 0.0}, "A Struct keeps the sign of zero.", id="signed-zero"),
        pytest.param({"a": "1"}, {"a": 1.0}, "A string is no number.", id="string-number"),
        pytest.param({"a": None}, {"a": {}}, "null is no empty object.", id="null-object"),
        pytest.param({"a": "None"}, {"a": None}, "A string naming null is no null.",
                     id="string-null"),
        pytest.param({"a": [{"b": 1.0}]}, {"a": [{"b": 2.0}]}, "A change deep in a list counts.",
                     id="nested"),
        pytest.param({"a": 1.0, "b": 2.0}, {"b": 2.0, "a": 1.0},
                     "Another key order is another key, yet the same bytes.", id="key-order"),
    ],
)  # fmt: skip
def test_a_piece_is_given_only_for_what_a_struct_holds_alike(
    first: dict[str, Any], second: dict[str, Any], why: str
) -> None:
    """After one manifest is kept, another gets its own bytes, never the first one's."""
    pieces = Pieces(BUDGET)
    assert _filled(pieces, first) == _updated(first), why
    assert _filled(pieces, second) == _updated(second), why
    assert _filled(pieces, first) == _updated(first), why


def test_a_kept_piece_is_reused() -> None:
    """The same manifest again is one piece, and its bytes are what composing gives."""
    pieces = Pieces(BUDGET)
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    answers = [_filled(pieces, manifest) for _ in range(3)]
    assert answers == [_updated(manifest)] * 3
    assert (len(pieces), pieces.hits) == (1, 2)


def test_what_a_struct_cannot_hold_is_refused_and_not_kept() -> None:
    """A value Struct.update refuses is refused the same way, and nothing is kept."""
    pieces = Pieces(BUDGET)
    with pytest.raises((ValueError, TypeError)):
        _filled(pieces, {"a": object()})
    assert len(pieces) == 0


@pytest.mark.parametrize(
    ("budget", "kept", "why"),
    [
        pytest.param(0, 0, "A zero budget keeps nothing.", id="zero"),
        pytest.param(1, 0, "A piece larger than the budget is not kept.", id="too-small"),
        pytest.param(BUDGET, 3, "Room for every piece keeps all.", id="room"),
    ],
)
def test_pieces_stay_within_their_budget(budget: int, kept: int, why: str) -> None:
    """Pieces never cost more than the budget; the least recently used go first."""
    pieces = Pieces(budget)
    for name in "abc":
        _filled(pieces, {"name": name})
    assert (len(pieces), pieces.used <= pieces.budget) == (kept, True), why


def test_the_least_recently_used_piece_goes_first() -> None:
    """With room for two pieces, a third pushes out the one used least recently."""
    size = len(_updated({"name": "a"})) + PIECE_COST_BYTES
    pieces = Pieces(2 * size)
    _filled(pieces, {"name": "a"})
    _filled(pieces, {"name": "b"})
    _filled(pieces, {"name": "a"})  # a is now more recent than b
    _filled(pieces, {"name": "c"})
    assert len(pieces) == 2
    hits = pieces.hits
    _filled(pieces, {"name": "a"})
    assert pieces.hits == hits + 1, "a was kept"
    _filled(pieces, {"name": "b"})
    assert pieces.hits == hits + 1, "b was pushed out"


class _Color(enum.StrEnum):
    """A string enum, as the typed spec holds: marshal refuses subclasses of str."""

    RED = "red"


def test_a_manifest_marshal_refuses_is_filled_and_not_kept() -> None:
    """A value marshal cannot write still reaches the Struct as update sets it; no piece is kept."""
    pieces = Pieces(BUDGET)
    manifest = {"spec": {"color": _Color.RED, "tags": ["a"]}}
    assert _filled(pieces, manifest) == _updated(manifest)
    assert _filled(pieces, manifest) == _updated(manifest)
    assert (len(pieces), pieces.hits) == (0, 0)
