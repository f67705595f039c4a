"""The servicer: an Outcome becomes a response that keeps others' state; large calls apart."""

from __future__ import annotations

import asyncio
import threading

import pytest
from conftest import SEED, load, platform_input

from function.compose import compose
from function.offline import documents
from function.serving import fn, server

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
    """Large and small calls compose on lanes of their own: neither waits for the other."""
    worker = server._Worker()  # noqa: SLF001 - the lanes themselves are under test
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
