"""What ``crossplane resource validate`` catches, shown on broken copies of our own output.

The render suite trusts crank to reject a bad resource; these tests show it does (unknown
fields, CEL-required fields, wrong types, status schemas, XRD rules), that it agrees with
tests/crdcheck.py's own case table on everything schema and CEL, and where crdcheck still
sees more (object metadata, embedded-resource kinds). Each module makes one crank call.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from conftest import COMPOSITIONS, ROOT, SEED, as_shape, load, platform_input
from test_crdcheck import INVALID, VALID

from realtools import emulation
from realtools.crank import write_documents
from realtools.project import simulated

if TYPE_CHECKING:
    from pathlib import Path

    from realtools.crank import Crank

XRDS = ROOT / "xrds"
PACKAGE_INPUT_CRDS = ROOT / "package" / "input"
Document = dict[str, Any]


@cache
def _seed_round() -> dict[str, Document]:
    """The seed claim's last round as simulate composed it (legacy shape)."""
    result = simulated(as_shape(load(SEED), "legacy"), platform_input())
    assert result.converged
    return result.rounds[-1].desired


def _composed(key: str) -> Document:
    return copy.deepcopy(_seed_round()[key])


def _edited(document: Document, path: str, value: Any = None, *, drop: bool = False) -> Document:
    """A copy of ``document`` with ``path`` (dotted) set to ``value``, or dropped."""
    edited = copy.deepcopy(document)
    *parents, last = path.split(".")
    holder = edited
    for step in parents:
        holder = holder[int(step)] if isinstance(holder, list) else holder.setdefault(step, {})
    if drop:
        del holder[last]
    else:
        holder[last] = value
    return edited


def _integration() -> Document:
    return _composed("integration")


def _observed_namespace() -> Document:
    return emulation.observe(_composed("namespace"), [])


def _xr() -> Document:
    return as_shape(load(SEED), "legacy")


def _xrd_v2_with_claims() -> Document:
    return _edited(load(XRDS / "xrd-v2.yaml"), "spec.claimNames", {"kind": "X", "plural": "xs"})


APPS_ON_ONE_PREFIX = [
    {"name": "web", "service": "web", "pathPrefix": "/app"},
    {"name": "api", "service": "api", "pathPrefix": "/app"},
]

# (document builder, crank's verdict, error type, field the error names)
CASES = [
    pytest.param(
        _integration, "valid", None, None,
        id="own-integration",
    ),  # Our own output passes, so what fails below fails for the edit alone.
    pytest.param(
        lambda: _edited(_integration(), "spec.forProvider.integrationTyp", "HTTP_PROXY"),
        "invalid", "unknownField", "spec.forProvider.integrationTyp",
        id="unknown-field",
    ),  # The API server would prune a misspelt field silently; crank names it.
    pytest.param(
        lambda: _edited(_integration(), "spec.forProvider.integrationType", drop=True),
        "invalid", "cel", "spec",
        id="cel-required-field",
    ),  # Upjet requires integrationType only through a CEL rule, which crank evaluates.
    pytest.param(
        lambda: _edited(_integration(), "spec.forProvider.timeoutMilliseconds", "30000"),
        "invalid", "schema", "spec.forProvider.timeoutMilliseconds",
        id="wrong-type",
    ),  # A quoted number is a type error.
    pytest.param(
        lambda: _edited(_observed_namespace(), "status.atProvider.id", "abc"),
        "invalid", "unknownField", "status.atProvider.id",
        id="object-status-id",
    ),  # provider-kubernetes' Object status has no atProvider.id: the emulation must not add one.
    pytest.param(
        lambda: _edited(_observed_namespace(), "status.conditions.0.reason", drop=True),
        "invalid", "schema", "status.conditions[0].reason",
        id="condition-without-reason",
    ),  # The CRDs require reason and lastTransitionTime on every condition.
    pytest.param(
        lambda: _edited(_xr(), "spec.apps", APPS_ON_ONE_PREFIX),
        "invalid", "cel", "spec.apps",
        id="xrd-cel-rule",
    ),  # The XRD's own CEL rule (one app per path prefix) applies to the XR.
    pytest.param(
        lambda: _edited(_xr(), "status.ready", "yes"),
        "invalid", "schema", "status.ready",
        id="xrd-status-type",
    ),  # The XR's status is checked against the XRD's status schema too.
    pytest.param(
        _xrd_v2_with_claims,
        "invalid", "cel", "spec",
        id="v2-xrd-with-claims",
    ),  # Crossplane's XRD CRD forbids claims in apiextensions.crossplane.io/v2, by CEL.
    pytest.param(
        lambda: _edited(_integration(), "kind", "Integrations"),
        "missingSchema", None, None,
        id="unknown-kind",
    ),  # No CRD defines the kind: reported as a missing schema, which the suites reject.
]  # fmt: skip


