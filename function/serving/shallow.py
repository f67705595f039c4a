"""Requests read shallowly: what the memo checks, without parsing the whole request.

A real-sized request is mostly what the function never reads (managedFields, the
provider's echo of what it was sent, conditions), and parsing all of it into protobuf
objects takes longer than the memo's whole check: about 0.8 ms for the 130 KiB seed
request, against about 0.08 ms for this module's parse (in process, on this project's
machines). So the memo reads a request through message types
of its own, which share RunFunctionRequest's wire format but stop early:

- the XR, the input, desired state and context stay bytes, parsed by whoever reads them
  (``request``);
- each observed object is parsed two levels deep: its top-level fields, and the fields of
  each top-level object (``metadata``, ``spec``, ``status``), whose strings are read.

Protobuf keeps the fields a message type does not name as bytes (unknown fields) and writes
them back when it serializes, so a shallow value read again as a ``Value`` is the value the
request holds. Composing, after a miss or with the memo off, reads the observed resources
through ``Lazy`` views, which parse whole only the values read. So strings nobody reads are
never checked for valid UTF-8; Crossplane's Go runtime refuses to send invalid ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    struct_pb2,
    text_format,
)

from function.model.convert import VIEWS, View, read

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# RunFunctionRequest and what it holds, down to google.protobuf.Struct and Value, in protobuf's
# text format: the same field numbers, with what the memo does not read left out (protobuf
# keeps it as unknown fields) or kept as bytes. A Value's fields are one of, as in
# google.protobuf.Value, so that an empty string is still there when written back (a plain
# proto3 string would drop it).
_PROTO = """
name: "function/shallow.proto" package: "function.shallow" syntax: "proto3"
message_type {
  name: "Request"
  field { name: "meta" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".function.shallow.Meta" }
  field { name: "observed" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".function.shallow.State" }
  field { name: "desired" number: 3 label: LABEL_OPTIONAL type: TYPE_BYTES }
  field { name: "input" number: 4 label: LABEL_OPTIONAL type: TYPE_BYTES }
  field { name: "context" number: 5 label: LABEL_OPTIONAL type: TYPE_BYTES }
}
message_type {
  name: "Meta"
  field { name: "tag" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
}
message_type {
  name: "State"
  field { name: "composite" number: 1 label: LABEL_OPTIONAL type: TYPE_BYTES }
  field { name: "resources" number: 2 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".function.shallow.State.ResourcesEntry" }
  nested_type {
    name: "ResourcesEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
            type_name: ".function.shallow.Resource" }
  }
}
message_type {
  name: "Resource"
  field { name: "resource" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".function.shallow.Object" }
}
message_type {
  name: "Object"
  field { name: "fields" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".function.shallow.Object.FieldsEntry" }
  nested_type {
    name: "FieldsEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
            type_name: ".function.shallow.Field" }
  }
}
message_type {
  name: "Field"
  oneof_decl { name: "kind" }
  field { name: "string_value" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING
          oneof_index: 0 }
  field { name: "struct_value" number: 5 label: LABEL_OPTIONAL type: TYPE_MESSAGE
          type_name: ".function.shallow.Inner" oneof_index: 0 }
}
message_type {
  name: "Inner"
  field { name: "fields" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE
          type_name: ".function.shallow.Inner.FieldsEntry" }
  nested_type {
    name: "FieldsEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
            type_name: ".function.shallow.Leaf" }
  }
}
message_type {
  name: "Leaf"
  oneof_decl { name: "kind" }
  field { name: "string_value" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING
          oneof_index: 0 }
}
"""


class Leaf(Protocol):
    """A Value two levels down: only its string is read."""

    string_value: str

    def WhichOneof(self, oneof: str) -> str | None:
        """Which of the Value's kinds this type names is set: its string, or none."""
        ...  # pragma: no cover

    def SerializeToString(self) -> bytes:
        """The Value's wire bytes, unknown fields included."""
        ...  # pragma: no cover


class Inner(Protocol):
    """A Struct one level down (``metadata``): its values are Leaves."""

    fields: Mapping[str, Leaf]


class Field(Leaf, Protocol):
    """A Value at an object's top level: its string, or its fields if it is an object."""

    struct_value: Inner


class Object(Protocol):
    """A Kubernetes object as a Struct, read two levels deep."""

    fields: Mapping[str, Field]


class Resource(Protocol):
    """An observed resource: its object, the rest kept as bytes."""

    resource: Object

    def SerializeToString(self) -> bytes:
        """The resource's wire bytes, unknown fields included."""
        ...  # pragma: no cover


class State(Protocol):
    """Observed state: the XR as bytes, the composed resources shallowly."""

    composite: bytes
    resources: Mapping[str, Resource]

    def SerializeToString(self) -> bytes:
        """The state's wire bytes, unknown fields included."""
        ...  # pragma: no cover


class Meta(Protocol):
    """The request's meta: its tag."""

    tag: str


class Request(Protocol):
    """A RunFunctionRequest read shallowly; the input, desired state and context as bytes."""

    meta: Meta
    observed: State
    desired: bytes
    input: bytes
    context: bytes


# A pool of its own: these names never meet the generated types in the default pool.
_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(text_format.Parse(_PROTO, descriptor_pb2.FileDescriptorProto()))


