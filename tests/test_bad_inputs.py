"""The catalogue of bad inputs: each gives exactly one Fatal result with an exact message."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SEED, load

from function.offline import documents
from function.serving import fn

CATALOGUE = Path(__file__).parent / "data" / "bad-inputs.yaml"
CASES = yaml.safe_load(CATALOGUE.read_text())
# Values too long to write out, by the placeholder that stands for each in the catalogue.
LONG = {
    "PATH_1025": "/" + "p" * 1024,
    "PREFIX_254": "p" * 254,
    "ORIGIN_268": "https://" + "o" * 260,
    "IDENTITY_257": "$request.header." + "h" * 241,
    "RETRY_ON_257": "5xx," + "r" * 253,
    "LISTENER_257": "arn:aws:elasticloadbalancing:us-"
    + "a" * 161
    + "-1:123456789012:listener/net/a/0123456789abcdef/0123456789abcdef",
}


def _expand(value: Any) -> Any:
    """A catalogue value with every placeholder of ``LONG`` written out, in keys too."""
    if isinstance(value, dict):
        return {_expand(key): _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    if isinstance(value, str):
        for placeholder, text in LONG.items():
            value = value.replace(placeholder, text)
    return value


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        elif value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def _composite(case: dict[str, Any]) -> dict[str, Any]:
    if "xr" in case:
        xr = copy.deepcopy(case["xr"])
        if xr.get("metadata", {}).get("name") == "XR_NAME_HUGE":
            xr["metadata"]["name"] = "x" * 100_000
        return xr
    patch = copy.deepcopy(case.get("spec") or {})
    if patch.get("name") == "HUGE":
        patch["name"] = "a" * 5_000_000
    if patch.get("apiGateway", {}).get("jwt", {}).get("audiences") == ["AUDIENCE"]:
        patch["apiGateway"]["jwt"]["audiences"] = ["a" * 257]
    if patch.get("apps") == "MANY":
        patch["apps"] = [
            {"name": f"app{i}", "service": f"svc{i}", "pathPrefix": f"/p{i}"} for i in range(301)
        ]
    spec = _merge(copy.deepcopy(load(SEED)["spec"]), patch)
    return {"apiVersion": "platform.example.org/v1alpha1", "kind": "XVClusterEnvironment",
            "metadata": {"name": "x"}, "spec": spec}  # fmt: skip


def test_catalogue_is_large_enough() -> None:
    """The catalogue covers at least 40 distinct bad inputs, each with a reason."""
    assert len(CASES) >= 40
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert all(c.get("reason") for c in CASES)


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_bad_input_gives_one_fatal(case: dict[str, Any]) -> None:
    """Every bad input is refused with one Fatal naming the field, and composes nothing."""
    req = documents.request(_expand(_composite(case)), {}, _expand(case.get("input")))
    rsp = fn.run(req)
    fatals = [r for r in rsp.results if r.severity == fn.fnv1.SEVERITY_FATAL]
    assert [r.message for r in fatals] == [case["message"]], case["reason"]
    assert len(rsp.results) == 1
    assert not rsp.desired.resources


def test_fatal_keeps_earlier_desired_state() -> None:
    """A Fatal result passes on what earlier pipeline steps desired instead of wiping it."""
    req = documents.request({"metadata": {"name": "x"}}, {}, None)
    req.desired.resources["from-earlier-step"].resource.update({"kind": "ConfigMap"})
    rsp = fn.run(req)
    fatals = [r for r in rsp.results if r.severity == fn.fnv1.SEVERITY_FATAL]
    assert len(fatals) == 1, "the nameless XR must be refused"
    assert "from-earlier-step" in rsp.desired.resources
    assert rsp.desired.resources["from-earlier-step"].resource["kind"] == "ConfigMap"
