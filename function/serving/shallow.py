"""Requests read shallowly: what the memo checks, without parsing the whole request.

A real-sized request is mostly what the function never reads (managedFields, the
provider's echo of what it was sent, conditions), and parsing all of it into protobuf
objects takes longer than the memo's whole check: about 0.8 ms for the 130 KiB seed
request, against about 0.08 ms for this module's parse (in process, on this project's
machines). So the memo reads a request through message types
of its own, which share RunFunctionRequest's wire format but stop early:

- the XR, the input, desired state and context stay bytes, parsed by whoever reads them;
- each observed object is parsed two levels deep: its top-level fields, and the fields of
  each top-level object (``metadata``, ``spec``, ``status``), whose strings are read.

Protobuf keeps the fields a message type does not name as bytes (unknown fields) and writes
them back when it serializes, so a shallow resource read again as a ``Resource`` is the
resource the request holds (``whole``). Only the strings read here (the tag, names and
string values) are checked as UTF-8; the full parse of a composed call checks the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from google.protobuf import struct_pb2

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


class Inner(Protocol):
    """A Struct one level down (``metadata``): its values are Leaves."""

    fields: Mapping[str, Leaf]


class Field(Protocol):
    """A Value at an object's top level: its string, or its fields if it is an object."""

    string_value: str
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
# A serialized RunFunctionRequest, read shallowly; DecodeError if it is none.
parse: Callable[[bytes], Request] = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName("function.shallow.Request")
).FromString
# What a missing top-level field reads as: no string, no fields.
NO_FIELD: Field = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName("function.shallow.Field")
)()


def whole(resource: Resource) -> struct_pb2.Struct:
    """The object of a shallow resource, parsed whole: what the request holds."""
    return fnv1.Resource.FromString(resource.SerializeToString()).resource


def composite(req: Request) -> struct_pb2.Struct:
    """The observed XR, parsed whole."""
    return fnv1.Resource.FromString(req.observed.composite).resource
