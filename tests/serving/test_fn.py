"""The servicer: an Outcome becomes a response that keeps others' state; large calls apart."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

import pytest
from conftest import SEED, converged_observed, load, platform_input
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from google.protobuf import struct_pb2

from function.compose import compose
from function.offline import documents
from function.serving import fn, server
from function.serving.memo import Encoded, Memo, Spliced

if TYPE_CHECKING:
    from collections.abc import Callable

BUDGET = 1 << 20

# What an earlier pipeline step might have put under one of our keys.
FOREIGN = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "stolen", "labels": {"injected": "yes"}},
    "stringData": {"kubeconfig": "other tenant"},
    "spec": {"forProvider": {"region": "eu-west-1", "injected": True}},
}


def test_an_earlier_steps_resource_under_our_key_is_replaced() -> None:
    """No field of a foreign object under our key survives into the object we compose."""
    xr = load(SEED)
    req = documents.request(xr, {}, platform_input())
    req.desired.resources["namespace"].resource.update(FOREIGN)
    req.desired.resources["other-step"].resource.update(FOREIGN)
    rsp = fn.run(req)
    desired = documents.desired_of(rsp)
    assert desired["namespace"] == compose(xr, {}, platform_input()).resources["namespace"]
    assert desired["other-step"] == FOREIGN, "another step's own resources stay as they were"


@pytest.mark.parametrize(
    ("earlier", "why"),
    [
        pytest.param([], "Ours alone.", id="none"),
        pytest.param(["namespace"], "Ours replaces an earlier step's under our key.", id="ours"),
        pytest.param(["other-step", "a"], "Another step's own resources are spliced in their "
                     "place among ours.", id="theirs"),
        pytest.param(["namespace", "other-step"], "Both at once.", id="both"),
    ],
)  # fmt: skip
def test_an_answer_spliced_from_pieces_is_the_answer_composing_gives(
    earlier: list[str], why: str
) -> None:
    """With a memo, the answer is spliced from each resource's piece: composing's bytes."""
    xr = load(SEED)
    req = documents.request(xr, converged_observed(xr), platform_input())
    for name in earlier:
        req.desired.resources[name].resource.update(FOREIGN)
        req.desired.resources[name].ready = fnv1.READY_TRUE
    req = documents.retag(req)
    expected = fn.run(req).SerializeToString(deterministic=True)
    runner = fn.FunctionRunner(Memo(BUDGET))
    composed, remembered = (
        asyncio.run(runner.answer(req.SerializeToString(), None)) for _ in range(2)
    )
    assert type(composed) is Spliced
    assert type(remembered) is Encoded
    assert composed.data == remembered.data == expected, why


@pytest.mark.parametrize(
    ("spec", "expected", "why"),
    [
        pytest.param({}, False, "The seed claim has no apps.", id="seed"),
        pytest.param({"apps": [{}] * (fn.LARGE_APPS - 1)}, False, "Just below the line.",
                     id="below"),
        pytest.param({"apps": [{}] * fn.LARGE_APPS}, True, "At the line.", id="at"),
        pytest.param({"apps": [{}] * 300}, True, "The largest benchmark claim.", id="300"),
        pytest.param({"apps": "many"}, False, "Apps that are no list count as none.", id="text"),
        pytest.param(None, False, "An XR without a spec is refused at once.", id="no-spec"),
    ],
)  # fmt: skip
def test_large_calls_are_told_by_their_apps(
    spec: dict[str, object] | None, expected: bool, why: str
) -> None:
    """A call is large when its claim has LARGE_APPS apps or more."""
    xr: dict[str, object] = {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "x"}}
    if spec is not None:
        xr["spec"] = spec
    assert fn.large(documents.request(xr, {}, None)) is expected, why


def test_a_small_call_is_composed_while_a_large_one_is_under_way() -> None:
    """A small call composes on the loop while a large one is under way on its thread."""
    worker = server._Worker()  # noqa: SLF001 - where calls compose is under test
    small_done = threading.Event()

    def large_work() -> bool:
        # On a shared lane this would wait for itself; it returns False after the bound.
        return small_done.wait(timeout=30)

    def small_work() -> bool:
        small_done.set()
        return True

    async def both() -> list[bool]:
        large = asyncio.ensure_future(worker.run(large_work, large=True))
        await asyncio.sleep(0)
        small = await worker.run(small_work, large=False)
        return [await large, small]

    try:
        assert asyncio.run(both()) == [True, True]
    finally:
        worker.close()


def _bump(observed: dict[str, Any]) -> None:
    """A write nothing reads: the API server's new resourceVersion on one object."""
    observed["api"].setdefault("metadata", {})["resourceVersion"] = "2"