@pytest.fixture(scope="module")
def verdicts(cli: Crank, schemas: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Crank's result per case id, from one call over every case."""
    folder = tmp_path_factory.mktemp("cases")
    for index, case in enumerate(CASES):
        build = case.values[0]
        assert callable(build)
        document = build()
        document.setdefault("metadata", {})["name"] = case.id
        write_documents(folder / f"{index:03d}.yaml", [document])
    results = cli.validate([*schemas, XRDS], folder)
    return {result["name"]: result for result in results}


@pytest.mark.parametrize(
    ("case_id", "verdict", "kind", "field"),
    [pytest.param(case.id, *case.values[1:], id=case.id) for case in CASES],
)
def test_crank_verdict(
    verdicts: dict[str, Document], case_id: str, verdict: str, kind: str | None, field: str | None
) -> None:
    """Crank gives each broken copy of our output the verdict and error its defect calls for."""
    result = verdicts[case_id]
    assert result["status"] == verdict, result
    errors = [(e["type"], e["field"]) for e in result.get("errors", [])]
    assert errors == ([] if kind is None else [(kind, field)])


# tests/crdcheck.py's cases crank accepts: what only crdcheck (and a real API server) sees.
CRDCHECK_ONLY = {
    # ObjectMeta validation (label keys and values) is the API server's, not the schema's.
    "metadata-bad-labels",
    # Names must be DNS subdomains: again ObjectMeta, not the CRD schema.
    "metadata-bad-name",
    # x-kubernetes-embedded-resource requires apiVersion and kind; crank does not check it.
    "object-embedded-without-kind",
}


@pytest.fixture(scope="module")
def crdcheck_table(
    cli: Crank, schemas: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Crank's verdict on each of tests/test_crdcheck.py's cases, from one call."""
    folder = tmp_path_factory.mktemp("crdcheck-cases")
    cases = [*VALID, *INVALID]
    for index, case in enumerate(cases):
        write_documents(folder / f"{index:03d}.yaml", [case.values[0]])
    results = cli.validate(schemas, folder)
    assert len(results) == len(cases)
    return {case.id: result["status"] for case, result in zip(cases, results, strict=True)}


@pytest.mark.parametrize(
    ("case_id", "crdcheck_rejects"),
    [pytest.param(case.id, False, id=case.id) for case in VALID]
    + [pytest.param(case.id, True, id=case.id) for case in INVALID],
)
def test_crank_matches_crdcheck(
    crdcheck_table: dict[str, str], case_id: str, *, crdcheck_rejects: bool
) -> None:
    """On tests/crdcheck.py's own table crank rejects what crdcheck rejects, except metadata."""
    crank_rejects = crdcheck_table[case_id] != "valid"
    expected = crdcheck_rejects and case_id not in CRDCHECK_ONLY
    assert crank_rejects == expected, crdcheck_table[case_id]


PROJECT_FILES = [
    *sorted(XRDS.glob("*.yaml")),
    *sorted(COMPOSITIONS.glob("*.yaml")),
    ROOT / "examples" / "functions.yaml",
]


@pytest.mark.parametrize("path", PROJECT_FILES, ids=[p.name for p in PROJECT_FILES])
def test_project_manifest_is_valid(cli: Crank, schemas: list[Path], path: Path) -> None:
    """XRDs, Compositions (with the input each gives the function) and the Function are valid.

    Crank checks a Composition's pipeline inputs too, against the package's input CRD.
    """
    crossplane = next(folder for folder in schemas if folder.name == "crossplane")
    documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    results = cli.validate([crossplane, PACKAGE_INPUT_CRDS], path)
    inputs = [
        step
        for document in documents
        if document["kind"] == "Composition"
        for step in document["spec"]["pipeline"]
        if "input" in step
    ]
    checked = sorted((r["kind"], r["name"]) for r in results)
    expected = sorted(
        [(d["kind"], d["metadata"]["name"]) for d in documents]
        + [(step["input"]["kind"], "") for step in inputs]
    )
    assert checked == expected
    assert [r for r in results if r["status"] != "valid"] == []


# Every render-ready folder of examples/, and the XRDs that serve what it holds.
FOLDERS = sorted(path.parent for path in (ROOT / "examples").glob("*/xr.yaml"))
FOLDER_FILES = ("claim.yaml", "xr.yaml", "observed.yaml")


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_example_folder_is_valid(
    cli: Crank, schemas: list[Path], tmp_path: Path, folder: Path
) -> None:
    """The claim, the XR and the observed state of each folder are valid, statuses included."""
    entries = [
        document
        for name in FOLDER_FILES
        if (folder / name).is_file()
        for document in yaml.safe_load_all((folder / name).read_text(encoding="utf-8"))
        if document
    ]
    for index, document in enumerate(entries):
        write_documents(tmp_path / f"{index:03d}.yaml", [document])
    xrds = [*sorted(XRDS.glob("*.yaml")), *sorted(folder.glob("xrd.yaml"))]
    results = cli.validate([*schemas, *xrds], tmp_path)
    assert [r["kind"] for r in results] == [d["kind"] for d in entries]
    assert [f"{r['kind']} {r['name']}: {r.get('errors')}" for r in results
            if r["status"] != "valid"] == []  # fmt: skip
