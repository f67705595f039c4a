"""Functions installed in Crossplane core as packages, offline, and served over mTLS.

No registry is reachable, so a Function names its package by digest with
``packagePullPolicy: Never``, and core reads the package from its xpkg cache: a file named
after the package source and digest (``friendly_id``), holding the gzipped YAML stream of
the package (its metadata, and input CRDs if any). With the External runtime nobody runs a
function for core: this module serves it in the control plane's namespace (the project's
own ``serve``, or another SDK-built function binary, each with ``--tls-certs-dir`` and a
server certificate for 127.0.0.1 from the control plane's CA), creates its TLS Secret and
fills in what a runtime would write into the FunctionRevision's status.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from conftest import ROOT

from realtools import kube, toolbox
from realtools.project import FUNCTION_NAME

if TYPE_CHECKING:
    from realtools.controlplane import ControlPlane
    from realtools.netns import Process

SOURCE = f"xpkg.crossplane.io/example-org/{FUNCTION_NAME}"
PORT = 9443
GO_TEMPLATING = "function-go-templating"
GO_TEMPLATING_SOURCE = f"xpkg.crossplane.io/crossplane-contrib/{GO_TEMPLATING}"
GO_TEMPLATING_PORT = 9444
# All a Function package needs: its metadata. The input CRD only documents the input.
GO_TEMPLATING_META = {
    "apiVersion": "meta.pkg.crossplane.io/v1",
    "kind": "Function",
    "metadata": {"name": GO_TEMPLATING},
}
PKG = "pkg.crossplane.io/v1"
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


@dataclass(frozen=True)
class Package:
    """A function to serve in the namespace and to install in core from the package cache."""

    name: str
    source: str
    port: int
    stream: bytes
    # The command that serves it, without the TLS and address flags every SDK function takes.
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def tls_secret(self) -> str:
        """The Secret core reads the server's CA and certificate from."""
        return f"{self.name}-tls-server"


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


def _serve(plane: ControlPlane, package: Package) -> tuple[Process, Path]:
    authority = plane.authority
    certs_dir = authority.tls_dir(
        plane.pki / f"{package.name}-server", authority.issue(package.name, ips=("127.0.0.1",))
    )
    flags = ["--tls-certs-dir", str(certs_dir), "--address", f"127.0.0.1:{package.port}"]
    server = plane.netns.spawn(package.name, [*package.command, *flags, "--debug"], package.env)
    return server, certs_dir


def _revision(plane: ControlPlane, name: str) -> dict[str, Any] | None:
    revisions = plane.client.list(
        PKG, "FunctionRevision", labels=f"pkg.crossplane.io/package={name}"
    )
    return revisions[0] if revisions else None


def serve_and_install(plane: ControlPlane, package: Package) -> tuple[Process, str]:
    """Serve a function, install its package from the cache, and wait until it is healthy.

    Returns the server process and the package reference the Function names.
    """
    server, certs_dir = _serve(plane, package)
    digest = f"sha256:{hashlib.sha256(package.stream).hexdigest()}"
    cached = plane.xpkg_cache / f"{friendly_id(package.source, digest)}.gz"
    cached.write_bytes(gzip.compress(package.stream))
    client = plane.client
    client.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": package.tls_secret, "namespace": "crossplane-system"},
            "type": "kubernetes.io/tls",
            "stringData": {
                name: (certs_dir / name).read_text(encoding="utf-8")
                for name in ("tls.crt", "tls.key", "ca.crt")
            },
        }
    )
    reference = f"{package.source}@{digest}"
    client.apply(
        {
            "apiVersion": PKG,
            "kind": "Function",
            "metadata": {"name": package.name},
            "spec": {"package": reference, "packagePullPolicy": "Never"},
        }
    )
    revision = kube.wait_until(
        f"the FunctionRevision of {package.name}",
        lambda: _revision(plane, package.name),
        INSTALL_TIMEOUT_S,
    )
    client.patch(
        revision,
        {
            "status": {
                "endpoint": f"dns:///127.0.0.1:{package.port}",
                "tlsServerSecretName": package.tls_secret,
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
            msg = f"the {package.name} server exited:\n{server.tail()}"
            raise RuntimeError(msg)
        function = client.get(PKG, "Function", package.name)
        return kube.is_true(function, "Installed") and kube.is_true(function, "Healthy")

    kube.wait_until(f"{package.name} to be Installed and Healthy", healthy, INSTALL_TIMEOUT_S)
    return server, reference


def install(plane: ControlPlane) -> InstalledFunction:
    """Serve this project's function, noting each call, and install its package."""
    calls = plane.workdir / "logs" / "function-calls.jsonl"
    package = Package(
        name=FUNCTION_NAME,
        source=SOURCE,
        port=PORT,
        stream=package_stream(),
        command=[sys.executable, "-m", "realtools.fnserve", str(calls), "serve"],
        env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    server, reference = serve_and_install(plane, package)
    return InstalledFunction(server=server, calls_file=calls, reference=reference)


def install_go_templating(plane: ControlPlane) -> Process:
    """Serve function-go-templating (``../shared/bin``) and install it under its own name."""
    package = Package(
        name=GO_TEMPLATING,
        source=GO_TEMPLATING_SOURCE,
        port=GO_TEMPLATING_PORT,
        stream=yaml.safe_dump(GO_TEMPLATING_META).encode(),
        command=[str(toolbox.need(GO_TEMPLATING))],
    )
    server, _ = serve_and_install(plane, package)
    return server
