"""shallow: a request read two levels deep still holds all that the request holds."""

from __future__ import annotations

from typing import Any

import pytest
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from function.model.convert import StructView, dig, plain, read, to_dict
from function.serving import shallow

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
# Objects as Kubernetes writes them: top-level fields, some of them objects of their own.
OBJECTS = st.dictionaries(
    st.sampled_from(["apiVersion", "kind", "metadata", "spec", "status", ""]),
    st.one_of(VALUES, st.dictionaries(st.text(max_size=6), VALUES, max_size=4)),
    max_size=5,
)


def _struct(body: dict[str, Any]) -> struct_pb2.Struct:
    found = struct_pb2.Struct()
    found.update(body)
    return found


@settings(max_examples=150, deadline=None)
@given(
    tag=st.text(max_size=8),
    xr=OBJECTS,
    observed=st.dictionaries(st.text(min_size=1, max_size=6), OBJECTS, max_size=3),
    extra=st.dictionaries(st.text(max_size=6), VALUES, max_size=3),
    ready=st.sampled_from(list(fnv1.Ready.values())),
)
def test_a_shallow_request_holds_the_whole_request(
    tag: str,
    xr: dict[str, Any],
    observed: dict[str, dict[str, Any]],
    extra: dict[str, Any],
    ready: int,
) -> None:
    """Every part the memo reads, read again whole, is the part the request holds."""
    req = fnv1.RunFunctionRequest()
    req.meta.tag = tag
    req.observed.composite.resource.update(xr)
    for name, body in observed.items():
        resource = req.observed.resources[name]
        resource.resource.update(body)
        resource.ready = ready  # type: ignore[assignment]
        resource.connection_details["secret"] = name.encode()
    req.desired.composite.resource.update(extra)
    req.input.update(extra)
    req.context.update(extra)
    found = shallow.parse(req.SerializeToString())
    assert found.meta.tag == tag
    assert shallow.composite(found) == req.observed.composite.resource
    assert set(found.observed.resources) == set(observed)
    for name, resource in found.observed.resources.items():
        assert shallow.view(resource).whole() == req.observed.resources[name].resource, name
        whole = fnv1.Resource.FromString(resource.SerializeToString())
        assert whole == req.observed.resources[name], "ready and connection details are kept"
    assert fnv1.State.FromString(found.desired) == req.desired
    assert struct_pb2.Struct.FromString(found.input) == req.input
    assert struct_pb2.Struct.FromString(found.context) == req.context
    rest = shallow.request(found)
    assert rest.meta.tag == tag
    assert rest.observed.composite == req.observed.composite
    assert not rest.observed.resources, "Views reads the observed resources"
    assert (rest.desired, rest.input, rest.context) == (req.desired, req.input, req.context)
    views = shallow.Views(found.observed.resources)
    assert {name: plain(view) for name, view in views.items()} == {
        name: to_dict(resource.resource) for name, resource in req.observed.resources.items()
    }


@pytest.mark.parametrize(
    ("value", "expected", "why"),
    [
        ("uid-1", "uid-1", "A string is read."),
        ("", "", "An empty string reads as none."),
        (7, "", "A number is no string."),
        (True, "", "Nor is a bool."),
        (None, "", "Nor is null."),
        (["uid-1"], "", "Nor is a list holding one."),
        ({"uid": "uid-1"}, "", "Nor is an object holding one."),
    ],
)
def test_strings_are_read_at_both_levels(value: Any, expected: str, why: str) -> None:
    """A top-level field and a field of a top-level object give their strings, and only those.

    Each is written back as it was, an empty string included (a Value holding one is not
    a Value holding nothing).
    """
    req = fnv1.RunFunctionRequest()
    req.observed.resources["api"].resource.update({"kind": value, "metadata": {"uid": value}})
    resource = shallow.parse(req.SerializeToString()).observed.resources["api"]
    fields = resource.resource.fields
    assert fields["kind"].string_value == expected, why
    assert fields["metadata"].struct_value.fields["uid"].string_value == expected, why
    assert shallow.view(resource).whole() == req.observed.resources["api"].resource, why
    lazy = shallow.view(resource)
    assert (lazy["kind"], lazy["metadata"]["uid"]) == (value, value), why


def test_a_missing_field_reads_as_no_string_and_no_fields() -> None:
    """What ``NO_FIELD`` stands for: a field that is not there."""
    assert shallow.NO_FIELD.string_value == ""
    assert not shallow.NO_FIELD.struct_value.fields


def test_an_empty_request_reads_as_empty() -> None:
    """Zero bytes are an empty request: no tag, no XR, no resources, empty parts."""
    found = shallow.parse(b"")
    assert found.meta.tag == ""
    assert shallow.composite(found) == struct_pb2.Struct()
    assert not found.observed.resources
    assert (found.desired, found.input, found.context) == (b"", b"", b"")


# Two resources as the request holds them: strings, objects and values of other kinds at the
# top level and one level down.
BODIES = {
    name: {
        "kind": name,
        "metadata": {"uid": name, "labels": {"app": name}},
        "spec": {"forProvider": {"port": 80, "zones": ["a"]}},
        "status": [name],
    }
    for name in ("api", "stage")
}


