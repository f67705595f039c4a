"""A throw-away Kubernetes control plane with Crossplane core, inside a network namespace.

etcd, kube-apiserver and kube-controller-manager (garbage collector and namespace deletion
only: no kubelet, no scheduler) on the namespace's loopback; then Crossplane core out of
cluster: ``core init`` (twice: the first run always fails with ``no matches for kind
"Lock"``, as it creates the Lock CRD and a Lock in one go), the webhook configurations
rewritten to a URL (the API server cannot reach a Service here), and ``core start`` with
External package runtimes, serving its webhooks on loopback so Usages are enforced.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from realtools import certs, kube, timings, toolbox
from realtools.netns import NetworkNamespace

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HOST = "127.0.0.1"
ETCD_PORT, ETCD_PEER_PORT = 2379, 2380
API_PORT = 6443
WEBHOOK_PORT = 9555  # not core's default 9443, which functions use
SERVICE_RANGE = "10.0.0.0/24"
NAMESPACE = "crossplane-system"
START_TIMEOUT_S = 60.0
INIT_TIMEOUT_S = 120.0
GC_READY_LINE = "Proceeding to collect garbage"
# Deletions only (kept and refused alike), for the order in which composed resources went.
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata", "verbs": ["delete"]}, {"level": "None"}],
}
INIT_ENV = {
    "POD_NAMESPACE": NAMESPACE,
    "ENABLE_WEBHOOKS": "true",
    "WEBHOOK_SERVICE_NAME": "crossplane-webhooks",
    "WEBHOOK_SERVICE_NAMESPACE": NAMESPACE,
    "WEBHOOK_SERVICE_PORT": str(WEBHOOK_PORT),
    "TLS_CA_SECRET_NAME": "crossplane-root-ca",
    "TLS_SERVER_SECRET_NAME": "crossplane-tls-server",
    "TLS_CLIENT_SECRET_NAME": "crossplane-tls-client",
}


class ControlPlaneError(RuntimeError):
    """A component did not start; the message carries its log's tail."""


def _listening(netns: NetworkNamespace, port: int) -> bool:
    with netns.entered(), contextlib.suppress(OSError):
        socket.create_connection((HOST, port), timeout=0.5).close()
        return True
    return False


