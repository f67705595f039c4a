"""Fingerprints: what tells one observed object's content from another's."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from google.protobuf import struct_pb2

from function.serving.fingerprints import DIGEST_BYTES, fingerprint

STAMPED: dict[str, Any] = {
    "apiVersion": "apigatewayv2.aws.upbound.io/v1beta1",
    "kind": "API",
    "metadata": {"name": "env", "namespace": "team", "uid": "uid-1", "resourceVersion": "7"},
    "spec": {"forProvider": {"name": "env"}},
}
# Enough keys that protobuf's own map order follows the order they were set in.
WIDE = {f"key{number}": number for number in range(48)}


def _struct(body: dict[str, Any]) -> struct_pb2.Struct:
    found = struct_pb2.Struct()
    found.update(body)
    return found


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """STAMPED with ``path`` set to ``value``, or removed when ``value`` is None."""
    body = copy.deepcopy(STAMPED)
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (
            ("apiVersion",),
            "apigatewayv2.aws.upbound.io/v1beta2",
            "Another version is other content.",
        ),
        (("kind",), "Stage", "Another kind is another object."),
        (("metadata", "namespace"), "other", "Another namespace is another object."),
        (("metadata", "name"), "renamed", "Another name is another object."),
        (("metadata", "uid"), "uid-2", "Another uid is another object."),
        (("metadata", "resourceVersion"), "8", "Another resourceVersion is a write since."),
    ],
)
def test_every_stamp_tells_objects_apart(path: tuple[str, ...], value: str, why: str) -> None:
    """Each of the stamps a fingerprint is made of changes it."""
    assert fingerprint(_struct(_with(path, value))) != fingerprint(_struct(STAMPED)), why


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (STAMPED, "A stamped object: a digest of its stamps."),
        (_with(("metadata", "namespace"), None), "A cluster-scoped object has no namespace."),
        (_with(("kind",), None), "An object without a kind still gets a fingerprint."),
        (_with(("metadata", "uid"), None), "No uid: the digest of the whole object."),
    ],
)
def test_a_fingerprint_is_a_fixed_size_digest(body: dict[str, Any], why: str) -> None:
    """Every fingerprint is DIGEST_BYTES long: the memo counts it at that size."""
    assert len(fingerprint(_struct(body))) == DIGEST_BYTES, why


def test_stamps_stand_for_the_content() -> None:
    """Under the same stamps, other content is the same object: the API server vouches for it."""
    other = _with(("spec", "forProvider", "name"), "other")
    assert fingerprint(_struct(other)) == fingerprint(_struct(STAMPED))


def test_an_unstamped_object_is_digested_whatever_its_key_order() -> None:
    """Without stamps the content is digested, the same whatever order its maps were built in."""
    body = _with(("metadata", "uid"), None)
    body["spec"]["forProvider"] = WIDE
    reordered = copy.deepcopy(body)
    reordered["spec"]["forProvider"] = dict(reversed(WIDE.items()))
    assert fingerprint(_struct(reordered)) == fingerprint(_struct(body))
    changed = copy.deepcopy(body)
    changed["spec"]["forProvider"]["key0"] = -1
    assert fingerprint(_struct(changed)) != fingerprint(_struct(body))
