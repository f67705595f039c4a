"""convert: reading Structs in place, and filling them as ``Struct.update`` would."""

from __future__ import annotations

import enum
import math
from collections import OrderedDict, defaultdict
from typing import Any, NamedTuple

import pytest
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from function.model.convert import VIEWS, StructView, dig, fill, plain, to_dict


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


class Count(enum.IntEnum):
    """An int enum: a subclass of int, written as its number."""

    ONE = 1


class Ratio(float):
    """A subclass of float, written as its number."""


class Items(list[Any]):
    """A subclass of list, written as a list."""


class Pair(NamedTuple):
    """A named tuple: a subclass of tuple, written as a list."""

    first: Any
    second: Any


@pytest.mark.parametrize(
    ("manifest", "expected", "why"),
    [
        pytest.param({"a": Count.ONE}, {"a": 1.0}, "An int enum is its number.", id="int-enum"),
        pytest.param({"a": Ratio(2.5)}, {"a": 2.5}, "A float subclass is its number.",
                     id="float-subclass"),
        pytest.param({"a": OrderedDict(b="x")}, {"a": {"b": "x"}},
                     "An OrderedDict is an object with its items.", id="ordered-dict"),
        pytest.param({"a": defaultdict(list, {"b": [Count.ONE]})}, {"a": {"b": [1.0]}},
                     "A defaultdict is an object, its values converted in turn.",
                     id="defaultdict"),
        pytest.param({"a": Items([1, "x"])}, {"a": [1.0, "x"]},
                     "A list subclass is a list of its items.", id="list-subclass"),
        pytest.param({"a": Pair(Count.ONE, "y")}, {"a": [1.0, "y"]},
                     "A named tuple is a list of its items.", id="named-tuple"),
    ],
)  # fmt: skip
def test_fill_subclasses(manifest: dict[str, Any], expected: dict[str, Any], why: str) -> None:
    """Instances of subclasses are written as their base type, exactly as update writes them."""
    found = _filled(manifest)
    assert found == _updated(manifest), why
    assert to_dict(found) == expected, why


def test_fill_names_what_a_struct_cannot_hold() -> None:
    """The refusal names the type, so the builder that sent it is found at once."""
    with pytest.raises(TypeError) as refused:
        fill(struct_pb2.Struct(), {"a": [frozenset()]})
    assert refused.value.args == ("a Struct holds no frozenset",)


def _value(**kind: Any) -> struct_pb2.Struct:
    """A Struct whose key "a" holds one Value of ``kind`` (none: a Value with no kind set)."""
    found = struct_pb2.Struct()
    value = found.fields["a"]
    for name, item in kind.items():
        if name == "struct_value":
            value.struct_value.update(item)
        elif name == "list_value":
            value.list_value.extend(item)
        else:
            setattr(value, name, item)
    return found


@pytest.mark.parametrize(
    ("struct", "expected", "why"),
    [
        pytest.param(_value(string_value="x"), "x", "A string is read as it is.", id="string"),
        pytest.param(_value(number_value=2.5), 2.5, "A number is its double.", id="number"),
        pytest.param(_value(bool_value=False), False, "False is read as False, not as None.",
                     id="bool"),
        pytest.param(_value(null_value=0), None, "A null is None, not the enum's 0.", id="null"),
        pytest.param(_value(), None, "A Value with no kind set holds nothing: None.",
                     id="no-kind"),
        pytest.param(_value(list_value=["x", 1.0, None]), ["x", 1.0, None],
                     "A list is read item by item.", id="list"),
        pytest.param(_value(struct_value={"b": {"c": ["d"]}}), {"b": {"c": ["d"]}},
                     "A nested object is a view, read in turn.", id="struct"),
    ],
)  # fmt: skip
def test_view_reads_each_kind(struct: struct_pb2.Struct, expected: Any, why: str) -> None:
    """Each kind of Value reads as its plain Python value, by indexing, get and to_dict alike."""
    view = StructView(struct)
    assert plain(view["a"]) == expected, why
    assert plain(view.get("a", "default")) == expected, why
    assert to_dict(struct) == {"a": expected}, why
    assert type(plain(view["a"])) is type(expected), why


def test_view_is_a_read_only_mapping() -> None:
    """Keys, length, membership and a missing key behave as a dict's, and reading adds nothing."""
    struct = _updated({"b": "x", "a": [{"c": 1}]})
    view = StructView(struct)
    assert (sorted(view), len(view)) == (["a", "b"], 2)
    assert ("a" in view, "z" in view) == (True, False)
    assert view.get("z") is None
    assert view.get("z", "default") == "default"
    with pytest.raises(KeyError) as missing:
        view["z"]
    assert missing.value.args == ("z",)
    assert plain([view["a"], "y"]) == [[{"c": 1.0}], "y"]
    assert sorted(struct.fields) == ["a", "b"]


DIG_BODY: dict[str, Any] = {
    "status": {"atProvider": {"id": "abc", "tags": ["x"], "none": None, "zero": 0.0}},
    "list": [{"a": "b"}],
    "text": "x",
}


@pytest.mark.parametrize(
    ("path", "why"),
    [
        pytest.param((), "No path is the object itself.", id="none"),
        pytest.param(("status", "atProvider", "id"), "A string deep down.", id="deep"),
        pytest.param(("status", "atProvider"), "An object on the way, read as one.", id="object"),
        pytest.param(("status", "atProvider", "tags"), "A list at the end.", id="list"),
        pytest.param(("status", "atProvider", "none"), "A null at the end is None.", id="null"),
        pytest.param(("status", "atProvider", "zero"), "A zero is no missing value.", id="zero"),
        pytest.param(("status", "missing", "id"), "A missing step ends the walk.", id="missing"),
        pytest.param(("status", "atProvider", "id", "more"), "A string has no keys.",
                     id="through-string"),
        pytest.param(("list", "a"), "A list has no keys either.", id="through-list"),
        pytest.param(("status", "atProvider", "none", "x"), "Nor has a null.", id="through-null"),
    ],
)  # fmt: skip
def test_dig_reads_a_view_as_it_reads_a_dict(path: tuple[str, ...], why: str) -> None:
    """Walking a view in place finds what walking the plain dict finds, of the same types."""
    found = plain(dig(StructView(_updated(DIG_BODY)), *path))
    expected = dig(to_dict(_updated(DIG_BODY)), *path)
    assert found == expected, why
    assert type(found) is type(expected), why


def test_dig_steps_from_a_dict_into_views() -> None:
    """A dict holding views is walked key by key, through the views too."""
    holder = {"resource": StructView(_updated(DIG_BODY))}
    assert dig(holder, "resource", "status", "atProvider", "id") == "abc"
    assert dig(holder, "resource", "text", "more") is None
    assert dig("text", "any") is None


def test_plain_gives_plain_values_of_every_view() -> None:
    """Views of each kind turn into dicts and lists throughout (the memo marshals them)."""
    assert StructView in VIEWS
    found = plain(StructView(_updated({"a": {"b": [{"c": "d"}]}})))
    assert found == {"a": {"b": [{"c": "d"}]}}
    assert type(found) is dict
    assert type(found["a"]) is dict
    assert type(found["a"]["b"][0]) is dict
