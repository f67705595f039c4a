"""Encoded pieces: reused only for what a State holds alike; spliced, protobuf's own bytes."""

from __future__ import annotations

import copy
import enum
from typing import Any

import pytest
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from function.serving import pieces as pieces_module
from function.serving.pieces import PIECE_COST_BYTES, Pieces, entry, splice

BUDGET = 1 << 20
NAME = "r"


def _updated(manifest: dict[str, Any]) -> bytes:
    struct = struct_pb2.Struct()
    struct.update(manifest)
    return bytes(struct.SerializeToString(deterministic=True))


def _filled(pieces: Pieces, manifest: dict[str, Any]) -> bytes:
    """The Struct the piece of ``manifest`` holds, serialized; the piece must hold it alone."""
    state = fnv1.State.FromString(pieces.entry(NAME, manifest, fnv1.READY_TRUE))
    assert list(state.resources) == [NAME]
    assert state.resources[NAME].ready == fnv1.READY_TRUE
    assert not state.HasField("composite")
    return bytes(state.resources[NAME].resource.SerializeToString(deterministic=True))


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
    again = copy.deepcopy(first)  # told by content, not as the same object
    assert _filled(pieces, again) == _updated(first), why


def test_a_kept_piece_is_reused() -> None:
    """The same manifest again is one piece, and its bytes are what composing gives."""
    pieces = Pieces(BUDGET)
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    answers = [_filled(pieces, copy.deepcopy(manifest)) for _ in range(3)]
    assert answers == [_updated(manifest)] * 3
    assert (len(pieces), pieces.hits) == (1, 2)


@pytest.mark.parametrize(
    ("name", "ready", "written", "why"),
    [
        pytest.param(NAME, fnv1.READY_TRUE, 0, "The very object again: not even written.",
                     id="same"),
        pytest.param("s", fnv1.READY_TRUE, 1, "Under another name: its own piece.", id="name"),
        pytest.param(NAME, fnv1.READY_FALSE, 1, "Readiness changed: its own piece.", id="ready"),
    ],
)  # fmt: skip
def test_the_same_manifest_object_is_told_without_being_written(
    monkeypatch: pytest.MonkeyPatch, name: str, ready: fnv1.Ready, written: int, why: str
) -> None:
    """A manifest built before (composing reuses unchanged builders' objects) costs a lookup."""
    pieces = Pieces(BUDGET)
    manifest = {"kind": "Namespace", "metadata": {"name": "n"}}
    pieces.entry(NAME, manifest, fnv1.READY_TRUE)
    calls: list[object] = []
    dumps = pieces_module.marshal.dumps
    monkeypatch.setattr(pieces_module.marshal, "dumps", lambda *a: calls.append(a) or dumps(*a))
    expected = fnv1.State()
    expected.resources[name].resource.update(manifest)
    expected.resources[name].ready = ready
    assert pieces.entry(name, manifest, ready) == expected.SerializeToString(deterministic=True)
    assert len(calls) == written, why


