"""Reading a built Crossplane package (an OCI image tarball) back."""

from __future__ import annotations

import json
import tarfile
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from pathlib import Path


def layers(package: Path) -> list[str]:
    """The names of the package's layers inside its tarball, in order."""
    with tarfile.open(package) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
    return list(manifest[0]["Layers"])


def package_yaml(package: Path) -> list[dict[str, Any]]:
    """The documents of the package's metadata layer (package.yaml)."""
    with tarfile.open(package) as archive:
        for name in layers(package):
            with tarfile.open(fileobj=archive.extractfile(name)) as layer:
                if "package.yaml" in layer.getnames():
                    stream = layer.extractfile("package.yaml")
                    assert stream is not None
                    return [d for d in yaml.safe_load_all(stream) if d]
    msg = f"{package} has no package.yaml layer"
    raise AssertionError(msg)
