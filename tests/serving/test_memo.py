"""The memo: the previous answer is given again exactly when composing would give it too."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from conftest import SEED, load, platform_input, served

from function.model.observed import same
from function.offline import documents
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate
from function.serving import fn
from function.serving.memo import Memo

if TYPE_CHECKING:
    from collections.abc import Callable

    from crossplane.function.proto.v1 import run_function_pb2 as fnv1

JsonDict = dict[str, Any]
BUDGET = 1 << 24


@dataclass
class Call:
    """Everything a request is made of, so a case can change any part of it."""

    xr: JsonDict
    observed: dict[str, JsonDict]
    inp: JsonDict
    tag: str | None = None  # None: the tag Crossplane would give it
    desired: JsonDict | None = None
    context: JsonDict | None = None

    def request(self) -> fnv1.RunFunctionRequest:
        """The request Crossplane would send for this call."""
        req = documents.request(self.xr, self.observed, self.inp)
        if self.desired is not None:
            req.desired.composite.resource.update(self.desired)
        if self.context is not None:
            req.context.update(self.context)
        documents.retag(req)
        if self.tag is not None:
            req.meta.tag = self.tag
        return req


@functools.cache
def _converged() -> tuple[JsonDict, dict[str, JsonDict]]:
    xr = load(SEED)
    result = simulate(xr, platform_input())
    assert result.converged
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    return xr, observed


def converged_call() -> Call:
    xr, observed = _converged()
    return Call(copy.deepcopy(xr), copy.deepcopy(observed), platform_input())


def _wire(rsp: fnv1.RunFunctionResponse) -> bytes:
    return bytes(rsp.SerializeToString(deterministic=True))


def _status(call: Call, key: str) -> JsonDict:
    status: JsonDict = call.observed[key].setdefault("status", {})
    return status


def _delete(key: str) -> Callable[[Call], None]:
    def change(call: Call) -> None:
        del call.observed[key]

    return change


def _not_ready(call: Call) -> None:
    _status(call, "api")["conditions"] = [{"type": "Ready", "status": "False"}]


def _set(*path: str, value: Any) -> Callable[[Call], None]:
    """A change that sets ``path`` (starting with an observed resource's name) to ``value``."""

    def change(call: Call) -> None:
        obj: Any = call.observed
        for key in path[:-1]:
            obj = obj.setdefault(key, {})
        obj[path[-1]] = value

    return change


def _edit(field: str, value: Any) -> Callable[[Call], None]:
    def change(call: Call) -> None:
        setattr(call, field, value)

    return change


# (id, why, change, whether the previous answer is given again)
CASES: list[tuple[str, str, Callable[[Call], None], bool]] = [
    ("same", "An unchanged request is the steady-state reconcile.", lambda _: None, True),
    (
        "tag",
        "Only the tag differs (another Crossplane build); the answer carries the new tag.",
        _edit("tag", "another-build"),
        True,
    ),
    (
        "resource-version",
        "Providers bump resourceVersion on every write; nothing reads it.",
        _set("api", "metadata", "resourceVersion", value="999"),
        True,
    ),
    (
        "unread-status-field",
        "A status field no builder asks for cannot change the answer.",
        _set("api", "status", "atProvider", "tagsAll", value={"team": "x"}),
        True,
    ),
    (
        "unknown-resource",
        "Observed resources the function does not compose are ignored by it.",
        _set("stray", value={"kind": "Bucket"}),
        True,
    ),
    (
        "xr-status",
        "Crossplane writes the XR's conditions; compose reads only spec, name and namespace.",
        lambda call: call.xr.setdefault("status", {}).update(conditions=[{"type": "Synced"}]),
        True,
    ),
    (
        "environment-condition",
        "The condition the XR carries decides whether the answer adds an event (feedback).",
        lambda call: call.xr.setdefault("status", {}).update(
            conditions=[{"type": "EnvironmentReady", "status": "True", "reason": "Available"}]
        ),
        False,
    ),
    (
        "xr-labels",
        "Labels on the XR are not read either.",
        lambda call: call.xr["metadata"].setdefault("labels", {}).update(team="a"),
        True,
    ),
    (
        "read-value",
        "The API id feeds the integration, stage and status.",
        _set("api", "status", "atProvider", "id", value="other1"),
        False,
    ),
    ("readiness", "A resource turning unready changes readiness and status.", _not_ready, False),
    (
        "deleted",
        "An observed resource that disappears is created again.",
        _delete("stage"),
        False,
    ),
    (
        "type-change",
        "True and 1.0 are equal in Python but not in a Struct.",
        _set("api", "status", "atProvider", "id", value=True),
        False,
    ),
    (
        "spec",
        "A claim edit is a new answer.",
        lambda call: call.xr["spec"].update(region="eu-west-1"),
        False,
    ),
    (
        "input",
        "The platform input is part of the answer.",
        lambda call: call.inp.update(region="eu-west-1"),
        False,
    ),
    (
        "earlier-desired",
        "An earlier function's desired state is copied into the answer.",
        _edit("desired", {"status": {"other": "x"}}),
        False,
    ),
    (
        "context",
        "The pipeline context is copied into the answer.",
        _edit("context", {"key": "value"}),
        False,
    ),
]


@pytest.mark.parametrize(
    ("why", "change", "hit"),
    [pytest.param(why, change, hit, id=name) for name, why, change, hit in CASES],
)
def test_memo_answers_as_composing_would(
    why: str, change: Callable[[Call], None], hit: bool
) -> None:
    """The second answer comes from the memo exactly when it equals a fresh composition."""
    memo = Memo(BUDGET)
    call = converged_call()
    served(call.request(), memo)
    change(call)
    req = call.request()
    answer = served(req, memo)
    assert (memo.hits, memo.misses) == ((1, 1) if hit else (0, 2)), why
    assert answer == _wire(fn.run(req)), why


def test_memo_budget_keeps_the_most_recent_answers() -> None:
    """Answers beyond the budget push out the least recently used XR's, never overflow it."""
    first, second = converged_call(), converged_call()
    second.xr["metadata"]["name"] = "other"
    probe = Memo(BUDGET)
    served(first.request(), probe)
    memo = Memo(probe.used + probe.used // 2)
    for call in (first, second, second):
        served(call.request(), memo)
    assert (len(memo), memo.hits, memo.misses) == (1, 1, 2)
    assert memo.used <= memo.budget
    served(first.request(), memo)
    assert memo.misses == 3


@pytest.mark.parametrize(
    ("budget", "name", "why"),
    [
        pytest.param(0, "seed", "A zero budget remembers nothing.", id="zero-budget"),
        pytest.param(BUDGET, None, "An XR without a name has no identity to key on.", id="no-name"),
    ],
)
def test_memo_remembers_nothing(budget: int, name: str | None, why: str) -> None:
    """Some calls are always composed afresh."""
    memo = Memo(budget)
    call = converged_call()
    if name is None:
        del call.xr["metadata"]["name"]
    for _ in range(2):
        served(call.request(), memo)
    assert (len(memo), memo.used, memo.hits) == (0, 0, 0), why


@pytest.mark.parametrize(
    ("change", "why"),
    [
        pytest.param(
            _set("api", "status", "atProvider", "id", value="other1"),
            "A value the answer copies changed under the same fixed tag.",
            id="read-value",
        ),
        pytest.param(
            lambda call: call.xr["metadata"].update(name="other"),
            "Another XR sent with the same fixed tag gets its own answer.",
            id="other-xr",
        ),
    ],
)
def test_fixed_tags_stand_for_nothing(change: Callable[[Call], None], why: str) -> None:
    """Clients that send a fixed tag ('test') get composed answers, never another request's."""
    memo = Memo(BUDGET)
    call = converged_call()
    call.tag = "test"
    served(call.request(), memo)
    change(call)
    req = call.request()
    assert served(req, memo) == _wire(fn.run(req)), why
    assert memo.hits == 0, why


def test_a_broken_tag_promise_never_drops_a_resource() -> None:
    """A repeated Crossplane-shaped tag over other observed resources gets a composed answer.

    Answering with the older answer would leave out every resource observed since,
    and Crossplane deletes what a function leaves out.
    """
    memo = Memo(BUDGET)
    call = converged_call()
    observed, call.observed = call.observed, {}
    call.tag = "a" * 64
    served(call.request(), memo)
    call.observed = observed
    req = call.request()
    answer = served(req, memo)
    assert answer == _wire(fn.run(req))
    assert memo.hits == 0


@pytest.mark.parametrize(
    ("a", "b", "expected", "why"),
    [
        pytest.param(
            True,
            1.0,
            False,
            "Python's True == 1.0; a Struct's bool is no number.",
            id="bool-number",
        ),
        pytest.param(1.0, 1.0, True, "Equal numbers are the same.", id="number"),
        pytest.param(
            -0.0, 0.0, False, "-0.0 == 0.0 in Python; a Struct keeps the sign.", id="signed-zero"
        ),
        pytest.param({"a": [1.0]}, {"a": [1.0]}, True, "Equal nesting is the same.", id="nested"),
        pytest.param(
            {"a": [True]}, {"a": [1.0]}, False, "Types count inside lists too.", id="nested-type"
        ),
        pytest.param({"a": 1.0}, {"b": 1.0}, False, "Different keys differ.", id="keys"),
        pytest.param([1.0], [1.0, 2.0], False, "Different lengths differ.", id="length"),
        pytest.param(None, None, True, "Absent is absent.", id="none"),
    ],
)
def test_same(a: Any, b: Any, expected: bool, why: str) -> None:
    """``same`` is equality that also tells a Struct's value kinds apart."""
    assert same(a, b) is expected, why