def test_the_objects_told_by_identity_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SAME_KEPT objects, the one used least recently is told by content again."""
    monkeypatch.setattr(pieces_module, "SAME_KEPT", 2)
    pieces = Pieces(BUDGET)
    first, second, third = ({"name": name} for name in "abc")
    for manifest in (first, second, first, third):  # second is now the least recent
        pieces.entry(NAME, manifest, fnv1.READY_TRUE)
    hits = pieces.hits
    pieces.entry(NAME, first, fnv1.READY_TRUE)
    assert pieces.hits == hits + 1
    calls: list[object] = []
    dumps = pieces_module.marshal.dumps
    monkeypatch.setattr(pieces_module.marshal, "dumps", lambda *a: calls.append(a) or dumps(*a))
    pieces.entry(NAME, second, fnv1.READY_TRUE)
    assert len(calls) == 1, "second was told by its content"


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
    size = len(Pieces(0).entry(NAME, {"name": "a"}, fnv1.READY_TRUE)) + PIECE_COST_BYTES
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


def test_a_manifest_marshal_refuses_is_encoded_and_not_kept() -> None:
    """A value marshal cannot write still reaches the Struct as update sets it; no piece is kept."""
    pieces = Pieces(BUDGET)
    manifest = {"spec": {"color": _Color.RED, "tags": ["a"]}}
    assert _filled(pieces, copy.deepcopy(manifest)) == _updated(manifest)
    assert _filled(pieces, copy.deepcopy(manifest)) == _updated(manifest)
    assert (len(pieces), pieces.hits) == (0, 0)


@pytest.mark.parametrize(
    ("other", "why"),
    [
        pytest.param(("s", fnv1.READY_TRUE), "Another name is another map key.", id="name"),
        pytest.param((NAME, fnv1.READY_FALSE), "Readiness is in the bytes too.", id="ready"),
    ],
)
def test_a_piece_is_given_only_for_the_same_name_and_readiness(
    other: tuple[str, fnv1.Ready], why: str
) -> None:
    """The same manifest under another name or readiness gets bytes of its own."""
    pieces = Pieces(BUDGET)
    manifest = {"kind": "Namespace"}
    pieces.entry(NAME, manifest, fnv1.READY_TRUE)
    name, ready = other
    expected = fnv1.State()
    expected.resources[name].resource.update(manifest)
    expected.resources[name].ready = ready
    assert pieces.entry(name, manifest, ready) == expected.SerializeToString(deterministic=True)
    assert (len(pieces), pieces.hits) == (2, 0), why


def _response(resources: dict[str, dict[str, Any]], *, extras: bool) -> fnv1.RunFunctionResponse:
    """A response tagged and timed, its XR's status set, holding ``resources``."""
    rsp = fnv1.RunFunctionResponse(meta=fnv1.ResponseMeta(tag="t"))
    rsp.meta.ttl.seconds = 60
    rsp.desired.composite.resource.update({"status": {"ready": False}})
    for name, manifest in resources.items():
        rsp.desired.resources[name].resource.update(manifest)
        rsp.desired.resources[name].ready = fnv1.READY_FALSE
    if extras:
        rsp.results.add(severity=fnv1.SEVERITY_NORMAL, message="m")
        rsp.conditions.add(type="T", status=fnv1.STATUS_CONDITION_TRUE, reason="R")
        rsp.context.update({"k": "v"})
    return rsp


def _spliced(resources: dict[str, dict[str, Any]], *, extras: bool) -> bytes:
    """``_response`` of ``resources``, spliced from each resource's entry."""
    whole = _response(resources, extras=extras)
    entries = {name: entry(name, resource) for name, resource in whole.desired.resources.items()}
    return splice(_response({}, extras=extras), entries)


@pytest.mark.parametrize(
    ("names", "extras", "why"),
    [
        pytest.param([], False, "No resources: the XR's desired state alone.", id="none"),
        pytest.param(["b", "a"], False, "Keys sorted by their bytes.", id="sorted"),
        pytest.param(["a", "ab", "abc", "aa"], True, "A key goes after the longer keys it begins.",
                     id="prefixes"),
        pytest.param(["é", "z", "Z", ""], True, "Bytes, not letters, and the empty key last.",
                     id="bytes"),
    ],
)  # fmt: skip
def test_a_spliced_answer_is_the_answer_protobuf_serializes(
    names: list[str], extras: bool, why: str
) -> None:
    """Fields in number order and map entries in protobuf's order: the same bytes."""
    resources = {name: {"metadata": {"name": name}} for name in names}
    expected = _response(resources, extras=extras).SerializeToString(deterministic=True)
    assert _spliced(resources, extras=extras) == expected, why


@pytest.mark.parametrize(
    ("size", "why"),
    [
        pytest.param(100, "A length below 128 is one byte.", id="one-byte"),
        pytest.param(1_000, "Up to 16383, two bytes.", id="two-bytes"),
        pytest.param(100_000, "Up to about 2 MiB, three bytes.", id="three-bytes"),
    ],
)
def test_the_desired_state_length_is_written_as_protobuf_writes_it(size: int, why: str) -> None:
    """Desired state of every size is framed alike: the length is a varint of as many bytes."""
    resources = {"r": {"data": "x" * size}}
    expected = _response(resources, extras=True).SerializeToString(deterministic=True)
    assert _spliced(resources, extras=True) == expected, why


@settings(max_examples=200, deadline=None)
@given(
    resources=st.dictionaries(
        st.text(max_size=6),
        st.dictionaries(st.text(max_size=4), st.text(max_size=300), max_size=3),
        max_size=8,
    ),
    extras=st.booleans(),
)
def test_any_spliced_answer_is_the_answer_protobuf_serializes(
    resources: dict[str, dict[str, Any]], extras: bool
) -> None:
    """Any names, any sizes: a spliced answer is byte for byte what protobuf serializes."""
    expected = _response(resources, extras=extras).SerializeToString(deterministic=True)
    assert _spliced(resources, extras=extras) == expected
