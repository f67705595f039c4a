"""Claims and XRs through real Crossplane core to Ready, their connection secrets, deletion.

The function runs as an installed Function package (served over mTLS in the control
plane's namespace), the XRDs and Compositions are the shipped ones, and a provider emulation
(``providerloop``, around part A's pure ``emulation``) writes what the providers would
report. Every example below is applied at once in one control plane. Each must become Ready
with a complete ``status.apiGateway``; each legacy claim must receive its connection secret;
deleting them must remove every composed resource, each resource a Usage protects outliving
the resources that use it.
"""

from __future__ import annotations

import base64
import copy
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from conftest import EXAMPLES, load

from realtools import e2e, kube, summary, timings
from realtools.composed import manifest_of

if TYPE_CHECKING:
    from realtools.controlplane import ControlPlane
    from realtools.fnpackage import InstalledFunction
    from realtools.providerloop import ProviderEmulator

pytestmark = pytest.mark.xdist_group("controlplane")

# Examples applied as written: legacy claims (the seed, apps, a custom domain, a shared
# listener and VPC link) and v2 XRs (Istio and Gateway API ingress).
# Label -> the file under examples/.
EXAMPLE_NAMES = {
    "claim-seed": "seed/claim.yaml",
    "claim-apps": "apps/claim.yaml",
    "claim-custom-domain": "custom-domain/claim.yaml",
    "claim-byo": "byo/claim.yaml",
    "xr-v2": "v2/xr.yaml",
    "xr-gatewayapi": "gatewayapi/xr.yaml",
}
TENANTS = ("tenant-a", "tenant-b")
TENANT_SPEC_NAME = "shared-env"
READY_TIMEOUT_S = 420.0
DELETE_TIMEOUT_S = 180.0
SECRET_SUFFIX = "-connection"  # noqa: S105  # a name, not a credential


def _as_applied(document: dict[str, Any]) -> dict[str, Any]:
    """A claim asks for its connection secret; an XR is applied as written."""
    applied = copy.deepcopy(document)
    if applied["kind"] == e2e.CLAIM_KIND:
        name = applied["metadata"]["name"]
        applied["spec"]["writeConnectionSecretToRef"] = {"name": f"{name}{SECRET_SUFFIX}"}
    return applied


def _tenant(namespace: str) -> dict[str, Any]:
    """The seed claim in a tenant's namespace, both tenants choosing one spec.name."""
    claim = _as_applied(load(EXAMPLES / "seed" / "claim.yaml"))
    claim["metadata"]["namespace"] = namespace
    claim["spec"]["name"] = TENANT_SPEC_NAME
    return claim


@pytest.fixture(scope="module")
def converged(
    control_plane: ControlPlane, installed_function: InstalledFunction, emulator: ProviderEmulator
) -> dict[str, e2e.Environment]:
    """Every example and both tenants, applied at once and waited for until Ready."""
    assert emulator.errors == []
    environments = [
        e2e.Environment(name, _as_applied(load(EXAMPLES / path)))
        for name, path in EXAMPLE_NAMES.items()
    ]
    environments += [
        e2e.Environment(tenant, _tenant(tenant), must_become_ready=False) for tenant in TENANTS
    ]
    control_plane.client.ensure_namespaces(env.namespace for env in environments)
    e2e.converge(control_plane.client, environments, installed_function, READY_TIMEOUT_S)
    record = control_plane.workdir / "logs" / "environments.yaml"
    record.write_text(
        yaml.safe_dump_all(
            [e.claim or {} for e in environments] + [e.xr or {} for e in environments]
        ),
        encoding="utf-8",
    )
    timings.note(
        "provider emulation", f"{emulator.writes} status writes, {emulator.retried} retried"
    )
    core = next(p for p in control_plane.netns.processes if p.label == "crossplane-core")
    trips = dict(e2e.breaker_trips(core.log))
    timings.note("circuit breaker held XRs back, tripped by", str(trips))
    for environment in environments:
        if environment.ready_after is not None:
            timings.record(
                f"{environment.label}: Ready after {environment.calls_at_ready} RunFunction calls",
                environment.ready_after,
            )
    return {environment.label: environment for environment in environments}


@pytest.mark.parametrize("label", EXAMPLE_NAMES)
def test_becomes_ready_with_api_gateway_status(
    converged: dict[str, e2e.Environment], emulator: ProviderEmulator, label: str
) -> None:
    assert e2e.readiness_gaps(converged[label]) == [], f"after {READY_TIMEOUT_S:.0f}s"
    assert emulator.errors == []
    # Counted by the server (realtools.fnserve): none would mean the count is broken.
    assert (converged[label].calls_at_ready or 0) > 0, "RunFunction calls were not counted"
    summary.record("end-to-end Ready")


