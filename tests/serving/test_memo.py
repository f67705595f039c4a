"""The memo: the previous answer is given again exactly when composing would give it too."""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from conftest import SEED, converged_observed, load, platform_input, served

from function.model.observed import Observed, same
from function.offline import documents
from function.serving import fn, shallow
from function.serving import memo as memo_module
from function.serving.fingerprints import DIGEST_BYTES, digests
from function.serving.memo import BUILT_KEPT, ITEM_COST_BYTES, PARSED_KEPT, Memo, _Entry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

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


def converged_call(name: str | None = None) -> Call:
    """The seed claim (renamed ``name``) as observed once converged."""
    xr = load(SEED)
    observed = converged_observed(xr)
    if name is not None:
        xr["metadata"]["name"] = name
    return Call(xr, observed, platform_input())


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
        "spec-and-read-value",
        "A claim edit and a read value at once: the changed resource is read again.",
        lambda call: (_edit_spec(call), _read_change(call)),
        False,
    ),
    (
        "input",
        "The platform input is part of the answer.",
        lambda call: call.inp.update(region="eu-west-1"),
        False,
    ),
    (
        "xr-name",
        "Another name is another XR: its answer is its own.",
        lambda call: call.xr["metadata"].update(name="other"),
        False,
    ),
    (
        "xr-namespace",
        "The same name in another namespace is another XR.",
        lambda call: call.xr["metadata"].update(namespace="elsewhere"),
        False,
    ),
    (
        "xr-kind",
        "The same name of another kind is another XR.",
        lambda call: call.xr.update(kind="XVClusterEnvironment"),
        False,
    ),
    (
        "xr-api-version",
        "The same name and kind in another API version is another XR.",
        lambda call: call.xr.update(apiVersion="platform.example.org/v2"),
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


def test_memo_budget_is_never_exceeded() -> None:
    """Answers beyond the budget push older ones out; the memo never holds more than it."""
    first, second = converged_call(), converged_call("other")
    probe = Memo(BUDGET)
    served(first.request(), probe)
    memo = Memo(probe.used + probe.used // 2)
    for call in (first, second, second):
        served(call.request(), memo)
    assert (len(memo), memo.hits, memo.misses) == (1, 1, 2)
    assert memo.used <= memo.budget
    served(first.request(), memo)
    assert memo.misses == 3


def _fixed_tag(call: Call) -> None:
    call.tag = "test"


@pytest.mark.parametrize(
    ("touch", "why"),
    [
        pytest.param(None, "A recall by Crossplane's own tag makes the XR the most recent.",
                     id="same-tag"),
        pytest.param(_fixed_tag, "A recall by unchanged inputs (another tag) does too.",
                     id="same-inputs"),
    ],
)  # fmt: skip
def test_memo_evicts_least_recently_used(touch: Callable[[Call], None] | None, why: str) -> None:
    """With room for two answers, a third pushes out the one recalled least recently."""
    a, b, c = (converged_call(name) for name in ("env-a", "env-b", "env-c"))
    probe = Memo(BUDGET)
    served(a.request(), probe)
    memo = Memo(probe.used * 2 + probe.used // 2)
    served(a.request(), memo)
    served(b.request(), memo)
    if touch is not None:
        touch(a)
    served(a.request(), memo)  # a is now more recent than b
    assert memo.hits == 1, why
    served(c.request(), memo)  # no room for three: b goes
    assert len(memo) == 2, why
    hits = memo.hits
    served(a.request(), memo)
    assert memo.hits == hits + 1, why
    served(b.request(), memo)
    assert memo.hits == hits + 1, why


def test_memo_answers_an_xr_without_spec() -> None:
    """An XR without a spec is refused the same way whether composed or remembered."""
    memo = Memo(BUDGET)
    call = converged_call()
    del call.xr["spec"]
    req = call.request()
    answers = [served(req, memo) for _ in range(2)]
    assert answers == [_wire(fn.run(req))] * 2
    assert memo.hits == 1


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


def test_memo_sees_a_resource_appear() -> None:
    """A resource observed for the first time is a change, though no digest of it was kept."""
    memo = Memo(BUDGET)
    call = converged_call()
    stage = call.observed.pop("stage")
    served(call.request(), memo)
    call.observed["stage"] = stage
    req = call.request()
    assert served(req, memo) == _wire(fn.run(req))
    assert (memo.hits, memo.misses) == (0, 2)


def test_memo_sees_a_resource_vanish_that_told_nothing_but_that_it_existed() -> None:
    """A resource kept only because it exists is dropped from the answer once it vanishes.

    With no status anywhere, nothing is ready and nothing is read but existence: the memo
    must not mistake a vanished resource for one that stayed (mutation testing found it could).
    """
    for key in converged_call().observed:
        memo = Memo(BUDGET)
        call = converged_call()
        for observed in call.observed.values():
            observed.pop("status", None)
        served(call.request(), memo)
        del call.observed[key]
        req = call.request()
        assert served(req, memo) == _wire(fn.run(req)), key


def test_memo_retags_a_retagged_answer() -> None:
    """An answer given again under one tag, then another, is still the composed answer."""
    memo = Memo(BUDGET)
    call = converged_call()
    served(call.request(), memo)
    for tag in ("first-client", "second-client"):
        call.tag = tag
        req = call.request()
        assert served(req, memo) == _wire(fn.run(req)), tag
    assert memo.hits == 2


def test_memo_keeps_an_answer_exactly_its_budget() -> None:
    """A budget of exactly one answer's cost remembers it (the budget is inclusive)."""
    probe = Memo(BUDGET)
    served(converged_call().request(), probe)
    memo = Memo(probe.used)
    call = converged_call()
    served(call.request(), memo)
    served(call.request(), memo)
    assert (len(memo), memo.used, memo.hits) == (1, probe.used, 1)


def test_memo_replacing_an_answer_frees_the_old_one() -> None:
    """A new answer for the same XR replaces the old one, and so does its cost."""
    call = converged_call()
    memo = Memo(BUDGET)
    served(call.request(), memo)
    call.xr["spec"]["region"] = "eu-west-1"
    served(call.request(), memo)
    alone = Memo(BUDGET)
    served(call.request(), alone)
    assert (len(memo), memo.used) == (1, alone.used)


def test_memo_cost_counts_what_an_answer_holds() -> None:
    """An answer costs its bytes, its inputs, each fingerprint and each resource's questions.

    The questions and answers are kept packed with marshal, one blob per resource they are
    about, in the order they were asked; each fingerprint and blob also costs its objects.
    """
    call = converged_call()
    req = call.request()
    memo = Memo(BUDGET)
    answer = served(req, memo)
    # Read from the request, as the memo reads it: numbers are a Struct's doubles.
    outcome = fn.outcome(req)
    by_resource: dict[str, dict[tuple[str, ...], Any]] = {}
    for question, found in outcome.answers.items():
        by_resource.setdefault(question[1], {})[question] = found
    held = (
        len(answer)
        + 2 * DIGEST_BYTES  # what is read of the XR, and the rest
        + sum(
            len(name) + len(fingerprint) + ITEM_COST_BYTES
            for name, fingerprint in digests(shallow.parse(req.SerializeToString())).items()
        )
        + sum(
            len(key) + len(marshal.dumps(asked)) + ITEM_COST_BYTES
            for key, asked in by_resource.items()
        )
    )
    assert memo.used == held


def test_memo_reuses_the_encoded_resources_of_its_last_answer() -> None:
    """A read change composes again, but every manifest that did not change is parsed, not built."""
    call = converged_call()
    memo = Memo(BUDGET)
    served(call.request(), memo)
    assert memo.pieces.hits == 0
    _read_change(call)
    assert served(call.request(), memo) == _wire(fn.run(call.request()))
    assert memo.pieces.hits >= len(call.observed) - 2


def _reversed(value: Any) -> Any:
    """The same value with every map's keys in the opposite order."""
    if isinstance(value, dict):
        return {key: _reversed(value[key]) for key in reversed(value)}
    return value


@pytest.mark.parametrize("part", ["spec", "inp", "desired", "context"])
def test_memo_ignores_key_order(part: str) -> None:
    """The same request with its maps built in another order is the same request."""
    memo = Memo(BUDGET)
    call = converged_call()
    # Enough keys that protobuf's own map order follows the order they were set in: a
    # few keys come out in one order whatever the order given (a refused spec or input
    # is an answer like any other).
    extra = {f"{name}{number}": {"x": 1, "y": [name]} for name in "abcdefgh" for number in range(6)}
    owner = {"spec": call.xr["spec"], "inp": call.inp}.get(part)
    if owner is None:
        setattr(call, part, {"extra": extra})
    else:
        owner["extra"] = extra
    served(call.request(), memo)
    if part == "spec":
        call.xr["spec"] = _reversed(call.xr["spec"])
    else:
        setattr(call, part, _reversed(getattr(call, part)))
    served(call.request(), memo)
    assert memo.hits == 1, part


def _stamped(call: Call) -> Call:
    """The XR and every observed object with the uid and resourceVersion the API server gives."""
    for number, (key, body) in enumerate(sorted(call.observed.items())):
        body.setdefault("metadata", {}).update(uid=f"uid-{key}", resourceVersion=str(100 + number))
    call.xr["metadata"].update(uid="uid-xr", resourceVersion="10")
    return call


def _read_change(call: Call) -> None:
    _set("api", "status", "atProvider", "id", value="other1")(call)


def _meta(key: str, **fields: Any) -> Callable[[Call], None]:
    def change(call: Call) -> None:
        metadata = call.observed[key]["metadata"]
        for name, value in fields.items():
            if value is None:
                metadata.pop(name, None)
            else:
                metadata[name] = value

    return change


def _edit_spec(call: Call) -> None:
    call.xr["spec"]["region"] = "eu-west-1"


def _tell_ready(call: Call) -> None:
    call.xr.setdefault("status", {})["conditions"] = [
        {"type": "EnvironmentReady", "status": "True", "reason": "Available"}
    ]


def _xr_meta(**fields: Any) -> Callable[[Call], None]:
    def change(call: Call) -> None:
        for name, value in fields.items():
            if value is None:
                call.xr["metadata"].pop(name, None)
            else:
                call.xr["metadata"][name] = value

    return change


# (id, why, what the API server's stamps become besides the read value's change)
FINGERPRINT_CASES: list[tuple[str, str, Callable[[Call], None]]] = [
    (
        "new-version",
        "A write gets a new resourceVersion: the changed value is read again.",
        _meta("api", resourceVersion="999"),
    ),
    (
        "no-version",
        "Without a resourceVersion the digest of the object tells the change.",
        _meta("api", resourceVersion=None),
    ),
    (
        "no-uid",
        "A resourceVersion without a uid is not trusted: the digest tells the change.",
        _meta("api", uid=None),
    ),
    (
        "empty-version",
        "An empty resourceVersion is none.",
        _meta("api", resourceVersion=""),
    ),
    (
        "numeric-version",
        "A resourceVersion that is no string is none.",
        _meta("api", resourceVersion=101.0),
    ),
    (
        "other-api-version",
        "The same object served at another apiVersion is other content.",
        lambda call: call.observed["api"].update(apiVersion="apigatewayv2.aws.upbound.io/v1beta2"),
    ),
]


@pytest.mark.parametrize(
    ("change", "stamps", "why"),
    [
        *(
            pytest.param(_read_change, stamps, why, id=name)
            for name, why, stamps in FINGERPRINT_CASES
        ),
        pytest.param(
            _edit_spec,
            _xr_meta(resourceVersion="11"),
            "A claim edit gets the XR a new resourceVersion: its spec is compared again.",
            id="xr-new-version",
        ),
        pytest.param(
            _edit_spec,
            _xr_meta(resourceVersion=None),
            "Without a resourceVersion the XR's spec is compared.",
            id="xr-no-version",
        ),
        pytest.param(
            _edit_spec,
            _xr_meta(uid=None),
            "A resourceVersion without a uid is not trusted.",
            id="xr-no-uid",
        ),
        pytest.param(
            _tell_ready,
            _xr_meta(resourceVersion="11"),
            "Crossplane writing the XR's condition gets it a new resourceVersion.",
            id="xr-condition",
        ),
    ],
)
def test_memo_composes_again_what_the_api_server_says_changed(
    change: Callable[[Call], None], stamps: Callable[[Call], None], why: str
) -> None:
    """A changed XR or read value gets a composed answer, whatever tells the memo it changed."""
    memo = Memo(BUDGET)
    call = _stamped(converged_call())
    served(call.request(), memo)
    change(call)
    stamps(call)
    req = call.request()
    assert served(req, memo) == _wire(fn.run(req)), why
    assert memo.hits == 0, why


def test_memo_answers_an_unread_write_by_its_resource_version() -> None:
    """A provider's write of a value nothing reads, with its new resourceVersion, is a hit."""
    memo = Memo(BUDGET)
    call = _stamped(converged_call())
    served(call.request(), memo)
    _set("api", "status", "atProvider", "tagsAll", value={"team": "x"})(call)
    _meta("api", resourceVersion="999")(call)
    req = call.request()
    assert served(req, memo) == _wire(fn.run(req))
    assert memo.hits == 1


@pytest.mark.parametrize(
    ("change", "why"),
    [
        pytest.param(lambda call: setattr(call, "tag", "another-client"),
                     "A new tag alone: the answer kept must carry it.", id="tag"),
        pytest.param(_meta("api", resourceVersion="999"),
                     "An unread write: the answer kept must hold the new fingerprint.",
                     id="resource-version"),
    ],
)  # fmt: skip
def test_memo_gives_a_retagged_answer_again_without_asking(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[Call], None], why: str
) -> None:
    """After a re-tag, the same request again gets the kept bytes: nothing is asked or re-tagged."""
    memo = Memo(BUDGET)
    call = _stamped(converged_call())
    served(call.request(), memo)
    change(call)
    served(call.request(), memo)
    work: list[str] = []
    monkeypatch.setattr(Observed, "fresh", lambda _, questions: work.extend(questions) or {})
    monkeypatch.setattr(_Entry, "retagged", lambda *_: work.append("retagged"))
    req = call.request()
    assert served(req, memo) == _wire(fn.run(req)), why
    assert (work, memo.hits) == ([], 2), why


@pytest.mark.parametrize(
    ("change", "why"),
    [
        pytest.param(_read_change, "A value the answer copies, under the same stamps.",
                     id="observed"),
        pytest.param(lambda call: (_read_change(call), _meta("api", name="renamed")(call)),
                     "An object's name never changes under its uid: a rename is forged too.",
                     id="renamed"),
    ],
)  # fmt: skip
def test_memo_trusts_the_api_servers_resource_version(
    change: Callable[[Call], None], why: str
) -> None:
    """The decision, pinned: the same uid and resourceVersion stand for the same object.

    The API server changes an object's resourceVersion on every write, so Crossplane never
    sends the same pair over other content. A forged request that does gets the earlier
    answer; one without the pair is digested or compared instead (the cases above). Not so
    the XR: see the next test.
    """
    memo = Memo(BUDGET)
    before, after = _stamped(converged_call()), _stamped(converged_call())
    before.tag = after.tag = "forged"
    served(before.request(), memo)
    change(after)
    stale, fresh = _wire(fn.run(before.request())), _wire(fn.run(after.request()))
    assert stale != fresh, why
    assert served(after.request(), memo) == stale, why
    assert memo.hits == 1, why


def test_memo_compares_the_xr_spec_under_the_same_stamps() -> None:
    """A spec edit under the XR's same uid and resourceVersion is composed, not recalled.

    ``crossplane composition render`` stamps every XR with a uid derived from its kind,
    namespace and name and the resourceVersion "999" (internal/render/composite/render.go):
    two renders of one XR with different specs, against one served function, carry the same
    pair. Trusting it gave the second render the first one's answer.
    """
    memo = Memo(BUDGET)
    before, after = _stamped(converged_call()), _stamped(converged_call())
    served(before.request(), memo)
    _edit_spec(after)
    req = after.request()
    assert served(req, memo) == _wire(fn.run(req))
    assert memo.hits == 0


def _spec_and_read_change(call: Call) -> None:
    _edit_spec(call)
    _read_change(call)


@pytest.mark.parametrize(
    ("change", "anew", "why"),
    [
        pytest.param(_read_change, {"api"},
                     "The changed resource's answers are packed anew, the others' kept.",
                     id="read-value"),
        pytest.param(_spec_and_read_change, None,
                     "Composing asked about a resource it was told nothing of: all made anew.",
                     id="spec-and-read-value"),
    ],
)  # fmt: skip
def test_memo_keeps_the_answers_composing_gave(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[Call], None], anew: set[str], why: str
) -> None:
    """After a miss the kept blobs hold what composing afresh asks and answers, per resource.

    Only the blobs of ``anew`` (of every resource asked about, for None) are packed again.
    """
    call = converged_call()
    memo = Memo(BUDGET)
    served(call.request(), memo)
    change(call)
    req = call.request()
    packed: set[str] = set()
    real = memo_module._pack  # noqa: SLF001 - noting which resources' answers are packed

    def pack(answers: Mapping[tuple[str, ...], Any]) -> dict[str, bytes]:
        found = real(answers)
        packed.update(found)
        return found

    monkeypatch.setattr(memo_module, "_pack", pack)
    served(req, memo)
    (entry,) = memo._entries.values()  # noqa: SLF001 - the blobs are not read otherwise
    expected: dict[str, dict[tuple[str, ...], Any]] = {}
    for question, found in fn.outcome(req).answers.items():
        expected.setdefault(question[1], {})[question] = found
    kept = {key: marshal.loads(blob) for key, blob in entry.answers.items()}  # noqa: S302
    assert packed == (anew or set(expected)), why
    assert kept == expected, why
    assert all(same(kept[key], asked) for key, asked in expected.items()), why


def _other_region(call: Call) -> None:
    call.xr["spec"]["region"] = "eu-west-1"


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time composing validates a spec and an input."""
    import function.compose as composing  # noqa: PLC0415 - patched below, not used otherwise

    parses: list[int] = []
    real = composing.parse

    def parse(xr: Any, raw_input: Any) -> Any:
        parses.append(1)
        return real(xr, raw_input)

    monkeypatch.setattr(composing, "parse", parse)
    return parses


@pytest.mark.parametrize(
    ("change", "validations", "why"),
    [
        (_read_change, 1, "A read value changed: the spec and input validated last time serve."),
        (
            _other_region,
            2,
            "The spec changed: it is validated again, never taken from the earlier answer.",
        ),
    ],
)
def test_memo_reuses_a_validated_spec_only_while_it_is_unchanged(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[Call], None], validations: int, why: str
) -> None:
    """Composing after a miss validates the spec and input again only if they changed."""
    parses = _counting_parses(monkeypatch)
    call = converged_call()
    memo = Memo(BUDGET)
    served(call.request(), memo)
    change(call)
    assert served(call.request(), memo) == _wire(fn.run(call.request())), why
    # fn.run above composes without the memo: one validation of its own.
    assert len(parses) == validations + 1, why


def test_memo_keeps_validated_specs_of_the_xrs_composed_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the PARSED_KEPT XRs composed last keep their validated spec; older ones validate."""
    parses = _counting_parses(monkeypatch)
    memo = Memo(BUDGET)
    calls = [converged_call(f"xr-{number}") for number in range(PARSED_KEPT + 1)]
    for call in calls:
        served(call.request(), memo)
    # The oldest of those kept is the PARSED_KEPT-th last; the one before it is gone.
    for call, validations in ((calls[-1], 0), (calls[1], 0), (calls[0], 1)):
        before = len(parses)
        _read_change(call)
        served(call.request(), memo)
        assert len(parses) - before == validations, call.xr["metadata"]["name"]


def _counting_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time composing runs the vCluster builder."""
    import function.compose as composing  # noqa: PLC0415 - patched below, not used otherwise

    runs: list[int] = []
    first, *rest = composing.BUILDERS

    def build(ctx: Any) -> Any:
        runs.append(1)
        return first(ctx)

    monkeypatch.setattr(composing, "BUILDERS", (build, *rest))
    return runs


@pytest.mark.parametrize(
    ("change", "runs", "why"),
    [
        (_read_change, 0, "A value the vCluster builder never reads changed: built before."),
        (_other_region, 1, "The spec changed: every builder runs again."),
    ],
)
def test_memo_runs_again_only_the_builders_a_change_reaches(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[Call], None], runs: int, why: str
) -> None:
    """Composing after a miss takes again what builders answered alike built last time."""
    call = converged_call()
    memo = Memo(BUDGET)
    served(call.request(), memo)
    change(call)
    counted = _counting_builds(monkeypatch)
    answer = served(call.request(), memo)
    assert len(counted) == runs, why
    assert answer == _wire(fn.run(call.request())), why


def _one_more_than_kept() -> tuple[Memo, list[Call]]:
    """A memo that composed BUILT_KEPT + 1 XRs, and their calls, oldest first."""
    memo = Memo(BUDGET)
    calls = [converged_call(f"xr-{number}") for number in range(BUILT_KEPT + 1)]
    for call in calls:
        served(call.request(), memo)
    return memo, calls


def test_memo_keeps_what_was_built_for_the_xrs_composed_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the BUILT_KEPT XRs composed last keep what their builders built; older ones build."""
    memo, calls = _one_more_than_kept()
    runs = _counting_builds(monkeypatch)
    # The oldest of those kept is the BUILT_KEPT-th last; the one before it is gone.
    for call, built in ((calls[-1], 0), (calls[1], 0), (calls[0], 1)):
        before = len(runs)
        _read_change(call)
        served(call.request(), memo)
        assert len(runs) - before == built, call.xr["metadata"]["name"]


def test_memo_unpacks_for_the_xrs_composed_last_only_what_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The BUILT_KEPT XRs composed last keep their answers unpacked besides; older ones unpack."""
    memo, calls = _one_more_than_kept()
    unpacked: list[str] = []
    real = memo_module._unpack  # noqa: SLF001 - noting which resources' blobs are unpacked

    def unpack(packed: Mapping[str, bytes], keys: Iterable[str]) -> dict[Any, Any]:
        keys = list(keys)
        unpacked.extend(keys)
        return real(packed, keys)

    monkeypatch.setattr(memo_module, "_unpack", unpack)
    for call, every in ((calls[-1], False), (calls[1], False), (calls[0], True)):
        unpacked.clear()
        _read_change(call)
        assert served(call.request(), memo) == _wire(fn.run(call.request()))
        assert (set(unpacked) > {"api"}, "api" in unpacked) == (every, True), call.xr["metadata"]


def test_memo_reads_each_question_about_a_changed_resource_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a read change, composing takes the answers the recall read, not the resource again."""
    call = converged_call()
    memo = Memo(BUDGET)
    served(call.request(), memo)
    _read_change(call)
    read: list[tuple[str, ...]] = []
    real = Observed._answer  # noqa: SLF001 - counting every read of observed state

    def answer(self: Observed, question: tuple[str, ...]) -> Any:
        read.append(question)
        return real(self, question)

    monkeypatch.setattr(Observed, "_answer", answer)
    assert served(call.request(), memo) == _wire(fn.run(call.request()))
    changed = [question for question in read if question[1] == "api"]
    # fn.run above composes without the memo and reads each question once of its own.
    assert changed
    assert len(changed) == 2 * len(set(changed))


def test_memo_takes_no_input_and_an_empty_one_alike() -> None:
    """Composing reads no input and an empty one as the defaults: one answer serves both."""
    memo = Memo(BUDGET)
    call = converged_call()
    without = call.request()
    without.ClearField("input")
    documents.retag(without)
    empty = call.request()
    empty.input.Clear()
    empty.input.SetInParent()
    documents.retag(empty)
    assert empty.HasField("input")
    assert served(without, memo) == _wire(fn.run(without))
    assert served(empty, memo) == _wire(fn.run(empty))
    assert memo.hits == 1


def test_memo_answers_the_first_tag_again_after_another() -> None:
    """Back to the first tag after another, the answer carries the first tag again.

    The remembered answer now carries the second tag: the fast path, taken by a request
    with the remembered tag, must not give it to the first one.
    """
    memo = Memo(BUDGET)
    call = converged_call()
    for tag in ("first-client", "second-client", "first-client"):
        call.tag = tag
        req = call.request()
        assert served(req, memo) == _wire(fn.run(req)), tag
    assert (memo.hits, memo.misses) == (2, 1)


def test_memo_retagged_answer_costs_what_its_new_bytes_cost() -> None:
    """An answer given again under a longer tag costs as much as one composed under that tag.

    The budget bounds what the memo holds: the retagged bytes, not the first ones.
    """
    call = converged_call()
    call.tag = "a"
    retagged = Memo(BUDGET)
    served(call.request(), retagged)
    call.tag = "b" * 200
    served(call.request(), retagged)
    composed = Memo(BUDGET)
    served(call.request(), composed)
    assert retagged.hits == 1
    assert retagged.used == composed.used


def test_memo_composes_a_new_spec_with_what_the_same_stamps_answered() -> None:
    """A spec edit is composed again, but a resource under its same stamps is not read again.

    The same uid and resourceVersion stand for the same object (the test above), so its
    earlier answers are known to composing: a forged request that keeps the stamps over
    other content gets the new spec composed with the earlier content.
    """
    memo = Memo(BUDGET)
    before, after, expected = (_stamped(converged_call()) for _ in range(3))
    for call in (before, after, expected):
        call.tag = "forged"
    served(before.request(), memo)
    _edit_spec(after)
    _read_change(after)
    _edit_spec(expected)
    req = after.request()
    answer = served(req, memo)
    assert answer != _wire(fn.run(req)), "the forged content must change the answer"
    assert answer == _wire(fn.run(expected.request()))
    assert (memo.hits, memo.misses) == (0, 2)


def test_memo_takes_a_spec_without_a_kind_for_no_spec() -> None:
    """An XR whose spec is a Value without a kind reads as one without a spec: one answer.

    Composing reads such a spec as None (``StructView``), so both are refused alike and the
    memo gives the first refusal again for the second.
    """
    memo = Memo(BUDGET)
    call = converged_call()
    del call.xr["spec"]
    served(call.request(), memo)
    req = call.request()
    req.observed.composite.resource.fields["spec"].Clear()  # indexing adds the empty Value
    documents.retag(req)
    assert served(req, memo) == _wire(fn.run(req))
    assert (memo.hits, memo.misses) == (1, 1)
