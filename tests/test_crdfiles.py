"""The egress rule CRDs the tests derive from the shared ingress ones (tests/crdfiles.py).

provider-upjet-aws v2.6.0 (commit 857b535dd0eb9b8242ad9d7c4e54aaa3e4616d60) ships
``ec2.aws{,.m}.upbound.io_securitygroupegressrules.yaml`` equal to the ingress rule CRDs but
for the kind's names and the words "source"/"destination" in descriptions; the shared
snapshot has only the ingress ones. These tests prove the derived CRDs are what that fact
says: the egress kind, plural and name in the same group, and the very same schema as the
ingress CRD once descriptions are set aside; and that a real file, once shared, wins.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

import crdcheck
import crdfiles
import pytest
import yaml

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.usefixtures("crds_present")

GROUPS = ("ec2.aws.upbound.io", "ec2.aws.m.upbound.io")


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _without_descriptions(node: Any) -> Any:
    """A schema with every ``description`` left out (they differ: source vs destination)."""
    if isinstance(node, dict):
        return {k: _without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_without_descriptions(item) for item in node]
    return node


def _derived(group: str) -> Path:
    crds = crdcheck.crds_dir()
    real = crds / crdfiles.UPJET / f"{group}_securitygroupegressrules.yaml"
    if real.is_file():
        return real
    (found,) = [p for p in crdfiles.derived_files(crds) if p.name == real.name]
    return found


@pytest.mark.parametrize("group", GROUPS)
def test_derived_crd_names_the_egress_kind(group: str) -> None:
    """Kind, list kind, plural, singular and name are the egress rule's, in the same group."""
    crd = _load(_derived(group))
    names = crd["spec"]["names"]
    assert crd["spec"]["group"] == group
    assert crd["metadata"]["name"] == f"securitygroupegressrules.{group}"
    assert (names["kind"], names["listKind"]) == (
        "SecurityGroupEgressRule",
        "SecurityGroupEgressRuleList",
    )
    assert (names["plural"], names["singular"]) == (
        "securitygroupegressrules",
        "securitygroupegressrule",
    )
    assert "ingress" not in yaml.safe_dump(_without_descriptions(crd)).lower()


@pytest.mark.parametrize("group", GROUPS)
def test_derived_schema_is_the_ingress_schema(group: str) -> None:
    """Every served version's schema equals the ingress rule's, descriptions aside."""
    ingress = _load(
        crdcheck.crds_dir() / crdfiles.UPJET / f"{group}_securitygroupingressrules.yaml"
    )
    egress = _load(_derived(group))
    assert [v["name"] for v in egress["spec"]["versions"]] == [
        v["name"] for v in ingress["spec"]["versions"]
    ]
    assert _without_descriptions(egress["spec"]["versions"]) == _without_descriptions(
        ingress["spec"]["versions"]
    )
    assert egress["spec"]["scope"] == ingress["spec"]["scope"]


@pytest.mark.parametrize("group", GROUPS)
def test_crdcheck_knows_the_egress_kind(group: str) -> None:
    """The Python checks find the kind through the shared index, like every other kind."""
    assert (f"{group}/v1beta1", "SecurityGroupEgressRule") in crdcheck.known_kinds()


def test_the_real_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the snapshot has an egress CRD, it is used as it is and nothing is derived for it."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    folder = tmp_path / crdfiles.UPJET
    folder.mkdir()
    for source in crdfiles.DERIVED_FROM.values():
        (folder / source).write_text("kind: Ingress\n", encoding="utf-8")
    real, derived = sorted(crdfiles.DERIVED_FROM)
    (folder / real).write_text("kind: Real\n", encoding="utf-8")
    assert [p.name for p in crdfiles.derived_files(tmp_path)] == [derived]
    assert [p.name for p in crdfiles.crd_files(tmp_path) if p.name == real] == [real]
    assert (folder / real).read_text(encoding="utf-8") == "kind: Real\n"
    (folder / derived).write_text("kind: Real\n", encoding="utf-8")
    assert crdfiles.derived_files(tmp_path) == []
    assert crdfiles.derived_root(tmp_path) is None


def test_renaming() -> None:
    """The plural is renamed before the singular it contains; nothing else changes."""
    text = "SecurityGroupIngressRule securitygroupingressrules securitygroupingressrule source"
    assert crdfiles.derive(text) == (
        "SecurityGroupEgressRule securitygroupegressrules securitygroupegressrule source"
    )
