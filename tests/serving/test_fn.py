"""The servicer's conversion: an Outcome becomes a response that keeps others' state."""

from __future__ import annotations

from conftest import SEED, load, platform_input

from function.compose import compose
from function.offline import documents
from function.serving import fn

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
