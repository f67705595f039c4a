"""Fingerprints: what tells one observed object's content from another's."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.serving import shallow
from function.serving.fingerprints import DIGEST_BYTES, digests

STAMPED: dict[str, Any] = {
    "apiVersion": "apigatewayv2.aws.upbound.io/v1beta1",
    "kind": "API",
    "metadata": {"name": "env", "namespace": "team", "uid": "uid-1", "resourceVersion": "7"},
    "spec": {"forProvider": {"name": "env"}},
}
# Enough keys that protobuf's own map order follows the order they were set in.
WIDE = {f"key{number}": number for number in range(48)}


def _fingerprint(body: dict[str, Any]) -> bytes:
    """The fingerprint of ``body`` observed in a request, read as the memo reads it."""
    req = fnv1.RunFunctionRequest()
    req.observed.resources["api"].resource.update(body)
    return digests(shallow.parse(req.SerializeToString()))["api"]


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
        (("metadata", "uid"), "uid-2", "Another uid is another object."),
        (("metadata", "resourceVersion"), "8", "Another resourceVersion is a write since."),
    ],
)
def test_every_stamp_tells_objects_apart(path: tuple[str, ...], value: str, why: str) -> None:
    """Each of the stamps a fingerprint is made of changes it."""
    assert _fingerprint(_with(path, value)) != _fingerprint(STAMPED), why


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (("spec", "forProvider", "name"), "other", "A write since would have changed the version."),
        (("kind",), "Stage", "An object's kind never changes under its uid."),
        (("metadata", "namespace"), "other", "An object's namespace never changes under its uid."),
        (("metadata", "name"), "renamed", "An object's name never changes under its uid."),
    ],
)
def test_stamps_stand_for_the_content(path: tuple[str, ...], value: str, why: str) -> None:
    """Under the same stamps, other content is the same object: the API server vouches for it."""
    assert _fingerprint(_with(path, value)) == _fingerprint(STAMPED), why


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (_with(("metadata", "uid"), None), "No uid."),
        (_with(("metadata", "resourceVersion"), None), "No resourceVersion."),
        (_with(("metadata", "uid"), ""), "An empty uid is none."),
        (_with(("metadata", "resourceVersion"), 7), "A resourceVersion that is no string."),
        (_with(("metadata",), None), "No metadata at all."),
    ],
)
def test_an_object_without_both_stamps_is_digested(body: dict[str, Any], why: str) -> None:
    """Without a uid and a resourceVersion, the whole object is digested: any change tells."""
    found = _fingerprint(body)
    assert len(found) == DIGEST_BYTES, why
    changed = copy.deepcopy(body)
    changed["spec"]["forProvider"]["name"] = "other"
    assert _fingerprint(changed) != found, why


def test_a_cluster_scoped_object_without_an_api_version_is_stamped() -> None:
    """Stamps need no namespace or apiVersion: the uid and version carry the object."""
    body = _with(("metadata", "namespace"), None)
    del body["apiVersion"]
    changed = copy.deepcopy(body)
    changed["metadata"]["resourceVersion"] = "8"
    assert _fingerprint(body) != _fingerprint(changed)
    edited = copy.deepcopy(body)
    edited["spec"]["forProvider"]["name"] = "other"
    assert _fingerprint(body) == _fingerprint(edited)


def test_an_unstamped_object_is_digested_whatever_its_key_order() -> None:
    """Without stamps the content is digested, the same whatever order its maps were built in."""
    body = _with(("metadata", "uid"), None)
    body["spec"]["forProvider"] = WIDE
    reordered = copy.deepcopy(body)
    reordered["spec"]["forProvider"] = dict(reversed(WIDE.items()))
    assert _fingerprint(reordered) == _fingerprint(body)
    changed = copy.deepcopy(body)
    changed["spec"]["forProvider"]["key0"] = -1
    assert _fingerprint(changed) != _fingerprint(body)
