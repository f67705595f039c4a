"""The Configuration package, built by the real CLI.

It holds the APIs and names every package that what it composes comes from.
"""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from conftest import ROOT, as_shape, example_files, load, platform_input

from realtools import project, summary, toolbox, xpkg

if TYPE_CHECKING:
    from realtools.crank import Crank

# API group -> the package that serves it; core Kubernetes and Crossplane groups need none.
PACKAGE_OF_GROUP = {
    "helm.crossplane.io": "xpkg.crossplane.io/crossplane-contrib/provider-helm",
    "helm.m.crossplane.io": "xpkg.crossplane.io/crossplane-contrib/provider-helm",
    "kubernetes.crossplane.io": "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes",
    "kubernetes.m.crossplane.io": "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes",
}
BUILT_IN_GROUPS = {"", "protection.crossplane.io"}


def _package_of(api_version: str) -> str | None:
    group = api_version.rpartition("/")[0]
    if group in BUILT_IN_GROUPS:
        return None
    if group in PACKAGE_OF_GROUP:
        return PACKAGE_OF_GROUP[group]
    family, _, rest = group.partition(".")
    assert rest in {"aws.upbound.io", "aws.m.upbound.io"}, f"no package known for {group}"
    return f"xpkg.crossplane.io/crossplane-contrib/provider-aws-{family}"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Build the package with `make configuration` and read its package.yaml back."""
    crossplane = toolbox.need("crossplane")
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        ["make", "-s", "configuration", f"DIST={dist}"],
        cwd=ROOT,
        env={**os.environ, "CROSSPLANE_BIN": str(crossplane)},
        check=True,
        capture_output=True,
    )
    return xpkg.package_yaml(dist / "configuration.xpkg")


def test_package_holds_the_apis(package: list[dict[str, Any]]) -> None:
    """Both XRDs and both Compositions ship, under the Configuration's metadata."""
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in package)
    shipped = [
        (d["kind"], d["metadata"]["name"])
        for path in sorted([*ROOT.glob("xrds/*.yaml"), *ROOT.glob("compositions/*.yaml")])
        for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if d
    ]
    assert kinds == sorted([("Configuration", "vcluster-environment"), *shipped])


def test_dependencies_cover_everything_composed(package: list[dict[str, Any]]) -> None:
    """Every provider package any example composes from, in either shape, is a dependency.

    And nothing else is: a family missing here is a kind Crossplane cannot reconcile.
    """
    meta = next(d for d in package if d["kind"] == "Configuration")
    declared = {d.get("provider") for d in meta["spec"]["dependsOn"]} - {None}
    composed = {
        _package_of(body["apiVersion"])
        for path in example_files()
        for shape in ("legacy", "v2")
        for step in project.simulated(as_shape(load(path), shape), platform_input()).rounds
        for body in step.desired.values()
    } - {None}
    assert declared == composed


def test_depends_on_this_function(package: list[dict[str, Any]]) -> None:
    """The Compositions call the function by name: installing the Configuration must bring it."""
    meta = next(d for d in package if d["kind"] == "Configuration")
    functions = [d["function"] for d in meta["spec"]["dependsOn"] if "function" in d]
    refs = {
        step["functionRef"]["name"]
        for path in ROOT.glob("compositions/*.yaml")
        for step in load(path)["spec"]["pipeline"]
    }
    assert [f.rsplit("/", 1)[-1] for f in functions] == sorted(refs)


def test_install_manifests_validate(cli: Crank) -> None:
    """The README's install steps are valid objects for Crossplane and the providers they name.

    The AWS provider's ProviderConfig CRDs are not in ../shared/crds, so those two are the
    only ones the CLI cannot check: anything else unchecked is a kind nobody serves.
    """
    shared = toolbox.shared_dir()
    results = cli.validate(
        [
            shared / "crossplane-core" / "crds",
            shared / "crds" / "provider-helm",
            shared / "crds" / "provider-kubernetes",
        ],
        ROOT / "examples" / "install",
    )
    verdicts = sorted((r["apiVersion"], r["kind"], r["status"]) for r in results)
    unchecked = [(v, k) for v, k, status in verdicts if status == "missingSchema"]
    assert unchecked == [
        ("aws.m.upbound.io/v1beta1", "ClusterProviderConfig"),
        ("aws.upbound.io/v1beta1", "ProviderConfig"),
    ]
    assert [v for v in verdicts if v[2] not in {"valid", "missingSchema"}] == []
    assert len(verdicts) == 9
    summary.record("resources validated", len(verdicts) - len(unchecked))
