"""Finding the real tools (Crossplane CLI and core, Kubernetes, etcd) for the real-tool suites.

Each tool is looked up in its own environment variable, then in ``../shared/bin`` beside the
checkout (or beside the checkout a local clone came from), then on ``PATH``. A test that lacks
one skips with the reason; with ``REQUIRE_ALL_TESTS=1`` (CI) it fails instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import crdcheck
from conftest import skip_or_fail

# Tool -> the environment variable that names its binary.
TOOLS = {
    "crossplane": "CROSSPLANE_BIN",
    "crossplane-core": "CROSSPLANE_CORE_BIN",
    "kube-apiserver": "KUBE_APISERVER_BIN",
    "kube-controller-manager": "KUBE_CONTROLLER_MANAGER_BIN",
    "kubectl": "KUBECTL_BIN",
    "etcd": "ETCD_BIN",
    "function-go-templating": "FUNCTION_GO_TEMPLATING_BIN",
}


def shared_dir() -> Path:
    """The shared folder (real CRDs and tools) this checkout uses; it may not exist."""
    return crdcheck.crds_dir().parent


def find(tool: str) -> Path | None:
    """The binary for ``tool``: its environment variable, ``../shared/bin``, then ``PATH``."""
    named = os.environ.get(TOOLS[tool])
    if named:
        return Path(named) if Path(named).is_file() else None
    beside = shared_dir() / "bin" / tool
    if beside.is_file():
        return beside
    on_path = shutil.which(tool)
    return Path(on_path) if on_path else None


def need(tool: str) -> Path:
    """The binary for ``tool``, else skip (fail under ``REQUIRE_ALL_TESTS=1``) with the reason."""
    found = find(tool)
    if found is None:
        skip_or_fail(
            f"{tool} not found: set ${TOOLS[tool]}, or put it in {shared_dir() / 'bin'} or on PATH"
        )
    assert found is not None
    return found
