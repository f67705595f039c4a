"""The observed view: readiness, reading in place, and every question remembered."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import struct_pb2

from function.model.convert import StructView
from function.model.observed import Observed, text
from function.model.readiness import conditions, is_ready, sync_error


def _ready(kind: str = "API") -> dict[str, Any]:
    return {"kind": kind, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param(None, False, id="absent"),
        pytest.param({"kind": "API"}, False, id="no-status"),
        pytest.param({"kind": "API", "status": "broken"}, False, id="status-wrong-type"),
        pytest.param(
            {"kind": "API", "status": {"conditions": {}}}, False, id="conditions-not-list"
        ),
        pytest.param(_ready(), True, id="ready-true"),
        pytest.param(
            {"kind": "API", "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
            False,
            id="ready-false",
        ),
        pytest.param(
            {"kind": "API", "status": {"conditions": [{"type": "Synced", "status": "True"}]}},
            False,
            id="only-synced",
        ),
        pytest.param({"kind": "API", "status": {"conditions": ["x", 3]}}, False, id="junk"),
        # Unknown is what a provider reports while it does not know yet: not ready.
        pytest.param(
            {"kind": "API", "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}},
            False,
            id="ready-unknown",
        ),
        # Condition statuses are case-sensitive strings; only "True" means ready.
        pytest.param(
            {"kind": "API", "status": {"conditions": [{"type": "Ready", "status": "true"}]}},
            False,
            id="ready-lower-case",
        ),
        pytest.param(
            {"kind": "API", "status": {"conditions": [{"type": "Ready", "status": True}]}},
            False,
            id="ready-boolean",
        ),
        # Ready=True after another condition still counts: the order of conditions is free.
        pytest.param(
            {
                "kind": "API",
                "status": {
                    "conditions": [
                        {"type": "Synced", "status": "False"},
                        {"type": "Ready", "status": "True"},
                    ]
                },
            },
            True,
            id="ready-after-synced",
        ),
        pytest.param({"kind": "Secret"}, True, id="secret-without-conditions"),
        pytest.param({"kind": "ProviderConfig"}, True, id="kind-without-conditions"),
        pytest.param({"kind": {"a": 1}, "status": {}}, False, id="kind-not-a-string"),
    ],
)
def test_readiness(resource: dict[str, Any] | None, expected: bool) -> None:
    """Ready only with an observed Ready=True condition (or for kinds that have none)."""
    assert is_ready(resource, conditions(resource)) is expected


def _conditions(*conditions: Any) -> dict[str, Any]:
    return {"kind": "API", "status": {"conditions": list(conditions)}}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param({"kind": "API"}, None, id="no-status"),
        pytest.param(_conditions({"type": "Synced", "status": "True"}), None, id="synced"),
        # The provider's own words are what the user needs to fix the resource.
        pytest.param(
            _conditions({"type": "Synced", "status": "False", "message": "quota exceeded"}),
            "quota exceeded",
            id="message-passed-on",
        ),
        # Without words of its own the pending line must still say something.
        pytest.param(
            _conditions({"type": "Synced", "status": "False"}), "no message", id="no-message"
        ),
        pytest.param(
            _conditions({"type": "Synced", "status": "False", "message": ""}),
            "no message",
            id="empty-message",
        ),
        # A non-text message (a provider bug) is not passed on as if it were text.
        pytest.param(
            _conditions({"type": "Synced", "status": "False", "message": 7}),
            "no message",
            id="message-not-text",
        ),
        pytest.param(
            _conditions({"type": "Ready", "status": "False", "message": "creating"}),
            None,
            id="ready-false-is-not-a-sync-error",
        ),
        pytest.param(
            _conditions({"type": "Synced", "status": "Unknown", "message": "x"}),
            None,
            id="synced-unknown",
        ),
        pytest.param(
            _conditions("Synced", {"type": "Synced", "status": "False", "message": "denied"}),
            "denied",
            id="after-junk",
        ),
    ],
)
def test_sync_error(resource: dict[str, Any] | None, expected: str | None) -> None:
    """The Synced=False message, a fixed text when it has none, else None."""
    assert sync_error(conditions(resource)) == expected


REPORTED = {"status": {"atProvider": {"arn": "arn:reported", "empty": ""}}}
SENT = {"spec": {"forProvider": {"uri": "arn:sent", "list": ["a", "", 3]}}}


@pytest.mark.parametrize(
    ("reason", "resources", "expected"),
    [
        pytest.param("what AWS reports comes first", {"dep": REPORTED, "user": SENT},
                     "arn:reported", id="reported"),
        pytest.param("what was sent serves while AWS reports nothing",
                     {"dep": {"status": {}}, "user": SENT}, "arn:sent", id="sent"),
        pytest.param("the dependency may be gone altogether", {"user": SENT}, "arn:sent",
                     id="dependency-gone"),
        pytest.param("neither: nothing to copy yet", {}, None, id="neither"),
    ],
)  # fmt: skip
def test_reported_or_sent(reason: str, resources: dict[str, Any], expected: str | None) -> None:
    """The value AWS reports, else the one sent last time, else None."""
    observed = Observed(resources)
    assert observed.reported_or_sent(("dep", "arn"), ("user", "uri")) == expected, reason


def test_reported_or_sent_reads_each_side_its_own_way() -> None:
    """A sent value kept in another form than the reported one is read with ``read_sent``."""
    observed = Observed({"user": SENT})
    found = observed.reported_or_sent(
        ("dep", "arn"),
        ("user", "list"),
        read=lambda value: None if text(value) is None else [value],
        read_sent=lambda value: [v for v in value if text(v)] or None,
    )
    assert found == ["a"]


def test_an_empty_report_is_no_report() -> None:
    """An empty string AWS reports is no value: the one sent before is used."""
    observed = Observed({"dep": REPORTED, "user": SENT})
    assert observed.reported_or_sent(("dep", "empty"), ("user", "uri")) == "arn:sent"


def test_every_question_is_remembered() -> None:
    """Each question asked, the sent side only when asked, is kept with its answer."""
    observed = Observed({"dep": REPORTED, "user": SENT})
    observed.reported_or_sent(("dep", "arn"), ("user", "uri"))
    assert observed.answers() == {("get", "dep", "status", "atProvider", "arn"): "arn:reported"}
    observed.reported_or_sent(("dep", "empty"), ("user", "uri"))
    assert observed.answers()[("get", "user", "spec", "forProvider", "uri")] == "arn:sent"
    asked = observed.answers()
    assert Observed({"dep": REPORTED, "user": SENT}).fresh(asked) == asked
    # Without the user, each question is read afresh: no sent value, not the remembered one.
    assert Observed({"dep": REPORTED}).fresh(asked) == {
        ("get", "dep", "status", "atProvider", "arn"): "arn:reported",
        ("get", "dep", "status", "atProvider", "empty"): "",
        ("get", "user", "spec", "forProvider", "uri"): None,
    }


@pytest.mark.parametrize(
    ("resources", "expected", "why"),
    [
        pytest.param({"user": SENT}, True, "A forProvider object is held.", id="object"),
        pytest.param({"user": {"spec": {"forProvider": {}}}}, True,
                     "An empty object is an object still.", id="empty"),
        pytest.param({"user": {"spec": {"forProvider": "x"}}}, False,
                     "A string where the object goes is no object.", id="string"),
        pytest.param({"user": {"spec": {"forProvider": [{}]}}}, False,
                     "Nor is a list of objects.", id="list"),
        pytest.param({"user": {"spec": {}}}, False, "Nothing sent: no object.", id="missing"),
        pytest.param({}, False, "The resource is not observed.", id="absent"),
    ],
)  # fmt: skip
def test_holds_object(resources: dict[str, Any], expected: bool, why: str) -> None:
    """Whether an object is held at a path, asked and remembered as a yes or no."""
    observed = Observed(resources)
    assert observed.holds_object("user", "spec", "forProvider") is expected, why
    assert observed.answers() == {("object", "user", "spec", "forProvider"): expected}


def test_holds_object_reads_views_alike() -> None:
    """A Struct viewed in place answers as the same object given as a dict."""
    struct = struct_pb2.Struct()
    struct.update(SENT)
    assert Observed({"user": StructView(struct)}).holds_object("user", "spec", "forProvider")