@pytest.mark.parametrize("label", [n for n in EXAMPLE_NAMES if n.startswith("claim-")])
def test_claim_receives_connection_secret(
    control_plane: ControlPlane, converged: dict[str, e2e.Environment], label: str
) -> None:
    """The claim's writeConnectionSecretToRef receives the endpoint.

    It needs the legacy Composition's writeConnectionSecretsToNamespace: Crossplane v2
    writes no connection secret for a legacy XR otherwise.
    """
    environment = converged[label]
    ref = environment.document["spec"]["writeConnectionSecretToRef"]

    def secret() -> dict[str, Any] | None:
        found = control_plane.client.get("v1", "Secret", ref["name"], environment.namespace)
        return found if found and (found.get("data") or {}).get("endpoint") else None

    written = kube.wait_until(f"secret {ref['name']}", secret, timeout=30)
    endpoint = base64.b64decode(written["data"]["endpoint"]).decode()
    assert endpoint == ((environment.xr or {}).get("status") or {})["apiGateway"]["endpoint"]


def _identities(control_plane: ControlPlane, environment: e2e.Environment) -> set[tuple[str, ...]]:
    """What must be unique outside the XR: host-cluster objects, Helm releases, AWS names."""
    found: set[tuple[str, ...]] = set()
    client = control_plane.client
    for ref in environment.composed():
        body = (
            client.get(ref["apiVersion"], ref["kind"], ref["name"], ref["metadata"]["namespace"])
            or {}
        )
        metadata = body.get("metadata") or {}
        for_provider = (body.get("spec") or {}).get("forProvider") or {}
        external = (metadata.get("annotations") or {}).get("crossplane.io/external-name")
        if (manifest := manifest_of(body)) is not None:
            meta = manifest.get("metadata") or {}
            found.add(("object", manifest["kind"], meta.get("namespace", ""), meta["name"]))
        elif body.get("kind") == "Release":
            # A release is one per cluster: the ProviderConfig says which (the host, or the
            # tenant's own vCluster for Grafana and Prometheus).
            cluster = ((body.get("spec") or {}).get("providerConfigRef") or {}).get("name", "")
            release = external or metadata["name"]
            found.add(("release", cluster, for_provider.get("namespace", ""), release))
        elif for_provider.get("name") and body.get("kind") in {"LB", "LBTargetGroup"}:
            found.add(("aws", body["kind"], for_provider["region"], for_provider["name"]))
    return found


def test_two_tenants_with_one_name_do_not_collide(
    control_plane: ControlPlane, converged: dict[str, e2e.Environment]
) -> None:
    """Two namespaces, one spec.name: the second refused, or the two kept apart.

    Names are unique by construction (README, Security): both become Ready and share no
    host namespace, Helm release, object or AWS load balancer name.
    """
    first, second = (converged[tenant] for tenant in TENANTS)
    shared = _identities(control_plane, first) & _identities(control_plane, second)
    refusals = [
        kube.condition(env.xr, "Synced").get("message", "")
        for env in (first, second)
        if "spec.name" in kube.condition(env.xr, "Synced").get("message", "")
    ]
    timings.note(
        "two tenants, one spec.name",
        f"Ready: {[env.ready_after is not None for env in (first, second)]}; "
        f"refused: {refusals}; shared names: {sorted(shared)}",
    )
    assert refusals or not shared


@pytest.fixture(scope="module")
def deleted(
    control_plane: ControlPlane, converged: dict[str, e2e.Environment], emulator: ProviderEmulator
) -> dict[str, e2e.Deletion]:
    """Every environment deleted at once (the providers still emulated), and how it went."""
    assert emulator.errors == []
    deletions = e2e.delete(
        control_plane.client, list(converged.values()), control_plane.audit_log, DELETE_TIMEOUT_S
    )
    for label, deletion in deletions.items():
        if deletion.seconds is not None:
            timings.record(f"{label}: deleted with all it composed", deletion.seconds)
    return deletions


@pytest.mark.parametrize("label", EXAMPLE_NAMES)
def test_deletion_follows_usages(deleted: dict[str, e2e.Deletion], label: str) -> None:
    deletion = deleted[label]
    assert deletion.problems() == [], f"after {DELETE_TIMEOUT_S:.0f}s"
    timings.note(f"{label}: deletion order", ", ".join(deletion.order()))
    timings.note(f"{label}: deletions refused while in use", str(deletion.refusals()))
    summary.record("deletions complete")


def test_deletion_keeps_namespace_and_certificate_until_their_users_go(
    deleted: dict[str, e2e.Deletion],
) -> None:
    early = [
        f"{label}: {early}"
        for label in EXAMPLE_NAMES
        for early in deleted[label].early(e2e.MUST_OUTLIVE)
    ]
    timings.note("deleted before their users", "; ".join(early) or "none")
    assert early == []
