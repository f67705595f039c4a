"""The version lives in pyproject.toml; every other mention of our packages' version follows it."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

VERSION = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
OURS = re.compile(
    r"xpkg\.crossplane\.io/example-org/(?:function-vcluster-environment|vcluster-environment):v([^\s\"']+)"
)


@pytest.mark.parametrize(
    "path",
    [
        "examples/install/2-function.yaml",  # what users install
        "examples/install/3-configuration.yaml",
        "examples/functions.yaml",  # what render names
    ],
)
def test_package_references_follow_pyproject(path: str) -> None:
    """An install manifest naming another version would install something else than was built."""
    assert VERSION is not None
    found = OURS.findall((ROOT / path).read_text(encoding="utf-8"))
    assert found, f"{path} names none of our packages"
    assert set(found) == {VERSION.group(1)}


def test_configuration_requires_at_least_this_function() -> None:
    """The Configuration's lower bound on the function is the version built with it."""
    assert VERSION is not None
    text = (ROOT / "configuration" / "crossplane.yaml").read_text(encoding="utf-8")
    bound = re.search(r"function-vcluster-environment\n\s+version: \">=v(.+)\"", text)
    assert bound is not None
    assert bound.group(1) == VERSION.group(1)


def test_changelog_has_this_version() -> None:
    """Each released version has its entry; the unreleased one is at the top."""
    assert VERSION is not None
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {VERSION.group(1)}" in changelog