def _read(observed: dict[str, Any]) -> None:
    """A write the function reads: the API's id, which the stage and integration copy."""
    observed["api"]["status"]["atProvider"]["id"] = "other1"
    _bump(observed)


@pytest.mark.parametrize(
    ("cache_bytes", "change", "parses", "why"),
    [
        pytest.param(BUDGET, None, (0, 1, False),
                     "The same request is answered from the memo, which parses the XR.", id="same"),
        pytest.param(BUDGET, _bump, (0, 1, True),
                     "An unread write is answered so too, parsing what is asked of the API.",
                     id="unread"),
        pytest.param(BUDGET, _read, (0, 1, True),
                     "A read write is composed from the answers read; no more parsed.", id="read"),
        pytest.param(0, None, (0, 0, True),
                     "Without a memo, each call is composed, parsing what it reads.", id="no-memo"),
    ],
)  # fmt: skip
def test_a_request_is_parsed_only_where_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
    cache_bytes: int,
    change: Callable[[dict[str, Any]], None] | None,
    parses: tuple[int, int, bool],
    why: str,
) -> None:
    """The request is read shallowly (``shallow``); only what is read is parsed whole.

    ``parses``: how many requests, then resources, are parsed whole, and whether values of
    observed resources are (never more than half the request's bytes).
    """
    xr = load(SEED)
    observed = converged_observed(xr)
    for number, (key, body) in enumerate(sorted(observed.items())):
        body.setdefault("metadata", {}).update(
            uid=f"uid-{key}", resourceVersion=str(number), managedFields=[MANAGED] * 3
        )
    runner = fn.FunctionRunner(Memo(cache_bytes) if cache_bytes else None)
    first = documents.retag(documents.request(xr, observed, platform_input()))
    asyncio.run(runner.answer(first.SerializeToString(), None))
    if change is not None:
        change(observed)
    req = documents.retag(documents.request(xr, observed, platform_input()))
    counted: dict[str, list[int]] = {"RunFunctionRequest": [], "Resource": [], "Value": []}
    for kind, message in (
        ("RunFunctionRequest", fnv1.RunFunctionRequest),
        ("Resource", fnv1.Resource),
        ("Value", struct_pb2.Value),
    ):
        monkeypatch.setattr(message, "FromString", staticmethod(_counting(counted[kind], message)))
    data = req.SerializeToString()
    answer = asyncio.run(runner.answer(data, None))
    monkeypatch.undo()
    found = (len(counted["RunFunctionRequest"]), len(counted["Resource"]), bool(counted["Value"]))
    assert found == parses, why
    assert sum(counted["Value"]) < len(data) / 2, why
    expected = fn.run(req).SerializeToString(deterministic=True)
    assert bytes(answer.SerializeToString(deterministic=True)) == expected, why


# One managedFields entry as the API server writes it: most of a real object, never read.
MANAGED = {
    "apiVersion": "v1",
    "fieldsType": "FieldsV1",
    "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {".": {}}},
    "manager": "crossplane",
    "operation": "Apply",
    "time": "2026-01-01T00:00:00Z",
}


def _counting(counted: list[int], message: Any) -> Callable[[bytes], Any]:
    """``message.FromString``, noting the size of each message parsed in ``counted``."""
    parse = message.FromString

    def counting(data: bytes) -> Any:
        counted.append(len(data))
        return parse(data)

    return counting
