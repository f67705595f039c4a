"""Every composed resource of every round of every example, dry-run on a real API server.

Each example runs through ``simulate`` as a legacy XR (cluster-scoped kinds) and as a v2
namespaced XR (namespaced kinds, in the XR's namespace); part A shows that ``crossplane
composition render`` agrees with ``simulate`` round by round. Every composed resource of
every round is created as a server-side dry run with strict field validation, so the
providers' real CRDs answer: OpenAPI schema, unknown fields (which the API server would
otherwise prune silently) and CEL rules such as ``spec.forProvider.region is a required
parameter``. The manifests inside provider-kubernetes Objects are dry-run too, against the
Istio, Gateway API and AWS Load Balancer Controller CRDs, in namespaces that exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from conftest import as_shape, case_name, example_files, load, platform_input

from realtools import summary
from realtools.composed import manifest_of
from realtools.kube import ApiError
from realtools.project import simulated

if TYPE_CHECKING:
    from pathlib import Path

    from realtools.controlplane import ControlPlane

pytestmark = pytest.mark.xdist_group("controlplane")

SHAPES = ("legacy", "namespaced")


def _as_created(body: dict[str, Any], xr_name: str) -> dict[str, Any]:
    """The object as core would create it: a generated name unless the function named it."""
    metadata = dict(body.get("metadata") or {})
    if not metadata.get("name"):
        metadata["generateName"] = f"{xr_name}-"
    return {**body, "metadata": metadata}


@pytest.mark.usefixtures("provider_crds")
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("path", example_files(), ids=case_name)
def test_every_round_is_admitted(control_plane: ControlPlane, path: Path, shape: str) -> None:
    client = control_plane.client
    xr = as_shape(load(path), shape)
    result = simulated(xr, platform_input())
    assert result.fatal is None
    assert result.converged
    xr_name = xr["metadata"]["name"]
    namespaces = {n for n in [xr["metadata"].get("namespace")] if n}
    for round_ in result.rounds:
        for body in round_.desired.values():
            manifest = manifest_of(body) or {}
            namespaces.update(n for n in [(manifest.get("metadata") or {}).get("namespace")] if n)
    client.ensure_namespaces(namespaces)
    refused: list[str] = []
    sent = 0
    for round_ in result.rounds:
        for key, body in round_.desired.items():
            where = f"round {round_.number} {key} ({body['kind']})"
            attempts = [(where, _as_created(body, xr_name), client.create)]
            if (manifest := manifest_of(body)) is not None:
                attempts.append(
                    (f"{where} manifest {manifest.get('kind')}", manifest, client.apply)
                )
            for label, obj, send in attempts:
                sent += 1
                try:
                    send(obj, dry_run=True)
                except ApiError as error:
                    refused.append(f"{label}: {error.message}")
    summary.record("objects dry-run", sent)
    assert refused == []


def _seed_api(shape: str) -> dict[str, Any]:
    """The seed claim's composed HTTP API, as the function renders it on the first call."""
    seed = next(p for p in example_files() if case_name(p) == "seed")
    first = simulated(as_shape(load(seed), shape), platform_input()).rounds[0]
    return dict(first.desired["api"])


@pytest.mark.usefixtures("provider_crds")
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        # A misspelt field: without strict validation the API server would prune it silently.
        pytest.param(
            lambda api: api["spec"]["forProvider"].update(protocolTyp="HTTP"),
            'unknown field "spec.forProvider.protocolTyp"',
            id="unknown-field",
        ),
        # The region is required by the schema itself.
        pytest.param(
            lambda api: api["spec"]["forProvider"].pop("region"),
            "spec.forProvider.region: Required value",
            id="missing-region",
        ),
        # Other required fields are enforced by the providers' CEL rules only.
        pytest.param(
            lambda api: api["spec"]["forProvider"].pop("protocolType"),
            "spec.forProvider.protocolType is a required parameter",
            id="missing-protocol-type",
        ),
    ],
)
def test_spoilt_resource_is_refused(
    control_plane: ControlPlane,
    shape: str,
    spoil: Any,
    message: str,
) -> None:
    """The dry run has teeth: the same resource, spoilt, is refused with the reason."""
    api = _seed_api(shape)
    namespace = (api.get("metadata") or {}).get("namespace")
    control_plane.client.ensure_namespaces([namespace] if namespace else [])
    control_plane.client.create(_as_created(api, "spoilt"), dry_run=True)
    spoil(api)
    with pytest.raises(ApiError, match=message):
        control_plane.client.create(_as_created(api, "spoilt"), dry_run=True)
