"""The real Crossplane CLI, driven from tests: render, validate and package.

``FunctionServer`` serves the project's function (its console script, ``--insecure``) on a
free loopback port; ``Crank`` renders XRs through it with Crossplane core's render engine
(``--crossplane-binary``), validates manifests offline and builds packages.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from realtools.project import RESOURCE_NAME_ANNOTATION

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 120
RESULT_KIND = "Result"
RENDER_GROUP = "render.crossplane.io/"
# Crossplane core emits this (as a Normal result) for each composed resource it finds unready.
UNREADY_MESSAGE = 'Composed resource "{}" is not yet ready'


class CrankError(RuntimeError):
    """The CLI failed; the message carries its command line, exit code and output."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class FunctionServer:
    """A function served insecurely on a loopback port, for render to call.

    By default the project's own ``serve``; ``command`` runs another function binary instead
    (it must take ``--insecure --address``, as every SDK-built function does).
    """

    log: Path
    name: str = "function-vcluster-environment"
    command: list[str] | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        """The address render dials."""
        return f"{HOST}:{self.port}"

    def start(self) -> FunctionServer:
        """Start the console script next to this interpreter and wait until it listens."""
        script = Path(sys.executable).parent / "function-vcluster-environment"
        if self.command is None and not script.is_file():
            msg = f"{script} not found: run make setup"
            raise CrankError(msg)
        self.port = _free_port()
        prefix = self.command if self.command is not None else [str(script), "serve"]
        command = [*prefix, "--insecure", "--address", self.target]
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log.read_text(errors="replace")
                msg = f"function server exited with {self.process.returncode}:\n{output}"
                raise CrankError(msg)
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.2):
                return self
            time.sleep(0.05)
        self.stop()
        msg = f"function server not listening on {self.target} after {START_TIMEOUT_S}s"
        raise CrankError(msg)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and reap it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def function(self) -> dict[str, Any]:
        """A Function manifest that makes render call this server (Development runtime)."""
        return {
            "apiVersion": "pkg.crossplane.io/v1",
            "kind": "Function",
            "metadata": {
                "name": self.name,
                "annotations": {
                    "render.crossplane.io/runtime": "Development",
                    "render.crossplane.io/runtime-development-target": self.target,
                },
            },
            "spec": {"package": f"xpkg.crossplane.io/example-org/{self.name}:v0"},
        }

    def functions_file(self, directory: Path, *others: FunctionServer) -> Path:
        """The Function manifests of this server and ``others``, for render's functions file."""
        return write_documents(
            directory / "functions.yaml", [self.function(), *(o.function() for o in others)]
        )


@dataclass
class Rendered:
    """One ``crossplane composition render``: the XR, its composed resources, core's results."""

    xr: dict[str, Any]
    composed: dict[str, dict[str, Any]]
    results: list[dict[str, Any]]

    @property
    def ready_condition(self) -> dict[str, Any]:
        """The XR's Ready condition as core set it."""
        conditions = (self.xr.get("status") or {}).get("conditions") or []
        return next((c for c in conditions if c.get("type") == "Ready"), {})

    @property
    def xr_ready(self) -> bool:
        """Whether core marked the XR Ready."""
        return self.ready_condition.get("status") == "True"

    @property
    def status(self) -> dict[str, Any]:
        """The XR status without core's own conditions: what the function wrote."""
        return {k: v for k, v in (self.xr.get("status") or {}).items() if k != "conditions"}

    @property
    def ready(self) -> dict[str, bool]:
        """Per composed resource, whether core counted it ready (it reports the unready ones)."""
        messages = {str(r.get("message")) for r in self.results}
        return {key: UNREADY_MESSAGE.format(key) not in messages for key in self.composed}


