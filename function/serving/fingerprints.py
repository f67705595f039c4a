"""What tells one request from another: the XR's identity, input digests and fingerprints.

A fingerprint tells one observed object's content from another's. It is the object's
apiVersion, uid and resourceVersion when it has a uid and a resourceVersion: the API
server changes the resourceVersion on every write of an object, and an object's kind,
namespace and name never change under its uid, so an unchanged triple is unchanged
content (the apiVersion is in it because one object read at another version has another
shape). Reading the three is a few map lookups; nothing is serialized or digested to
know it. A request that keeps them while changing the object breaks that contract; it
gets the earlier answer. An object without them (a forged or hand-written request) gets
a blake2b digest of its serialization, which any change alters.

The XR's own uid and resourceVersion are not trusted so: ``crossplane composition
render`` gives every XR a uid derived from its kind, namespace and name, and the
resourceVersion "999", whatever its spec (internal/render/composite/render.go), so two
renders of one XR with different specs carry the same pair. Its spec is digested.

All of it is read from the request read shallowly (``shallow``): a recall parses whole only
the XR, each changed resource, and the observed state when an object has no stamps.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2

from function import feedback
from function.model import convert
from function.model.convert import dig
from function.model.observed import text
from function.serving import shallow

if TYPE_CHECKING:
    from collections.abc import Mapping

DIGEST_BYTES = 16

Identity = tuple[str, ...]


def identity(xr: struct_pb2.Struct) -> Identity | None:
    """Which XR ``xr`` is; None if it names none (no answer is kept for it then)."""
    view = convert.StructView(xr)
    name = text(dig(view, "metadata", "name"))
    if name is None:
        return None
    api_version, kind = text(view.get("apiVersion")), text(view.get("kind"))
    return (api_version or "", kind or "", text(dig(view, "metadata", "namespace")) or "", name)


def _digest(*parts: bytes) -> bytes:
    """One digest of several byte strings, each length-prefixed so that none runs into the next."""
    found = hashlib.blake2b(digest_size=DIGEST_BYTES)
    for part in parts:
        found.update(len(part).to_bytes(8, "little"))
        found.update(part)
    return found.digest()


def _xr_inputs(xr: struct_pb2.Struct) -> bytes:
    """What the answer is made from of the XR besides its name and namespace (its identity)."""
    spec = xr.fields.get("spec")
    # The condition the XR carries decides whether the answer adds an event (``feedback``).
    told = feedback.previous(convert.StructView(xr))
    return _digest(
        b"" if spec is None else spec.SerializeToString(deterministic=True),
        repr(told).encode(),
    )


def inputs(req: shallow.Request, xr: struct_pb2.Struct) -> tuple[bytes, bytes]:
    """What the answer to ``req`` (whose XR is ``xr``) is made from besides observed resources.

    Of the XR, and the rest.
    """
    return _xr_inputs(xr), _call_inputs(req)


def _call_inputs(req: shallow.Request) -> bytes:
    """What the answer is made from besides the XR: the input and earlier functions' state."""
    # Each is parsed and written again deterministically: the client's bytes may order the
    # same maps otherwise on every call. No input and an empty one are one input to compose.
    return _digest(
        struct_pb2.Struct.FromString(req.input).SerializeToString(deterministic=True),
        fnv1.State.FromString(req.desired).SerializeToString(deterministic=True),
        struct_pb2.Struct.FromString(req.context).SerializeToString(deterministic=True),
    )


def _stamps(resource: shallow.Object) -> bytes | None:
    """The object's apiVersion, uid and resourceVersion; None without a uid and a version."""
    # Called for every observed resource on every call: as few map lookups as it takes.
    fields = resource.fields
    metadata = fields.get("metadata")
    if metadata is None:
        return None
    meta = metadata.struct_value.fields
    uid, version = meta.get("uid"), meta.get("resourceVersion")
    if uid is None or version is None:
        return None
    # A value's string_value is '' unless it holds a non-empty string.
    uid_text, version_text = uid.string_value, version.string_value
    if not uid_text or not version_text:
        return None
    api_version = fields.get("apiVersion", shallow.NO_FIELD).string_value
    # No part holds a NUL (a Kubernetes name or version cannot): the joins tell them apart.
    return f"{api_version}\0{uid_text}\0{version_text}".encode()


def digests(req: shallow.Request) -> dict[str, bytes]:
    """A fingerprint of each observed resource: which ones changed since, without keeping them."""
    found: dict[str, bytes] = {}
    unstamped: list[str] = []
    for name, resource in req.observed.resources.items():
        stamps = _stamps(resource.resource)
        if stamps is None:
            unstamped.append(name)
        else:
            found[name] = stamps
    if unstamped:
        # Parsed whole at once: one parse of the observed state costs less than one for each.
        whole = fnv1.State.FromString(req.observed.SerializeToString()).resources
        for name in unstamped:
            data = whole[name].resource.SerializeToString(deterministic=True)
            found[name] = hashlib.blake2b(data, digest_size=DIGEST_BYTES).digest()
    return found


def changes(before: Mapping[str, bytes], now: Mapping[str, bytes]) -> set[str]:
    """The names whose fingerprints differ, or that only one side has."""
    # Most calls change nothing: one comparison in C says so.
    if before == now:
        return set()
    return {name for name in before.keys() | now.keys() if before.get(name) != now.get(name)}
