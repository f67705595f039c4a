"""The runtime image built without Docker (hack/image.sh), and the package that embeds it.

The image's own files and configuration are used: its one layer is unpacked, and its
entrypoint is run as its user with its environment, so a wrong entrypoint, user, missing
library or unbuilt dependency fails here rather than in a cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tarfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
import pytest
import yaml
from conftest import ROOT, SEED, platform_input, skip_or_fail
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from realtools import project, toolbox, xpkg

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TAG = "function-vcluster-environment:v" + str(
    next(
        line.split('"')[1]
        for line in (ROOT / "pyproject.toml").read_text().splitlines()
        if line.startswith("version = ")
    )
)


@dataclass(frozen=True)
class Built:
    """What hack/image.sh produced, with the image's layer unpacked and its configuration."""

    out: Path
    root: Path
    config: dict[str, Any]


def _unpack(image: Path, into: Path) -> dict[str, Any]:
    """Unpack the docker-archive's layers into ``into``; return the image configuration."""
    with tarfile.open(image) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert [tag.rsplit("/", 1)[-1] for tag in manifest[0]["RepoTags"]] == [TAG]
        config = json.load(archive.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
        for name in manifest[0]["Layers"]:
            with tarfile.open(fileobj=archive.extractfile(name)) as layer:
                # Our own build's layer; "data" would refuse its absolute symlinks.
                layer.extractall(into, filter="fully_trusted")  # noqa: S202
    return config


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Build the image and package once for this module (about a minute)."""
    if os.geteuid() != 0:
        skip_or_fail("hack/image.sh needs root (mmdebstrap --mode=root, chroot)")
    crossplane = toolbox.need("crossplane")
    out = tmp_path_factory.mktemp("image")
    done = subprocess.run(
        ["bash", str(ROOT / "hack" / "image.sh"), str(out)],
        cwd=ROOT,
        env={**os.environ, "CROSSPLANE_BIN": str(crossplane)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    root = out / "unpacked"
    root.mkdir()
    config = _unpack(out / "image.tar", root)
    shutil.rmtree(out / "root")
    return Built(out=out, root=root, config=config["config"])


def test_image_configuration(built: Built) -> None:
    """Crossplane's runtime runs the entrypoint with no arguments, as a non-root numeric user."""
    assert built.config["Entrypoint"] == ["/venv/bin/function-vcluster-environment", "serve"]
    assert built.config["User"] == "65532:65532"
    assert "9443/tcp" in built.config["ExposedPorts"]


def test_package_embeds_the_image(built: Built) -> None:
    """The package's metadata layer is the Function and its input CRD, beside the image."""
    found = [d["kind"] for d in xpkg.package_yaml(built.out / "function.xpkg")]
    assert found == ["Function", "CustomResourceDefinition"]
    assert len(xpkg.layers(built.out / "function.xpkg")) > 1, (
        "the runtime image's layers are missing from the package"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serving(built: Built) -> Iterator[str]:
    """The image's entrypoint, run as the image's user with the image's environment."""
    port = _free_port()
    user = built.config["User"]
    env = dict(item.split("=", 1) for item in built.config["Env"])
    process = subprocess.Popen(
        [
            "chroot",
            f"--userspec={user}",
            str(built.root),
            "/usr/bin/env",
            "-i",
            *(f"{key}={value}" for key, value in env.items()),
            *built.config["Entrypoint"],
            "--insecure",
            "--address",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        target = f"127.0.0.1:{port}"
        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
        yield target
    finally:
        process.kill()
        process.wait()


def test_image_answers_as_the_project_does(serving: str) -> None:
    """The image's server answers the seed claim with the bytes composing it here gives."""
    xr = project.composite_from(yaml.safe_load(SEED.read_text(encoding="utf-8")))
    req = project.request(xr, {}, platform_input())
    with grpc.insecure_channel(serving) as channel:
        stub = grpcv1.FunctionRunnerServiceStub(channel)
        rsp = stub.RunFunction(req, timeout=30)
    expected = project.run(req).SerializeToString(deterministic=True)
    assert rsp.SerializeToString(deterministic=True) == expected
    assert project.fatal_of(rsp) is None
