"""The environment inside bigger platform APIs, rendered by the real CLI and core.

``examples/platform-team``: a platform team's ``Team`` XR whose Composition (written with
function-go-templating, as a platform team would) composes a ``VClusterEnvironment`` and a
ConfigMap. ``examples/pipeline-steps``: our function between a step that adds a resource and
pipeline context and a step that reads our desired state.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import examples_readme
import pytest
from conftest import EXAMPLES, ROOT, load

from realtools import summary, toolbox, xpkg
from realtools.converge import converge
from realtools.crank import Crank, FunctionServer, write_documents

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TEAM = EXAMPLES / "platform-team"
PIPELINE = EXAMPLES / "pipeline-steps"
V2_COMPOSITION = ROOT / "compositions" / "composition-v2.yaml"
PIPELINE_KEYS = {"cost-allocation", "inventory"}  # what the other two steps compose

# One worker renders all of this module, so its go-templating server starts once.
pytestmark = pytest.mark.xdist_group("platform")


@pytest.fixture(scope="module")
def platform(
    renderer: Crank, function_server: FunctionServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crank]:
    """Render with both our served function and function-go-templating."""
    workdir = tmp_path_factory.mktemp("platform")
    templating = FunctionServer(
        workdir / "go-templating.log",
        name="function-go-templating",
        command=[str(toolbox.need("function-go-templating"))],
    ).start()
    try:
        functions = function_server.functions_file(workdir, templating)
        yield Crank(renderer.binary, workdir, core=renderer.core, functions=functions)
    finally:
        templating.stop()


def _observed_child(
    child: dict[str, Any], status: dict[str, Any], *, ready: bool
) -> dict[str, Any]:
    """The composed environment XR as the Team's render observes it: its status and Ready."""
    observed = copy.deepcopy(child)
    observed["status"] = {
        **status,
        "conditions": [
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "reason": "Available" if ready else "Creating",
                "lastTransitionTime": "2024-01-01T00:00:00Z",
            }
        ],
    }
    return observed


def test_team_composes_an_environment_from_its_spec(platform: Crank) -> None:
    """The parent hands its environment block to a VClusterEnvironment in its own namespace."""
    team = load(TEAM / "xr.yaml")
    rendered = platform.render(team, TEAM / "composition.yaml")
    assert set(rendered.composed) == {"environment", "team-info"}
    child = rendered.composed["environment"]
    assert (child["apiVersion"], child["kind"]) == (
        "platform.example.org/v1alpha1",
        "VClusterEnvironment",
    )
    assert child["metadata"]["namespace"] == team["metadata"]["namespace"]
    assert child["spec"] == team["spec"]["environment"]
    assert rendered.status == {"environment": {"ready": False}}
    assert not rendered.xr_ready
    summary.record("examples rendered")
    summary.record("rounds")


def test_team_and_its_environment_validate(platform: Crank, tmp_path: Path) -> None:
    """The Team as applied fits its XRD, and the environment it composes fits ours."""
    team = load(TEAM / "xr.yaml")
    rendered = platform.render(team, TEAM / "composition.yaml")
    write_documents(tmp_path / "team.yaml", [team, rendered.composed["environment"]])
    results = platform.validate([TEAM / "xrd.yaml", ROOT / "xrds" / "xrd-v2.yaml"], tmp_path)
    assert [(r["kind"], r["status"]) for r in results] == [
        ("Team", "valid"),
        ("VClusterEnvironment", "valid"),
    ], results
    summary.record("resources validated")


def test_team_reports_the_environment_endpoint(platform: Crank, renderer: Crank) -> None:
    """Once the nested environment converges, the Team is Ready and shows its endpoint."""
    team = load(TEAM / "xr.yaml")
    first = platform.render(team, TEAM / "composition.yaml")
    child = first.composed["environment"]
    nested = converge(renderer, child, V2_COMPOSITION)
    assert nested.converged
    final = nested.rounds[-1].rendered
    endpoint = final.status["apiGateway"]["endpoint"]
    observed = [
        _observed_child(child, final.status, ready=True),
        first.composed["team-info"],
    ]
    done = platform.render(team, TEAM / "composition.yaml", observed)
    assert done.status == {"environment": {"ready": True, "endpoint": endpoint}}
    assert done.xr_ready
    waiting = platform.render(
        team,
        TEAM / "composition.yaml",
        [_observed_child(child, nested.rounds[0].rendered.status, ready=False), observed[1]],
    )
    assert not waiting.xr_ready
    assert waiting.status["environment"]["ready"] is False
    summary.record("rounds", len(nested.rounds) + 2)


def test_pipeline_keeps_other_steps_resources(platform: Crank, renderer: Crank) -> None:
    """Every round, our answer in a pipeline is our answer alone plus the other steps' own.

    The step before ours adds a ConfigMap and pipeline context; the step after reads what we
    composed. Our resources are the same as with our Composition alone, the earlier step's
    resource passes through untouched, and its context reaches the later step through us.
    """
    xr = load(PIPELINE / "xr.yaml")
    result = converge(platform, xr, PIPELINE / "composition.yaml")
    assert result.converged
    for step in result.rounds:
        rendered = step.rendered
        alone = renderer.render(
            xr,
            V2_COMPOSITION,
            [body for key, body in step.observed_before.items() if key not in PIPELINE_KEYS],
        )
        ours = {k: v for k, v in rendered.composed.items() if k not in PIPELINE_KEYS}
        assert ours == alone.composed, f"round {step.number}"
        assert rendered.composed["cost-allocation"]["data"] == {
            "costCenter": "cc-1234",
            "environment": xr["spec"]["name"],
        }
        inventory = rendered.composed["inventory"]["data"]
        assert inventory["costCenter"] == "cc-1234"
        assert inventory["composed"].split(",") == sorted(set(rendered.composed) - {"inventory"})
        for key in ("apiGateway", "vcluster", "ready", "pending"):
            assert rendered.status.get(key) == alone.status.get(key), f"round {step.number}: {key}"
    summary.record("examples rendered")
    summary.record("rounds", len(result.rounds))


@pytest.mark.parametrize("example", [TEAM, PIPELINE], ids=lambda path: path.name)
def test_example_functions_file_serves_every_step(example: Path) -> None:
    """Each example's functions.yaml, for a reader's own render, names every function called."""
    steps = {
        s["functionRef"]["name"] for s in load(example / "composition.yaml")["spec"]["pipeline"]
    }
    served = {
        d["metadata"]["name"] for d in xpkg.documents((example / "functions.yaml").read_bytes())
    }
    assert served == steps


def test_pipeline_runs_our_step_as_shipped() -> None:
    """The pipeline example calls our function with the shipped v2 Composition's own input."""
    ours = [
        s
        for s in load(PIPELINE / "composition.yaml")["spec"]["pipeline"]
        if s["functionRef"]["name"] == "function-vcluster-environment"
    ]
    assert ours == load(V2_COMPOSITION)["spec"]["pipeline"]


@pytest.mark.parametrize("example", [TEAM, PIPELINE], ids=lambda path: path.name)
def test_readme_command_prints_its_excerpt(platform: Crank, example: Path) -> None:
    """The folder's command in examples/README.md, run from the root, prints the excerpt there.

    Both functions are served here; the documented functions.yaml differs only in addresses.
    """
    doc = examples_readme.documented()[example.name]
    rendered = platform.render_files(doc.xr, doc.composition, doc.observed, cwd=ROOT)
    assert examples_readme.summary(rendered.xr, rendered.composed) == doc.prints
    summary.record("examples rendered")