def parse_render(output: str) -> Rendered:
    """Split render's YAML stream into the XR, composed resources (by name) and results."""
    results: list[dict[str, Any]] = []
    composed: dict[str, dict[str, Any]] = {}
    xr: dict[str, Any] | None = None
    for document in yaml.safe_load_all(output):
        if not isinstance(document, dict):
            continue
        annotations = (document.get("metadata") or {}).get("annotations") or {}
        key = annotations.get(RESOURCE_NAME_ANNOTATION)
        if document.get("kind") == RESULT_KIND and str(document.get("apiVersion")).startswith(
            RENDER_GROUP
        ):
            results.append(document)
        elif key:
            composed[str(key)] = document
        elif xr is None:
            xr = document
    if xr is None:
        msg = f"render printed no XR:\n{output[:2000]}"
        raise CrankError(msg)
    return Rendered(xr=xr, composed=composed, results=results)


def _run(
    command: list[str], timeout: float, *, ok_codes: tuple[int, ...] = (0,), cwd: Path | None = None
) -> str:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd
    )
    if done.returncode not in ok_codes:
        msg = (
            f"{' '.join(command)}\nexit {done.returncode}\nstdout:\n{done.stdout[-4000:]}\n"
            f"stderr:\n{done.stderr[-4000:]}"
        )
        raise CrankError(msg)
    return done.stdout


def write_documents(path: Path, documents: list[dict[str, Any]]) -> Path:
    """Write a YAML stream of ``documents`` to ``path``."""
    path.write_text(yaml.safe_dump_all(documents, sort_keys=True), encoding="utf-8")
    return path


@dataclass
class Crank:
    """The Crossplane CLI with the flags that keep it offline."""

    binary: Path
    workdir: Path
    core: Path | None = None
    functions: Path | None = None
    calls: int = field(default=0)

    def _scratch(self, name: str) -> Path:
        self.calls += 1
        path = self.workdir / f"{self.calls:04d}-{name}"
        path.mkdir(parents=True)
        return path

    def render(
        self,
        xr: dict[str, Any],
        composition: Path,
        observed: list[dict[str, Any]] | None = None,
    ) -> Rendered:
        """Render ``xr`` with ``composition``, given the observed composed resources."""
        scratch = self._scratch("render")
        written = write_documents(scratch / "xr.yaml", [xr])
        seen = write_documents(scratch / "observed.yaml", observed) if observed else None
        return self.render_files(written, composition, seen)

    def render_files(
        self, xr: Path, composition: Path, observed: Path | None = None, *, cwd: Path | None = None
    ) -> Rendered:
        """Render the files as a user does, with this served function (paths may be relative)."""
        if self.core is None or self.functions is None:
            msg = "render needs crossplane-core and a served function"
            raise CrankError(msg)
        command = [
            str(self.binary),
            "composition",
            "render",
            str(xr),
            str(composition),
            str(self.functions),
            "--crossplane-binary",
            str(self.core),
            "--include-function-results",
        ]
        if observed is not None:
            command += ["--observed-resources", str(observed)]
        return parse_render(_run(command, CLI_TIMEOUT_S, cwd=cwd))

    def validate(self, extensions: list[Path], resources: Path) -> list[dict[str, Any]]:
        """``crossplane resource validate`` offline: one result per resource, in file order.

        Crossplane's own schemas are never downloaded: the image is a local name whose
        cache folder exists and is empty.
        """
        scratch = self._scratch("validate")
        cache = scratch / "cache"
        (cache / "local" / "none@v0").mkdir(parents=True)
        command = [
            str(self.binary),
            "resource",
            "validate",
            ",".join(str(e) for e in extensions),
            str(resources),
            "--cache-dir",
            str(cache),
            "--crossplane-image",
            "local/none:v0",
            "--output",
            "json",
        ]
        # Exit 1 means "some resource is invalid"; the JSON says which.
        report = json.loads(_run(command, CLI_TIMEOUT_S, ok_codes=(0, 1)))
        return list(report.get("resources") or [])

    def build_package(self, package_root: Path, examples_root: Path, output: Path) -> Path:
        """``crossplane xpkg build`` of ``package_root`` into ``output``."""
        command = [
            str(self.binary),
            "xpkg",
            "build",
            "--package-root",
            str(package_root),
            "--examples-root",
            str(examples_root),
            "--package-file",
            str(output),
        ]
        _run(command, CLI_TIMEOUT_S)
        return output
