"""Reading a built Crossplane package (an OCI image tarball) back."""

from __future__ import annotations

import json
import tarfile
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from pathlib import Path


def _read(archive: tarfile.TarFile, name: str) -> bytes:
    handle = archive.extractfile(name)
    assert handle is not None, name
    return handle.read()


def layers(package: Path) -> list[str]:
    """The names of the package image's layers inside its tarball, in order."""
    with tarfile.open(package) as image:
        (entry,) = json.loads(_read(image, "manifest.json"))
    return list(entry["Layers"])


def files(package: Path) -> dict[str, bytes]:
    """Every file of every layer of the package image, by its path in the layer."""
    found: dict[str, bytes] = {}
    with tarfile.open(package) as image:
        for name in layers(package):
            handle = image.extractfile(name)
            assert handle is not None, name
            with tarfile.open(fileobj=handle) as layer:
                for member in layer.getmembers():
                    if member.isfile():
                        found[member.name] = _read(layer, member.name)
    return found


def documents(data: bytes) -> list[dict[str, Any]]:
    """The non-empty documents of a YAML stream."""
    return [d for d in yaml.safe_load_all(data.decode("utf-8")) if d]


def package_yaml(package: Path) -> list[dict[str, Any]]:
    """The documents of the package's metadata (package.yaml)."""
    return documents(files(package)["package.yaml"])
