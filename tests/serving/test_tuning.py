"""The interpreter settings the server runs with."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

import pytest
from conftest import SEED, converged_observed, load, platform_input

from function.offline import documents
from function.serving import fn, server, shallow

if TYPE_CHECKING:
    from collections.abc import Iterator

# Python's own threshold for its youngest generation.
PYTHON_DEFAULT = 700


@pytest.fixture
def restored() -> Iterator[None]:
    """The interpreter's settings as they were before the test."""
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    yield
    gc.set_threshold(*threshold)
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("restored")
def test_serving_tunes_switching_and_the_young_collector_only() -> None:
    """Threads switch every 0.5 ms; the youngest generation waits longer, the older as before."""
    gc.set_threshold(PYTHON_DEFAULT, 11, 12)
    server.tune()
    assert sys.getswitchinterval() == pytest.approx(server.SWITCH_INTERVAL_S)
    assert gc.get_threshold() == (server.GC_YOUNG_THRESHOLD, 11, 12)


@pytest.mark.usefixtures("restored")
def test_a_seed_call_keeps_fewer_objects_alive_than_the_young_threshold() -> None:
    """Composing the seed with the memo off: over 700 objects alive, well under the threshold."""
    xr = load(SEED)
    data = documents.request(xr, converged_observed(xr), platform_input()).SerializeToString()
    gc.set_threshold(10**9)
    gc.collect()
    read = shallow.parse(data)
    before = gc.get_count()[0]
    made = fn.outcome(shallow.request(read), observed=shallow.Views(read.observed.resources))
    alive = gc.get_count()[0] - before
    assert made.fatal is None
    assert PYTHON_DEFAULT < alive < server.GC_YOUNG_THRESHOLD // 2, alive


@pytest.mark.usefixtures("restored")
def test_a_call_leaves_no_cycles_for_the_collector() -> None:
    """Composing and reading shallowly leave nothing only the collector could free.

    So the collector waiting longer (``GC_YOUNG_THRESHOLD``) holds no garbage back; the
    message classes of the shallow types were such garbage until they were held.
    """
    xr = load(SEED)
    data = documents.request(xr, converged_observed(xr), platform_input()).SerializeToString()
    runner = fn.FunctionRunner()

    def call() -> None:
        answering = runner.answer(data, None)
        with pytest.raises(StopIteration):
            answering.send(None)

    gc.set_threshold(10**9)
    call()
    gc.collect()
    call()
    assert gc.collect() == 0