def _views(monkeypatch: pytest.MonkeyPatch) -> tuple[shallow.Views, list[Any]]:
    """Views of two observed resources, and each value parsed whole so far."""
    req = fnv1.RunFunctionRequest()
    for name, body in BODIES.items():
        req.observed.resources[name].resource.update(body)
    parsed: list[Any] = []
    real = shallow.value

    def value(leaf: shallow.Leaf) -> struct_pb2.Value:
        found = real(leaf)
        parsed.append(plain(read(found)))
        return found

    monkeypatch.setattr(shallow, "value", value)
    return shallow.Views(shallow.parse(req.SerializeToString()).observed.resources), parsed


@pytest.mark.parametrize(
    ("read_", "expected", "parsed", "why"),
    [
        pytest.param(lambda v: "api" in v, True, [], "Whether a resource is there needs no parse.",
                     id="in"),
        pytest.param(lambda v: "lb" in v, False, [], "Nor whether one is not.", id="not-in"),
        pytest.param(sorted, ["api", "stage"], [], "Nor its names.", id="names"),
        pytest.param(len, 2, [], "Nor how many there are.", id="len"),
        pytest.param(lambda v: v.get("lb"), None, [], "A missing one reads as none.", id="missing"),
        pytest.param(lambda v: sorted(v["api"]), sorted(BODIES["api"]), [],
                     "Nor an object's keys.", id="keys"),
        pytest.param(lambda v: v["api"]["kind"], "api", [],
                     "A top-level string is read as the shallow parse found it.", id="string"),
        pytest.param(lambda v: dig(v["api"], "metadata", "uid"), "api", [],
                     "So is a string one level down.", id="inner-string"),
        pytest.param(lambda v: v["api"]["status"], ["api"], [["api"]],
                     "A top-level value of another kind is parsed when read.", id="list"),
        pytest.param(lambda v: dig(v["api"], "spec", "forProvider", "port"), 80.0,
                     [{"port": 80.0, "zones": ["a"]}],
                     "A value deeper down parses the value one level down holding it, only that.",
                     id="deep"),
        pytest.param(lambda v: [(spec := v["api"]["spec"])["forProvider"], spec["forProvider"]],
                     [{"port": 80.0, "zones": ["a"]}] * 2, [{"port": 80.0, "zones": ["a"]}],
                     "A value read twice through one view is parsed once.", id="twice"),
        pytest.param(lambda v: [dig(v["api"], "spec", "forProvider", f) for f in ("port", "zones")],
                     [80.0, ["a"]], [{"port": 80.0, "zones": ["a"]}],
                     "A top-level object viewed anew shares what its earlier views parsed.",
                     id="anew"),
        pytest.param(lambda v: dig(v["api"], "kind", "more"), None, [],
                     "A string has no keys, and parses nothing.", id="through-string"),
        pytest.param(lambda v: dig(v["api"], "status", "more"), None, [["api"]],
                     "Nor has a list.", id="through-list"),
    ],
)  # fmt: skip
def test_views_parse_only_what_is_read(
    monkeypatch: pytest.MonkeyPatch, read_: Any, expected: Any, parsed: list[Any], why: str
) -> None:
    """Composing parses only the values it reads, each once."""
    views, seen = _views(monkeypatch)
    assert plain(read_(views)) == expected, why
    assert seen == parsed, why
    assert len(views) == 2, "reading a missing name adds none"


@settings(max_examples=150, deadline=None)
@given(body=OBJECTS, path=st.lists(st.sampled_from(["metadata", "spec", "status", "", "a"]),
                                   max_size=4))  # fmt: skip
def test_a_view_reads_what_the_object_holds(body: dict[str, Any], path: list[str]) -> None:
    """Through a Lazy view, every walk finds what it finds in the object parsed whole."""
    req = fnv1.RunFunctionRequest()
    req.observed.resources["api"].resource.update(body)
    whole = StructView(req.observed.resources["api"].resource)
    lazy = shallow.view(shallow.parse(req.SerializeToString()).observed.resources["api"])
    found, expected = plain(dig(lazy, *path)), plain(dig(whole, *path))
    assert found == expected
    assert type(found) is type(expected)
    assert plain(lazy) == to_dict(whole.whole())
    assert type(plain(lazy)) is dict
    assert (sorted(lazy), len(lazy)) == (sorted(whole), len(whole))
    for key in ("metadata", "spec", "status", "", "a"):
        assert (key in lazy) is (key in whole)
        assert plain(lazy.get(key, "default")) == plain(whole.get(key, "default"))
        if key not in whole:
            with pytest.raises(KeyError) as missing:
                lazy[key]
            assert missing.value.args == (key,)


def test_views_view_each_resource_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resource read again is the same view, so values it parsed are not parsed again."""
    views, seen = _views(monkeypatch)
    assert views["api"] is views["api"]
    assert (views["api"]["status"], views["api"]["status"]) == (["api"], ["api"])
    assert seen == [["api"]]
    assert views["stage"] is not views["api"]


def test_views_refuse_a_missing_name() -> None:
    """A name no resource has is a KeyError, as in any mapping."""
    views = shallow.Views(shallow.parse(b"").observed.resources)
    with pytest.raises(KeyError, match="api"):
        views["api"]
    assert len(views) == 0
