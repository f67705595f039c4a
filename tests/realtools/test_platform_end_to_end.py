"""The environment inside bigger platform APIs, under real Crossplane core, end to end.

``examples/platform-team``: the Team XRD and its Composition (function-go-templating) compose
a ``VClusterEnvironment`` XR, which our Composition composes in turn, and a ConfigMap.
``examples/pipeline-steps``: our function between two go-templating steps. Both run in the
control plane the other control-plane suites use, after them (one xdist group):
function-go-templating is served over mTLS next to ours and installed the same way, and the
same provider emulation plays AWS, Helm and Kubernetes. Both XRs are applied at once, must
become Ready with the environment's endpoint where the example reports it, and deleting
them must remove everything they composed, nested XRs' resources included, in Usage order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from conftest import EXAMPLES, load, platform_input

from realtools import e2e, fnpackage, install, summary, timings
from realtools.project import simulated

if TYPE_CHECKING:
    from realtools.controlplane import ControlPlane
    from realtools.fnpackage import InstalledFunction
    from realtools.providerloop import ProviderEmulator

pytestmark = pytest.mark.xdist_group("controlplane")

TEAM = EXAMPLES / "platform-team"
PIPELINE = EXAMPLES / "pipeline-steps"
EXAMPLES_APPLIED = {"team": TEAM, "pipeline": PIPELINE}
PIPELINE_KEYS = {"cost-allocation", "inventory"}  # what the other two steps compose
TEAM_KEYS = {"environment", "team-info"}
COST_CENTER = "cc-1234"  # what the pipeline's first step writes, and passes on as context
READY_TIMEOUT_S = 420.0
DELETE_TIMEOUT_S = 180.0


@pytest.fixture(scope="module")
def platform_apis(
    control_plane: ControlPlane, installed_function: InstalledFunction
) -> dict[str, install.XrdOutcome]:
    """function-go-templating installed, the Team XRD, and both examples' Compositions."""
    assert installed_function.server.running()
    fnpackage.install_go_templating(control_plane)
    outcomes = install.xrds(control_plane, [TEAM / "xrd.yaml"])
    for example in EXAMPLES_APPLIED.values():
        control_plane.client.apply(load(example / "composition.yaml"))
    return outcomes


@pytest.fixture(scope="module")
def converged(
    control_plane: ControlPlane,
    installed_function: InstalledFunction,
    platform_apis: dict[str, install.XrdOutcome],
    emulator: ProviderEmulator,
) -> dict[str, e2e.Environment]:
    """The Team and the pipeline XR, applied at once and waited for until Ready."""
    refused = {name: o.warnings for name, o in platform_apis.items() if o.seconds is None}
    assert not refused, f"XRDs not Established: {refused}"
    environments = [
        e2e.Environment(label, load(example / "xr.yaml"))
        for label, example in EXAMPLES_APPLIED.items()
    ]
    control_plane.client.ensure_namespaces(env.namespace for env in environments)
    e2e.converge(control_plane.client, environments, installed_function, READY_TIMEOUT_S)
    for environment in environments:
        if environment.ready_after is not None:
            timings.record(f"platform {environment.label}: Ready", environment.ready_after)
    assert emulator.errors == []
    return {environment.label: environment for environment in environments}


def _nested(control_plane: ControlPlane, team: e2e.Environment) -> e2e.Environment:
    """The VClusterEnvironment the Team composed, as it is now."""
    body = team.live(control_plane.client)["environment"]
    nested = e2e.Environment("team environment", body)
    nested.refresh(control_plane.client)
    return nested


