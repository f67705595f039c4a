"""The function installed in Crossplane core as a package, offline, and served over mTLS.

No registry is reachable, so the Function names its package by digest with
``packagePullPolicy: Never``, and core reads the package from its xpkg cache: a file named
after the package source and digest (``friendly_id``), holding the gzipped YAML stream of
package/ (metadata and the input CRD). With the External runtime nobody runs the function
for core: this module serves it (the project's own ``serve``, with ``--tls-certs-dir``, a
server certificate for 127.0.0.1 from the control plane's CA), creates the TLS Secret and
fills in what a runtime would write into the FunctionRevision's status.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conftest import ROOT

from realtools import kube
from realtools.project import FUNCTION_NAME

if TYPE_CHECKING:
    from realtools.controlplane import ControlPlane
    from realtools.netns import Process

SOURCE = f"xpkg.crossplane.io/example-org/{FUNCTION_NAME}"
PORT = 9443
PKG = "pkg.crossplane.io/v1"
TLS_SECRET = f"{FUNCTION_NAME}-tls-server"
INSTALL_TIMEOUT_S = 60.0
DNS_LABEL_MAX = 63
# What a package runtime reports once the function's Deployment is available.
RUNTIME_HEALTHY = {
    "type": "RuntimeHealthy",
    "status": "True",
    "reason": "HealthyPackageRevision",
    "lastTransitionTime": "2024-01-01T00:00:00Z",
}


def package_stream() -> bytes:
    """The package's YAML stream: crossplane.yaml, then each input CRD."""
    files = [
        ROOT / "package" / "crossplane.yaml",
        *sorted((ROOT / "package").rglob("input/*.yaml")),
    ]
    return b"---\n".join(path.read_bytes() for path in files)


def friendly_id(source: str, digest: str) -> str:
    """The cache file stem core uses for a package: source and digest as one DNS label.

    As crossplane-runtime's ``xpkg.FriendlyID``: the first 50 characters of the source, a
    dash and the first 12 of the digest; lowercase letters and digits are kept, ``. / : -``
    become dashes except at the ends, and everything from the 63rd character on is dropped.
    """
    joined = f"{source[:50]}-{digest[:12]}"
    kept = []
    for index, char in enumerate(joined[:DNS_LABEL_MAX]):
        if char.isascii() and (char.islower() or char.isdigit()):
            kept.append(char)
        elif char in "./:-" and index not in {0, DNS_LABEL_MAX - 1, len(joined) - 1}:
            kept.append("-")
    return "".join(kept).strip("-")


@dataclass
class InstalledFunction:
    """The served function and its package in core."""

    server: Process
    calls_file: Path
    reference: str

    def calls(self) -> Counter[tuple[str, str]]:
        """RunFunction calls so far per XR, keyed by (namespace, name)."""
        counted: Counter[tuple[str, str]] = Counter()
        if self.calls_file.is_file():
            for raw in self.calls_file.read_text(encoding="utf-8").splitlines():
                call = json.loads(raw)
                counted[call["namespace"], call["name"]] += 1
        return counted


def _serve(plane: ControlPlane) -> tuple[Process, Path, Path]:
    authority = plane.authority
    certs_dir = authority.tls_dir(
        plane.pki / "function-server", authority.issue(FUNCTION_NAME, ips=("127.0.0.1",))
    )
    calls = plane.workdir / "logs" / "function-calls.jsonl"
    server = plane.netns.spawn(
        "function",
        [
            sys.executable,
            "-m",
            "realtools.fnserve",
            str(calls),
            "serve",
            "--tls-certs-dir",
            str(certs_dir),
            "--address",
            f"127.0.0.1:{PORT}",
            "--debug",
        ],
        {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    return server, certs_dir, calls


def _revision(plane: ControlPlane) -> dict[str, Any] | None:
    revisions = plane.client.list(
        PKG, "FunctionRevision", labels=f"pkg.crossplane.io/package={FUNCTION_NAME}"
    )
    return revisions[0] if revisions else None


def install(plane: ControlPlane) -> InstalledFunction:
    """Serve the function, install its package from the cache, and wait until it is healthy."""
    server, certs_dir, calls = _serve(plane)
    stream = package_stream()
    digest = f"sha256:{hashlib.sha256(stream).hexdigest()}"
    (plane.xpkg_cache / f"{friendly_id(SOURCE, digest)}.gz").write_bytes(gzip.compress(stream))
    client = plane.client
    client.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": TLS_SECRET, "namespace": "crossplane-system"},
            "type": "kubernetes.io/tls",
            "stringData": {
                name: (certs_dir / name).read_text(encoding="utf-8")
                for name in ("tls.crt", "tls.key", "ca.crt")
            },
        }
    )
    reference = f"{SOURCE}@{digest}"
    client.apply(
        {
            "apiVersion": PKG,
            "kind": "Function",
            "metadata": {"name": FUNCTION_NAME},
            "spec": {"package": reference, "packagePullPolicy": "Never"},
        }
    )
    revision = kube.wait_until("the FunctionRevision", lambda: _revision(plane), INSTALL_TIMEOUT_S)
    client.patch(
        revision,
        {
            "status": {
                "endpoint": f"dns:///127.0.0.1:{PORT}",
                "tlsServerSecretName": TLS_SECRET,
                "conditions": [
                    *((revision.get("status") or {}).get("conditions") or []),
                    RUNTIME_HEALTHY,
                ],
            }
        },
        subresource="status",
    )

    def healthy() -> bool:
        if not server.running():
            msg = f"the function server exited:\n{server.tail()}"
            raise RuntimeError(msg)
        function = client.get(PKG, "Function", FUNCTION_NAME)
        return kube.is_true(function, "Installed") and kube.is_true(function, "Healthy")

    kube.wait_until("the Function to be Installed and Healthy", healthy, INSTALL_TIMEOUT_S)
    return InstalledFunction(server=server, calls_file=calls, reference=reference)
