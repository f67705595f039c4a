"""Every example through ``crossplane composition render``, round after round, and validated.

Each example (examples/<case>/) is rendered as a legacy XR with the legacy Composition and
as a Crossplane v2 namespaced XR with the v2 Composition (as tests/test_simulate.py runs
them), by Crossplane core's own render engine calling the served function. Between rounds
the provider emulation stands in for the providers. Crossplane's view must agree with
``simulate`` at every round, and ``crossplane resource validate`` must accept everything of
every round: the composed resources as rendered, the manifests inside provider-kubernetes
Objects, the objects as the emulated providers report them (status included), and the XR
as applied with the status core gave it, against its XRD. And each folder's command in
examples/README.md, run as written, prints what the README says it prints.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import examples_readme
import pytest
from conftest import (
    COMPOSITIONS,
    EXAMPLES,
    ROOT,
    as_shape,
    case_name,
    example_cases,
    example_files,
    load,
    platform_input,
)

from realtools import summary
from realtools.converge import Convergence, converge
from realtools.crank import write_documents
from realtools.project import Simulated, simulated

if TYPE_CHECKING:
    from pathlib import Path

    from realtools.crank import Crank

# Shape -> (Composition, XRD): the pair Crossplane would use for that kind of XR.
SHAPES = {
    "legacy": (COMPOSITIONS / "composition-legacy.yaml", ROOT / "xrds" / "xrd-legacy.yaml"),
    "namespaced": (COMPOSITIONS / "composition-v2.yaml", ROOT / "xrds" / "xrd-v2.yaml"),
}
# One xdist group per case: its tests share one rendering, on one worker (make test: -n 2).
CASES = [
    pytest.param(
        path,
        shape,
        id=f"{case_name(path)}-{shape}",
        marks=pytest.mark.xdist_group(f"{case_name(path)}-{shape}"),
    )
    for path in example_files()
    for shape in SHAPES
]
# Shape -> the kinds its XRD serves that examples are written as.
SERVED_BY = {"legacy": {"VClusterEnvironmentClaim"}, "namespaced": {"VClusterEnvironment"}}
OBJECT_GROUPS = ("kubernetes.crossplane.io/", "kubernetes.m.crossplane.io/")


@pytest.fixture(scope="session")
def _rendered() -> dict[tuple[Path, str], Convergence]:
    return {}


@pytest.fixture
def rendered(
    renderer: Crank, _rendered: dict[tuple[Path, str], Convergence], path: Path, shape: str
) -> Convergence:
    """Every round of this example in this shape, rendered once per session (per worker)."""
    if (path, shape) not in _rendered:
        _rendered[path, shape] = converge(renderer, as_shape(load(path), shape), SHAPES[shape][0])
    return _rendered[path, shape]


@cache
def _simulated(path: Path, shape: str) -> Simulated:
    return simulated(as_shape(load(path), shape), platform_input())


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_converges_without_dropping(rendered: Convergence) -> None:
    """Core marks the XR Ready once nothing is held back, and no round drops a resource."""
    summary.record("examples rendered")
    summary.record("rounds", len(rendered.rounds))
    assert rendered.converged, [r.rendered.status.get("pending") for r in rendered.rounds[-2:]]
    assert [f"round {r.number}: {r.dropped}" for r in rendered.rounds if r.dropped] == []
    final = rendered.rounds[-1].rendered
    assert final.ready_condition["reason"] == "Available"
    assert final.status["ready"] is True
    assert final.status["pending"] == []
    # Every round before the last was still waiting on something.
    assert not any(r.rendered.xr_ready and not r.created for r in rendered.rounds[:-1])


def _differences(rendered: Convergence, expected: Simulated) -> list[str]:
    """Where Crossplane's view of each round differs from simulate's, one line per difference."""
    found = []
    if len(rendered.rounds) != len(expected.rounds):
        found.append(f"rounds: render {len(rendered.rounds)}, simulate {len(expected.rounds)}")
    for ours, theirs in zip(rendered.rounds, expected.rounds, strict=False):
        crank = ours.rendered
        where = f"round {ours.number}"
        if crank.status != theirs.status:
            found.append(f"{where} XR status: render {crank.status} != simulate {theirs.status}")
        if crank.xr_ready != theirs.xr_ready:
            found.append(f"{where} XR ready: render {crank.xr_ready}, simulate {theirs.xr_ready}")
        if sorted(crank.composed) != sorted(theirs.desired):
            found.append(
                f"{where} composed: render {sorted(crank.composed)}, "
                f"simulate {sorted(theirs.desired)}"
            )
        for key in sorted(set(crank.composed) & set(theirs.desired)):
            found.extend(
                f"{where} {key}: {what}"
                for what in _resource_differences(
                    crank.composed[key], crank.ready[key], theirs.desired[key], theirs.ready[key]
                )
            )
    return found


def _resource_differences(
    crank: dict[str, Any], crank_ready: bool, simulate: dict[str, Any], simulate_ready: bool
) -> list[str]:
    found = [
        f"{field} render {crank.get(field)!r}, simulate {simulate.get(field)!r}"
        for field in ("apiVersion", "kind", "spec")
        if crank.get(field) != simulate.get(field)
    ]
    if crank_ready != simulate_ready:
        found.append(f"ready render {crank_ready}, simulate {simulate_ready}")
    # The metadata the function sets must reach the cluster unchanged; core only adds to it.
    crank_meta, simulate_meta = crank.get("metadata") or {}, simulate.get("metadata") or {}
    for part in ("labels", "annotations"):
        theirs = simulate_meta.get(part) or {}
        ours = {k: v for k, v in (crank_meta.get(part) or {}).items() if k in theirs}
        if ours != theirs:
            found.append(f"metadata.{part} render {ours}, simulate {theirs}")
    if simulate_meta.get("namespace") != crank_meta.get("namespace"):
        found.append(f"namespace render {crank_meta.get('namespace')!r}")
    return found


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_agrees_with_simulate(rendered: Convergence, path: Path, shape: str) -> None:
    """Crossplane's view matches simulate's at every round.

    The XR status and readiness, the composed resources (names, apiVersions, kinds, specs
    and the function's labels and annotations) and each resource's readiness.
    """
    expected = _simulated(path, shape)
    assert expected.converged
    assert _differences(rendered, expected) == []


def _embedded(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest a provider-kubernetes Object applies, if ``body`` is one."""
    if body.get("kind") != "Object" or not str(body.get("apiVersion")).startswith(OBJECT_GROUPS):
        return []
    return [body["spec"]["forProvider"]["manifest"]]


def _every_round(rendered: Convergence, path: Path, shape: str) -> dict[str, list[Any]]:
    """What to validate, by what it is; each entry a (round, key, document)."""
    written = load(path)
    applied = as_shape(written, shape)
    groups: dict[str, list[Any]] = {"composed": [], "embedded": [], "observed": [], "xr": []}
    # The example as a user applies it (a claim, or a v2 XR), against the XRD that serves it.
    if written["kind"] in SERVED_BY[shape]:
        groups["xr"].append((0, "as written", written))
    for r in rendered.rounds:
        for key, body in sorted(r.rendered.composed.items()):
            groups["composed"].append((r.number, key, body))
            groups["embedded"].extend((r.number, key, e) for e in _embedded(body))
            groups["observed"].append((r.number, key, r.observed_after[key]))
        groups["xr"].append((r.number, "XR", {**applied, "status": r.rendered.xr["status"]}))
    return groups


@pytest.mark.parametrize(("path", "shape"), CASES)
def test_every_round_validates(
    rendered: Convergence,
    renderer: Crank,
    *,
    schemas: list[Path],
    tmp_path: Path,
    path: Path,
    shape: str,
) -> None:
    """``crossplane resource validate`` accepts every document of every round, in one call."""
    groups = _every_round(rendered, path, shape)
    entries = [(group, *entry) for group, items in groups.items() for entry in items]
    for index, (_, _, _, document) in enumerate(entries):
        write_documents(tmp_path / f"{index:05d}.yaml", [document])
    results = renderer.validate([*schemas, SHAPES[shape][1]], tmp_path)
    # Results come in file order; check it rather than assume it.
    assert [(r["apiVersion"], r["kind"]) for r in results] == [
        (e[3]["apiVersion"], e[3]["kind"]) for e in entries
    ]
    problems = [
        f"{group} round {number} {key} ({result['kind']}): {result['status']} "
        f"{json.dumps(result.get('errors', []))}"
        for (group, number, key, _), result in zip(entries, results, strict=True)
        if result["status"] != "valid"
    ]
    assert problems == []
    summary.record("resources validated", len(groups["composed"]))


@pytest.mark.parametrize("case", example_cases(), ids=lambda p: p.name)
def test_readme_command_prints_its_excerpt(renderer: Crank, case: Path) -> None:
    """The folder's command in examples/README.md, run from the root, prints the excerpt there.

    The documented functions.yaml differs from this session's only in the address it dials.
    """
    doc = examples_readme.documented()[case.name]
    assert (ROOT / doc.functions).resolve() == EXAMPLES / "functions.yaml"
    rendered = renderer.render_files(doc.xr, doc.composition, doc.observed, cwd=ROOT)
    assert examples_readme.summary(rendered.xr, rendered.composed) == doc.prints
    summary.record("examples rendered")