def test_team_becomes_ready_with_the_environment_endpoint(
    control_plane: ControlPlane, converged: dict[str, e2e.Environment]
) -> None:
    """The nested environment is Ready, and the Team Ready with its endpoint in status."""
    team = converged["team"]
    assert team.ready, f"Team not Ready after {READY_TIMEOUT_S:.0f}s: {team.xr}"
    nested = _nested(control_plane, team)
    assert e2e.readiness_gaps(nested) == []
    endpoint = (nested.xr or {})["status"]["apiGateway"]["endpoint"]
    assert (team.xr or {})["status"]["environment"] == {"ready": True, "endpoint": endpoint}
    summary.record("end-to-end Ready", 2)


def test_team_composes_its_environment_from_its_spec(
    control_plane: ControlPlane, converged: dict[str, e2e.Environment]
) -> None:
    """The Team composes its environment block as a VClusterEnvironment, and its ConfigMap."""
    team = converged["team"]
    live = team.live(control_plane.client)
    assert set(live) == TEAM_KEYS
    spec = dict(live["environment"]["spec"])
    spec.pop("crossplane", None)  # core's own: the composition it chose, its resources
    wanted = team.document["spec"]["environment"]
    assert {key: spec.get(key) for key in wanted} == wanted
    assert live["team-info"]["data"] == {
        "owner": team.document["spec"]["owner"],
        "environment": wanted["name"],
    }


def _simulated_keys(xr: dict[str, Any]) -> set[str]:
    """What our function alone composes for ``xr`` once it has converged."""
    result = simulated(xr, platform_input())
    assert result.converged
    return set(result.rounds[-1].desired)


def test_pipeline_becomes_ready_with_every_steps_resources(
    control_plane: ControlPlane, converged: dict[str, e2e.Environment]
) -> None:
    """Our resources and the other steps' are all there; context reached the last step."""
    pipeline = converged["pipeline"]
    assert e2e.readiness_gaps(pipeline) == [], f"after {READY_TIMEOUT_S:.0f}s"
    live = pipeline.live(control_plane.client)
    assert set(live) == _simulated_keys(pipeline.document) | PIPELINE_KEYS
    assert live["cost-allocation"]["data"] == {
        "costCenter": COST_CENTER,
        "environment": pipeline.document["spec"]["name"],
    }
    inventory = live["inventory"]["data"]
    assert inventory["costCenter"] == COST_CENTER
    assert inventory["composed"].split(",") == sorted(set(live) - {"inventory"})
    summary.record("end-to-end Ready")


@pytest.fixture(scope="module")
def deleted(
    control_plane: ControlPlane, converged: dict[str, e2e.Environment], emulator: ProviderEmulator
) -> dict[str, e2e.Deletion]:
    """Both XRs deleted at once (the providers still emulated), and how it went."""
    deletions = e2e.delete(
        control_plane.client, list(converged.values()), control_plane.audit_log, DELETE_TIMEOUT_S
    )
    for label, deletion in deletions.items():
        if deletion.seconds is not None:
            timings.record(f"platform {label}: deleted with all it composed", deletion.seconds)
        timings.note(f"platform {label}: deletion order", ", ".join(deletion.order()))
        timings.note(f"platform {label}: deletions refused while in use", str(deletion.refusals()))
    assert emulator.errors == []
    return deletions


@pytest.mark.parametrize("label", EXAMPLES_APPLIED)
def test_deletion_follows_usages(deleted: dict[str, e2e.Deletion], label: str) -> None:
    """Everything goes, nested resources too, no Usage's resource before its user."""
    deletion = deleted[label]
    assert deletion.problems() == [], f"after {DELETE_TIMEOUT_S:.0f}s"
    assert deletion.early(e2e.MUST_OUTLIVE) == []
    summary.record("deletions complete")


def test_deleting_the_team_deletes_its_environment_and_what_that_composed(
    deleted: dict[str, e2e.Deletion],
) -> None:
    """The Team's deletion covers the nested XR, its ConfigMap and the environment's AWS side."""
    went = {label.split(" ")[0] for label in deleted["team"].went_at()}
    assert {"VClusterEnvironment", "ConfigMap", "Usage", "Release", "API"} <= went