# The class of each message type, held for the life of the process: protobuf makes a
# submessage's class when one is first read and keeps it only while something else does,
# so each call made them anew after the collector freed the last ones (cycles of classes
# and descriptors, the only ones a call left behind). Map entries need no class of theirs.
_CLASSES = tuple(
    message_factory.GetMessageClass(found)
    for found in _POOL.FindFileByName("function/shallow.proto").message_types_by_name.values()
)
# A serialized RunFunctionRequest, read shallowly; DecodeError if it is none.
parse: Callable[[bytes], Request] = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName("function.shallow.Request")
).FromString
# What a missing top-level field reads as: no string, no fields.
NO_FIELD: Field = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName("function.shallow.Field")
)()


def value(leaf: Leaf) -> struct_pb2.Value:
    """A shallow Value parsed whole.

    A shallow Value has the field numbers of a Value and keeps what it does not name as
    unknown fields: written back, it is the Value the request holds.
    """
    return struct_pb2.Value.FromString(leaf.SerializeToString())


class Lazy(View):
    """A View of a shallow object, which parses only the values read.

    Composing reads little of an observed object besides its conditions, but the objects are
    large (``metadata.managedFields`` alone is about two thirds of the seed request): parsing
    the request whole was a quarter of the instructions of composing it. Strings, and the
    objects at the top level, are read as the shallow parse found them; any other value is
    parsed whole when first read, once per object: a top-level object is viewed anew each
    time it is read, but its views share what they parsed (composing reads ``forProvider``
    of most resources several times). That keeps more objects alive during a call, which
    would make Python's collector run inside it, but for the server's threshold (``server``).
    """

    __slots__ = ("_fields", "_inner", "_parsed")

    def __init__(
        self, fields: Mapping[str, Leaf], parsed: dict[str, struct_pb2.Value] | None = None
    ) -> None:
        """A view of ``fields``; ``parsed`` holds its values parsed so far, shared."""
        self._fields = fields
        # Made at the first parse: most views never parse a value.
        self._parsed = parsed
        # What the views of each top-level object parsed, by its key.
        self._inner: dict[str, dict[str, struct_pb2.Value]] | None = None

    def get(self, key: str, default: Any = None) -> Any:  # noqa: ANN401
        """The converted value at ``key``, or ``default``."""
        parsed = self._parsed
        if parsed is not None and key in parsed:
            return read(parsed[key])
        leaf = self._fields.get(key)
        if leaf is None:
            return default
        kind = leaf.WhichOneof("kind")
        if kind == "string_value":
            return leaf.string_value
        if kind == "struct_value":
            # Only a Field names struct_value: its fields are Leaves, viewed as lazily.
            inner = self._inner
            if inner is None:
                inner = self._inner = {}
            shared = inner.get(key)
            if shared is None:
                shared = inner[key] = {}
            return Lazy(leaf.struct_value.fields, shared)  # type: ignore[attr-defined]
        if parsed is None:
            parsed = self._parsed = {}
        found = parsed[key] = value(leaf)
        return read(found)

    def __getitem__(self, key: str) -> Any:  # noqa: ANN401
        """The converted value at ``key``; KeyError if absent."""
        if key not in self._fields:
            raise KeyError(key)
        return self.get(key)

    def find(self, *path: str) -> Any:  # noqa: ANN401
        """As ``View.find``, parsing only the values on ``path``."""
        if not path:
            return self
        found = self.get(path[0])
        if len(path) == 1:
            return found
        return found.find(*path[1:]) if type(found) in VIEWS else None

    def whole(self) -> struct_pb2.Struct:
        """The object parsed whole: what the request holds."""
        found = struct_pb2.Struct()
        for key, leaf in self._fields.items():
            found.fields[key].MergeFromString(leaf.SerializeToString())
        return found

    def __contains__(self, key: object) -> bool:
        """Whether the object has ``key``."""
        return key in self._fields

    def __iter__(self) -> Iterator[str]:
        """The object's keys."""
        return iter(self._fields)

    def __len__(self) -> int:
        """The number of keys."""
        return len(self._fields)


def view(resource: Resource) -> Lazy:
    """A Lazy view of a shallow resource's object."""
    return Lazy(resource.resource.fields)


def composite(req: Request) -> struct_pb2.Struct:
    """The observed XR, parsed whole."""
    return fnv1.Resource.FromString(req.observed.composite).resource


def request(req: Request) -> fnv1.RunFunctionRequest:
    """``req`` parsed whole but for its observed resources, which ``Views`` reads."""
    found = fnv1.RunFunctionRequest(
        desired=fnv1.State.FromString(req.desired),
        input=struct_pb2.Struct.FromString(req.input),
        context=struct_pb2.Struct.FromString(req.context),
    )
    found.meta.tag = req.meta.tag
    found.observed.composite.MergeFromString(req.observed.composite)
    return found


class Views(Mapping[str, Lazy]):
    """The observed resources of a shallow request, each viewed (``view``) when first read.

    Composing after a miss reads only the resources whose answers the memo does not know.
    """

    def __init__(self, resources: Mapping[str, Resource]) -> None:
        """Views of ``resources``, none parsed yet."""
        self._resources = resources
        self._views: dict[str, Lazy] = {}

    def __getitem__(self, key: str) -> Lazy:
        """The view of the resource under ``key``, made the first time."""
        found = self._views.get(key)
        if found is None:
            # Indexing a protobuf map with a missing key would add it: ask first.
            if key not in self._resources:
                raise KeyError(key)
            found = self._views[key] = view(self._resources[key])
        return found

    def __contains__(self, key: object) -> bool:
        """Whether a resource is observed under ``key``, without parsing it."""
        return key in self._resources

    def __iter__(self) -> Iterator[str]:
        """The names of the observed resources."""
        return iter(self._resources)

    def __len__(self) -> int:
        """How many resources are observed."""
        return len(self._resources)
