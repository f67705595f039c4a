"""What the control-plane suites install: the providers' CRDs, then the project's own APIs.

The providers' CRDs come from the shared snapshot, every kind of both API groups (not the
vCluster chart's files). Crossplane's own (``crds/crossplane``) are the files ``core init``
already installed from ``crossplane-core/crds``, byte for byte; applying them again would
put back the XRD CRD's conversion webhook that core init turns off, so they are checked,
not applied. provider-kubernetes' cluster-scoped Object CRD names a conversion webhook that
only its package manager fills in; with no provider running it is applied with
``conversion: {strategy: None}``.

Then the function's input CRD, the XRDs exactly as shipped in xrds/ (Crossplane core
derives the XR and claim CRDs from them, which is where the API server checks CEL cost) and
the Compositions.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import crdfiles
import yaml
from conftest import COMPOSITIONS, ROOT

from realtools import kube, timings, toolbox

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from realtools.controlplane import ControlPlane

CRD_API = "apiextensions.k8s.io/v1"
XRD_API = "apiextensions.crossplane.io/v1"
ESTABLISH_TIMEOUT_S = 120.0
NOT_CRDS = crdfiles.NOT_COMPOSED
# How a refused derived CRD shows in the XRD's Warning events.
REFUSED = "is invalid"
INSTALLED_BY_CORE = "crossplane"
XRDS = (ROOT / "xrds" / "xrd-legacy.yaml", ROOT / "xrds" / "xrd-v2.yaml")
INPUT_CRDS = ROOT / "package" / "input"


def load(path: Path) -> dict[str, Any]:
    """The one YAML document of a file."""
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    assert isinstance(loaded, dict), path
    return loaded


def shared_crd_files(*, core: bool) -> list[Path]:
    """The snapshot's CRD files: the providers' (``core=False``) or Crossplane's own.

    The providers' include the CRDs the tests derive where the snapshot lacks them
    (``crdfiles``: the egress rule kinds), so that the dry runs meet them too.
    """
    crds = toolbox.shared_dir() / "crds"
    folders = {folder.name for folder in crds.iterdir() if folder.is_dir()} - NOT_CRDS
    if core:
        return crdfiles.crd_files(crds, folders={INSTALLED_BY_CORE})
    return crdfiles.crd_files(crds, folders=folders - {INSTALLED_BY_CORE})


def _without_conversion_webhook(crd: dict[str, Any]) -> dict[str, Any]:
    if (crd["spec"].get("conversion") or {}).get("strategy") == "Webhook":
        crd["spec"]["conversion"] = {"strategy": "None"}
    return crd


def _established(client: kube.Kube, names: set[str]) -> bool:
    live = {c["metadata"]["name"]: c for c in client.list(CRD_API, "CustomResourceDefinition")}
    return all(kube.is_true(live.get(name), "Established") for name in names)


def provider_crds(plane: ControlPlane) -> list[str]:
    """Apply every provider CRD; wait until they and Crossplane's own are all Established.

    Returns the names of all the snapshot's CRDs.
    """
    client = plane.client
    began = time.monotonic()
    names = {load(path)["metadata"]["name"] for path in shared_crd_files(core=True)}
    for path in shared_crd_files(core=False):
        crd = _without_conversion_webhook(load(path))
        client.apply(crd)
        names.add(crd["metadata"]["name"])
    kube.wait_until(
        "the snapshot's CRDs to be Established",
        lambda: _established(client, names),
        ESTABLISH_TIMEOUT_S,
        interval=0.5,
    )
    timings.record(f"{len(names)} CRDs of the snapshot Established", time.monotonic() - began)
    return sorted(names)


def xrd_warnings(client: kube.Kube, name: str) -> list[str]:
    """The Warning events of an XRD: the only place a refused derived CRD shows."""
    events = client.list("v1", "Event", labels=None)
    return sorted(
        {
            str(e.get("message"))
            for e in events
            if e.get("type") == "Warning" and (e.get("involvedObject") or {}).get("name") == name
        }
    )


def derived_crds(xrd: dict[str, Any]) -> list[str]:
    """The CRDs Crossplane derives from an XRD: the XR's, and the claim's if it has one."""
    group = xrd["spec"]["group"]
    names = [f"{xrd['spec']['names']['plural']}.{group}"]
    if xrd["spec"].get("claimNames"):
        names.append(f"{xrd['spec']['claimNames']['plural']}.{group}")
    return names


@dataclass(frozen=True)
class XrdOutcome:
    """How an XRD fared: seconds to Established (None if never), and its Warning events."""

    seconds: float | None
    warnings: list[str]


def _xrd_established(client: kube.Kube, xrd: dict[str, Any]) -> bool:
    """Established with its derived CRDs; an error once the API server refused one of them."""
    name = xrd["metadata"]["name"]
    live = client.get(XRD_API, "CompositeResourceDefinition", name)
    if kube.is_true(live, "Established") and _established(client, set(derived_crds(xrd))):
        return True
    refused = [w for w in xrd_warnings(client, name) if REFUSED in w]
    if refused:
        raise XrdRefusedError(refused)
    return False


class XrdRefusedError(RuntimeError):
    """The API server refused a CRD derived from an XRD."""


def xrds(plane: ControlPlane, paths: Iterable[Path]) -> dict[str, XrdOutcome]:
    """Apply each XRD in turn and wait until it is Established; returns each one's outcome.

    A derived CRD the API server refuses (CEL cost, ...) shows only in the XRD's Warning
    events, so those end the wait.
    """
    client = plane.client
    outcomes: dict[str, XrdOutcome] = {}
    for path in paths:
        began = time.monotonic()
        xrd = load(path)
        client.apply(xrd)
        name = xrd["metadata"]["name"]
        seconds: float | None = None
        with contextlib.suppress(TimeoutError, XrdRefusedError):
            kube.wait_until(
                f"XRD {name} to be Established",
                lambda xrd=xrd: _xrd_established(client, xrd),
                ESTABLISH_TIMEOUT_S,
            )
            seconds = time.monotonic() - began
            timings.record(f"XRD {name} Established", seconds)
        outcomes[name] = XrdOutcome(seconds, xrd_warnings(client, name))
    return outcomes


def project_apis(plane: ControlPlane) -> dict[str, XrdOutcome]:
    """Apply the input CRD, the XRDs (see ``xrds``) and the Compositions."""
    client = plane.client
    inputs = [load(path) for path in sorted(INPUT_CRDS.glob("*.yaml"))]
    for crd in inputs:
        client.apply(crd)
    names = {crd["metadata"]["name"] for crd in inputs}
    kube.wait_until(
        "the function's input CRD to be Established",
        lambda: _established(client, names),
        ESTABLISH_TIMEOUT_S,
    )
    outcomes = xrds(plane, XRDS)
    for path in sorted(COMPOSITIONS.glob("*.yaml")):
        client.apply(load(path))
    return outcomes
