"""examples/<case>/ folders: render-ready, never drifting from the project, documented truly."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

import pytest
from conftest import COMPOSITIONS, EXAMPLES, ROOT, example_cases, load
from examples_readme import documented, summary

from function.offline import documents
from function.serving import fn

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

# Not a render example: copy-paste install manifests, documented in the top-level README.
INSTALL = "install"
SHARED_FUNCTIONS = EXAMPLES / "functions.yaml"
FOLDERS = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and p.name != INSTALL)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "examples_generator", ROOT / "hack" / "examples.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_folder_is_render_ready(folder: Path) -> None:
    """Each folder holds what ``crossplane composition render`` takes, a Composition for its XR."""
    for name in ("xr.yaml", "composition.yaml", "functions.yaml"):
        assert (folder / name).is_file(), name
    xr = load(folder / "xr.yaml")
    compositions = documents.load_documents(folder / "composition.yaml")
    documents.check_composition(compositions, xr)
    if (folder / "claim.yaml").is_file():
        assert load(folder / "claim.yaml")["kind"] == documents.CLAIM_KIND


def test_cases_are_every_folder_of_ours() -> None:
    """Nine cases use our Compositions; a folder whose link broke would silently drop out."""
    names = [case.name for case in example_cases()]
    assert len(names) == 9, names
    assert {p.name for p in FOLDERS} - set(names) == {"platform-team", "pipeline-steps"}


@pytest.mark.parametrize("case", example_cases(), ids=lambda p: p.name)
def test_shared_files_are_links(case: Path) -> None:
    """A copy would drift: composition.yaml and functions.yaml are relative links to the source."""
    for name, target in (
        ("composition.yaml", COMPOSITIONS),
        ("functions.yaml", SHARED_FUNCTIONS.parent),
    ):
        link = case / name
        assert link.is_symlink(), name
        assert not link.readlink().is_absolute(), name
        assert link.resolve().parent == target, name
    assert (case / "functions.yaml").resolve() == SHARED_FUNCTIONS


def test_generated_files_are_current() -> None:
    """xr.yaml of each claim and observed.yaml are what ``make examples`` writes from the code."""
    generated: dict[Path, str] = _generator().generated()
    assert len(generated) == len(list(EXAMPLES.glob("*/claim.yaml"))) + 1
    stale = [str(p.relative_to(ROOT)) for p, text in generated.items() if p.read_text() != text]
    assert stale == [], "run: make examples"


def test_readme_documents_every_folder() -> None:
    """Every folder has its render command, naming that folder's own files."""
    found = documented()
    assert sorted(found) == sorted(p.name for p in FOLDERS)
    for name, doc in found.items():
        folder = EXAMPLES.relative_to(ROOT) / name
        assert (doc.xr, doc.composition, doc.functions) == (
            folder / "xr.yaml",
            folder / "composition.yaml",
            folder / "functions.yaml",
        )
        has_observed = (ROOT / folder / "observed.yaml").is_file()
        assert doc.observed == (folder / "observed.yaml" if has_observed else None)


def _rendered(case: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The project's own render of the folder's files: the XR with its status, and the desired."""
    xr = load(case / "xr.yaml")
    observed_path = case / "observed.yaml"
    loaded = documents.load_documents(observed_path) if observed_path.is_file() else []
    function_input = documents.input_from(documents.load_documents(case / "composition.yaml"))
    rsp = fn.run(documents.request(xr, documents.observed_from(loaded, xr), function_input))
    return {**xr, "status": documents.status_of(rsp)}, documents.desired_of(rsp)


@pytest.mark.parametrize("case", example_cases(), ids=lambda p: p.name)
def test_readme_excerpt_matches_render(case: Path) -> None:
    """The documented status and composed kinds are what the function answers those files with.

    The Ready line is core's, so only the real render checks it (tests/realtools/test_render.py).
    """
    xr, desired = _rendered(case)
    excerpt = documented()[case.name].prints
    assert excerpt.split("\n", 1)[1] == summary(xr, desired, with_ready=False)
