"""convert: reading Structs in place, and filling them as ``Struct.update`` would."""

from __future__ import annotations

import enum
import math
from typing import Any

import pytest
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from function.model.convert import StructView, fill, plain


class Color(enum.StrEnum):
    """A string enum, as the typed spec holds (a subclass of str)."""

    RED = "red"


def _updated(manifest: dict[str, Any]) -> struct_pb2.Struct:
    found = struct_pb2.Struct()
    found.update(manifest)
    return found


def _filled(manifest: dict[str, Any]) -> struct_pb2.Struct:
    found = struct_pb2.Struct()
    fill(found, manifest)
    return found


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), VALUES, max_size=5))
def test_fill_builds_what_update_builds(manifest: dict[str, Any]) -> None:
    """Any JSON-like manifest, tuples and empty objects included, gives update's exact bytes."""
    assert _filled(manifest).SerializeToString(deterministic=True) == _updated(
        manifest
    ).SerializeToString(deterministic=True)


@pytest.mark.parametrize(
    ("manifest", "why"),
    [
        ({"a": {}}, "An empty object is present, not absent."),
        ({"a": []}, "An empty list is present, not absent."),
        ({"a": None}, "None is a null value, not a missing key."),
        ({"a": False, "b": 0}, "False stays a bool and 0 a number, though bool is an int."),
        ({"a": -0.0}, "The sign of zero is kept, as a double keeps it."),
        ({"a": math.inf}, "Infinity is a double too."),
        ({"a": Color.RED}, "A string enum is its string."),
        ({"a": True, "b": [True, 1]}, "True is a bool inside a list as well."),
    ],
)
def test_fill_edge_values(manifest: dict[str, Any], why: str) -> None:
    """Values where a type check in the wrong order would change what is built."""
    assert _filled(manifest) == _updated(manifest), why


def test_fill_replaces_nested_objects_as_update_does() -> None:
    """Filling over an existing object replaces nested objects and lists; it never merges them."""
    found = _updated({"status": {"old": 1, "kept": [1, 2]}, "other": "x"})
    fill(found, {"status": {"new": 2, "kept": [3]}})
    assert plain(StructView(found)) == {"status": {"new": 2.0, "kept": [3.0]}, "other": "x"}


def test_fill_refuses_what_a_struct_cannot_hold() -> None:
    """A value of no JSON type is a bug in a builder: refused, never written as something else."""
    with pytest.raises(TypeError, match="set"):
        fill(struct_pb2.Struct(), {"a": {1, 2}})
