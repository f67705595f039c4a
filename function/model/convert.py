"""protobuf Struct -> plain Python values, converting only what is read.

The SDK's helpers go through ``json_format``, which dominated the function's
profile (about 80% of a call). Converting every observed resource directly was
still over half of a call, although the builders read a few dozen values of it.
``StructView`` reads a Struct in place and converts only the values asked for (a
``View``, as are other readers of objects still in protobuf's form); ``plain`` turns what
a caller keeps into ordinary dicts and lists. Numbers come
back as floats, as Struct stores doubles.

The other way, ``fill`` sets a manifest's values in a Struct as ``Struct.update``
does, with a third less time: update checks every value's type with a chain of
isinstance calls, and filling Structs was a quarter of composing.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.protobuf import struct_pb2


# Objects as this module hands them out, the concrete types first: an isinstance check
# against the Mapping ABC costs several times more, and most objects are views or dicts.
OBJECTS = (dict, Mapping)
# Each kind of View: ``type(value) in VIEWS`` is one set lookup, where isinstance against
# View (an abstract class) runs Python code for every value that is not one.
VIEWS: set[type[View]] = set()


def read(value: struct_pb2.Value) -> Any:  # noqa: ANN401
    """A Value as a plain Python value, but an object as a ``StructView`` of it."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return StructView(value.struct_value)
    if kind == "list_value":
        return [read(item) for item in value.list_value.values]
    if kind == "null_value" or kind is None:
        return None
    return getattr(value, kind)


class View(Mapping[str, Any]):
    """A read-only Mapping over an object in protobuf's form; nested objects are views too."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:  # noqa: ANN401
        """Note each kind of View in ``VIEWS``."""
        super().__init_subclass__(**kwargs)
        VIEWS.add(cls)

    @abstractmethod
    def find(self, *path: str) -> Any:  # noqa: ANN401
        """The converted value at ``path`` through nested objects; None at a missing step.

        What walking with ``get`` gives, without a view for each object on the way: reading
        observed state is mostly such walks, four or five objects deep.
        """

    @abstractmethod
    def whole(self) -> struct_pb2.Struct:
        """The object as a Struct."""


class StructView(View):
    """A View of a Struct."""

    __slots__ = ("_struct",)

    def __init__(self, struct: struct_pb2.Struct) -> None:
        """Wrap ``struct`` without copying it."""
        self._struct = struct

    def __getitem__(self, key: str) -> Any:  # noqa: ANN401
        """The converted value at ``key``; KeyError if absent (the Struct is never changed)."""
        value = self._struct.fields.get(key)
        if value is None:
            raise KeyError(key)
        return read(value)

    def get(self, key: str, default: Any = None) -> Any:  # noqa: ANN401
        """The converted value at ``key``, or ``default``; one map lookup, not two."""
        value = self._struct.fields.get(key)
        return default if value is None else read(value)

    def find(self, *path: str) -> Any:  # noqa: ANN401
        """As ``View.find``, reading the Struct in place."""
        struct, value = self._struct, None
        for key in path:
            if value is not None:
                if value.WhichOneof("kind") != "struct_value":
                    return None
                struct = value.struct_value
            value = struct.fields.get(key)
            if value is None:
                return None
        return self if value is None else read(value)

    def whole(self) -> struct_pb2.Struct:
        """The Struct viewed."""
        return self._struct

    def __contains__(self, key: object) -> bool:
        """Whether the Struct has ``key``."""
        return key in self._struct.fields

    def __iter__(self) -> Iterator[str]:
        """The Struct's keys."""
        return iter(self._struct.fields)

    def __len__(self) -> int:
        """The number of keys."""
        return len(self._struct.fields)


def dig(obj: Any, *path: str) -> Any:  # noqa: ANN401
    """Walk nested dicts, returning None at the first missing or non-dict step."""
    if type(obj) in VIEWS:
        return obj.find(*path)
    for key in path:
        if not isinstance(obj, (StructView, *OBJECTS)):
            return None
        obj = obj.get(key)
    return obj


def to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A plain dict of a Struct (reading never inserts keys, unlike indexing the Struct)."""
    return {key: plain(read(value)) for key, value in struct.fields.items()}


def plain(value: Any) -> Any:  # noqa: ANN401
    """``value`` with every view in it converted; plain values come back as they are."""
    if type(value) in VIEWS:
        return to_dict(value.whole())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def fill(struct: struct_pb2.Struct, manifest: Mapping[str, Any]) -> None:
    """Set ``manifest``'s values in ``struct``, as ``struct.update(manifest)`` does, faster.

    The same values of the same types, nested objects and lists replaced, not merged;
    exact types are dispatched first and subclasses (an enum of strings) as update does.
    """
    fields = struct.fields
    for key, value in manifest.items():
        _set(fields[key], value)


def _set(target: struct_pb2.Value, value: Any) -> None:  # noqa: ANN401
    kind = type(value)
    if kind is str:
        target.string_value = value
    elif kind is dict:
        # Clear marks the nested Struct present even when the dict is empty.
        target.struct_value.Clear()
        fill(target.struct_value, value)
    elif value is None:
        target.null_value = 0
    elif kind is bool:
        target.bool_value = value
    elif kind is float or kind is int:
        target.number_value = value
    elif kind is list or kind is tuple:
        target.list_value.Clear()
        add = target.list_value.values.add
        for item in value:
            _set(add(), item)
    else:
        _set_subclassed(target, value)


def _set_subclassed(target: struct_pb2.Value, value: Any) -> None:  # noqa: ANN401
    """``_set`` for instances of subclasses (bool has none), in ``Struct.update``'s order."""
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, (int, float)):
        target.number_value = value
    elif isinstance(value, dict):
        _set(target, dict(value))
    elif isinstance(value, (list, tuple)):
        _set(target, list(value))
    else:
        msg = f"a Struct holds no {type(value).__name__}"
        raise TypeError(msg)