@dataclass
class ControlPlane:
    """The processes, certificates and client of one control plane."""

    workdir: Path
    netns: NetworkNamespace = field(init=False)
    authority: certs.Authority = field(init=False)
    client: kube.Kube = field(init=False)
    kubeconfig: Path = field(init=False)
    core_client_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        """Name the folders; nothing starts until ``start``."""
        self.netns = NetworkNamespace(logs=self.workdir / "logs")
        self.authority = certs.Authority("realtools-ca")
        (self.workdir / "pki").mkdir(parents=True, exist_ok=True)

    @property
    def pki(self) -> Path:
        """Where certificates and keys are written."""
        return self.workdir / "pki"

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> ControlPlane:
        """Start everything; ``close`` undoes whatever part of it ran."""
        began = time.monotonic()
        self.netns.create()
        self._credentials()
        self._etcd()
        self._apiserver()
        self._controller_manager()
        timings.record("control plane up", time.monotonic() - began)
        began = time.monotonic()
        self._core()
        timings.record("Crossplane core up", time.monotonic() - began)
        return self

    def close(self) -> None:
        """Stop every process, delete the namespace, remove all but the logs."""
        self.netns.close()
        for scratch in ("etcd", "pki", "xpkg"):
            shutil.rmtree(self.workdir / scratch, ignore_errors=True)

    def logs(self, lines: int = 15) -> str:
        """The tail of every process's log, for a failure report."""
        return "\n".join(
            f"--- {process.label} ({process.log}) ---\n{process.tail(lines)}"
            for process in self.netns.processes
        )

    def _wait(self, what: str, probe: Any, label: str, timeout: float = START_TIMEOUT_S) -> None:
        process = next(p for p in reversed(self.netns.processes) if p.label == label)

        def ready() -> bool:
            if not process.running():
                msg = f"{label} exited with {process.popen.returncode}:\n{process.tail()}"
                raise ControlPlaneError(msg)
            return bool(probe())

        try:
            kube.wait_until(what, ready, timeout)
        except TimeoutError as error:
            msg = f"{error}\n{process.tail()}"
            raise ControlPlaneError(msg) from None

    # --- components -----------------------------------------------------------------------

    def _credentials(self) -> None:
        (self.pki / "ca.crt").write_bytes(self.authority.pem)
        serving = self.authority.issue(
            "kube-apiserver",
            ips=(HOST, "10.0.0.1"),
            dns=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"),
        )
        serving.write(self.pki, "apiserver")
        admin = self.authority.issue("admin", organization="system:masters", client=True)
        admin_cert, admin_key = admin.write(self.pki, "admin")
        signer = certs.signing_key()
        (self.pki / "sa.key").write_bytes(certs.pem_key(signer))
        (self.pki / "sa.pub").write_bytes(certs.pem_public_key(signer))
        self.kubeconfig = self.pki / "kubeconfig"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "realtools",
                    "cluster": {
                        "server": f"https://{HOST}:{API_PORT}",
                        "certificate-authority": str(self.pki / "ca.crt"),
                    },
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {"client-certificate": str(admin_cert), "client-key": str(admin_key)},
                }
            ],
            "contexts": [
                {"name": "realtools", "context": {"cluster": "realtools", "user": "admin"}}
            ],
            "current-context": "realtools",
        }
        self.kubeconfig.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.client = kube.Kube(
            HOST,
            API_PORT,
            ca=self.pki / "ca.crt",
            cert=admin_cert,
            key=admin_key,
            netns=self.netns,
        )

    def _etcd(self) -> None:
        client_url, peer_url = f"http://{HOST}:{ETCD_PORT}", f"http://{HOST}:{ETCD_PEER_PORT}"
        self.netns.spawn(
            "etcd",
            [
                str(toolbox.need("etcd")),
                "--data-dir",
                str(self.workdir / "etcd"),
                "--listen-client-urls",
                client_url,
                "--advertise-client-urls",
                client_url,
                "--listen-peer-urls",
                peer_url,
                "--initial-advertise-peer-urls",
                peer_url,
                "--initial-cluster",
                f"default={peer_url}",
                "--unsafe-no-fsync",
            ],
        )
        self._wait("etcd", lambda: _listening(self.netns, ETCD_PORT), "etcd")

    @property
    def audit_log(self) -> Path:
        """The API server's audit log: every delete request, with its outcome and time."""
        return self.workdir / "logs" / "audit.jsonl"

    def _apiserver(self) -> None:
        pki = self.pki
        policy = pki / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(AUDIT_POLICY), encoding="utf-8")
        self.netns.spawn(
            "kube-apiserver",
            [
                str(toolbox.need("kube-apiserver")),
                f"--etcd-servers=http://{HOST}:{ETCD_PORT}",
                f"--bind-address={HOST}",
                # Without it the API server looks for a default route, and there is none here.
                f"--advertise-address={HOST}",
                f"--secure-port={API_PORT}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_RANGE}",
                "--endpoint-reconciler-type=none",
                "--authorization-mode=RBAC",
                "--disable-admission-plugins=ServiceAccount",
                f"--audit-policy-file={policy}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
            ],
        )

        def ready() -> bool:
            if not _listening(self.netns, API_PORT):
                return False
            code, _ = self.client.request("GET", "/readyz")
            return code == 200

        self._wait("kube-apiserver /readyz", ready, "kube-apiserver")

    def _controller_manager(self) -> None:
        process = self.netns.spawn(
            "kube-controller-manager",
            [
                str(toolbox.need("kube-controller-manager")),
                f"--kubeconfig={self.kubeconfig}",
                "--controllers=garbage-collector-controller,namespace-controller",
                "--leader-elect=false",
                "--use-service-account-credentials=false",
                "--secure-port=0",
            ],
        )
        self._wait(
            "the garbage collector", lambda: GC_READY_LINE in process.tail(400), process.label
        )

    def _core(self) -> None:
        core = str(toolbox.need("crossplane-core"))
        manifests = toolbox.shared_dir() / "crossplane-core"
        self.client.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        )
        env = {
            **INIT_ENV,
            "KUBECONFIG": str(self.kubeconfig),
            "CRDS_PATH": str(manifests / "crds"),
            "WEBHOOK_CONFIGS_PATH": str(manifests / "webhookconfigurations"),
        }
        # The first run creates the Lock CRD, then fails to create a Lock before the CRD is
        # served; the second finds it. Anything else failing twice is a real failure.
        if self.netns.run("core-init", [core, "core", "init"], env, INIT_TIMEOUT_S) != 0:
            code = self.netns.run("core-init", [core, "core", "init"], env, INIT_TIMEOUT_S)
            if code != 0:
                log = self.netns.processes[-1].tail()
                msg = f"crossplane core init failed twice:\n{log}"
                raise ControlPlaneError(msg)
        self._webhooks_to_loopback()
        server_dir = self.authority.tls_dir(
            self.workdir / "pki" / "core-server",
            self.authority.issue("crossplane-webhooks", ips=(HOST,)),
        )
        self.core_client_dir = self.authority.tls_dir(
            self.workdir / "pki" / "core-client", self.authority.issue("crossplane", client=True)
        )
        (self.workdir / "xpkg").mkdir(exist_ok=True)
        self.netns.spawn(
            "crossplane-core",
            [
                core,
                "core",
                "start",
                "--package-runtime=Function=External;Provider=External;Configuration=External",
                "--enable-webhooks",
                f"--webhook-port={WEBHOOK_PORT}",
                f"--tls-server-certs-dir={server_dir}",
                f"--tls-client-certs-dir={self.core_client_dir}",
                f"--xpkg-cache-dir={self.workdir / 'xpkg'}",
                "--debug",
            ],
            {"KUBECONFIG": str(self.kubeconfig), "POD_NAMESPACE": NAMESPACE},
        )
        self._wait(
            "Crossplane core's webhook server",
            lambda: _listening(self.netns, WEBHOOK_PORT),
            "crossplane-core",
        )

    def _webhooks_to_loopback(self) -> None:
        """Point every webhook core init installed at core on loopback, trusting our CA."""
        bundle = base64.b64encode(self.authority.pem).decode()
        api = "admissionregistration.k8s.io/v1"
        for configuration in self.client.list(api, "ValidatingWebhookConfiguration"):
            for webhook in configuration.get("webhooks") or []:
                service = (webhook.get("clientConfig") or {}).get("service") or {}
                url = f"https://{HOST}:{WEBHOOK_PORT}{service.get('path', '/')}"
                webhook["clientConfig"] = {"url": url, "caBundle": bundle}
            self.client.replace(configuration)

    @property
    def xpkg_cache(self) -> Path:
        """Core's package cache (``--xpkg-cache-dir``)."""
        return self.workdir / "xpkg"


@contextlib.contextmanager
def running(workdir: Path) -> Iterator[ControlPlane]:
    """A started control plane, torn down on the way out whatever happened."""
    plane = ControlPlane(workdir)
    try:
        yield plane.start()
    finally:
        plane.close()
