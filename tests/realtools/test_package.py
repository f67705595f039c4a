"""``crossplane xpkg build`` of the function package (package/), checked by opening the .xpkg.

There is no runtime image here (no Docker), and the CLI builds a Function package without
one: the result holds package.yaml (metadata and the input CRD) and the examples.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from typing import TYPE_CHECKING, Any

import pytest
from conftest import EXAMPLES, ROOT

from realtools import xpkg
from realtools.crank import CrankError

if TYPE_CHECKING:
    from pathlib import Path

    from realtools.crank import Crank

PACKAGE = ROOT / "package"


def _examples() -> list[dict[str, Any]]:
    # The CLI walks the examples root recursively.
    return [
        document
        for path in sorted(EXAMPLES.rglob("*.yaml"))
        for document in xpkg.documents(path.read_bytes())
    ]


@pytest.fixture(scope="module")
def built(cli: Crank, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The function package built into a temporary folder, unpacked."""
    output = tmp_path_factory.mktemp("xpkg") / "function.xpkg"
    cli.build_package(PACKAGE, EXAMPLES, output)
    assert tarfile.is_tarfile(output)
    return xpkg.files(output)


def test_package_holds_metadata_and_input_crd(built: dict[str, bytes]) -> None:
    """package.yaml is crossplane.yaml's Function metadata followed by the input CRD, unchanged."""
    # The CLI re-serialises each object through its Go type, which adds an empty CRD status.
    documents = [
        {k: v for k, v in d.items() if k != "status"} for d in xpkg.documents(built["package.yaml"])
    ]
    expected = xpkg.documents((PACKAGE / "crossplane.yaml").read_bytes()) + [
        document
        for path in sorted((PACKAGE / "input").glob("*.yaml"))
        for document in xpkg.documents(path.read_bytes())
    ]
    assert documents == expected
    assert documents[0]["kind"] == "Function"
    assert documents[0]["apiVersion"] == "meta.pkg.crossplane.io/v1"


def test_package_holds_the_examples(built: dict[str, bytes]) -> None:
    """The examples layer carries every example document (claims, XRs and the Function)."""
    assert sorted(map(json.dumps, xpkg.documents(built[".up/examples.yaml"]))) == sorted(
        map(json.dumps, _examples())
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda root: (root / "configmap.yaml").write_text(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
            ),
            'no kind "ConfigMap" is registered',
            id="foreign-object",
        ),  # A Function package may hold only its metadata and CRDs.
        pytest.param(
            lambda root: (root / "crossplane.yaml").write_text(
                (PACKAGE / "crossplane.yaml").read_text().replace("kind: Function", "kind: Func")
            ),
            'no kind "Func" is registered',
            id="bad-metadata-kind",
        ),  # The metadata must be a known package kind.
    ],
)
def test_broken_package_is_refused(cli: Crank, tmp_path: Path, edit: Any, message: str) -> None:
    """The CLI parses what it packs: a broken package root fails with the reason."""
    root = tmp_path / "package"
    shutil.copytree(PACKAGE, root)
    edit(root)
    with pytest.raises(CrankError, match=message):
        cli.build_package(root, EXAMPLES, tmp_path / "broken.xpkg")
