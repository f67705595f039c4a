"""The provider CRD files every test gathers: the shared snapshot's, and any derived here.

The function composes provider-upjet-aws ``SecurityGroupEgressRule`` (``ec2.aws.upbound.io``
and ``ec2.aws.m.upbound.io``), whose CRDs are not in ``../shared/crds``; CRDs are never
copied into this repository. At tag v2.6.0 of crossplane-contrib/provider-upjet-aws (commit
857b535dd0eb9b8242ad9d7c4e54aaa3e4616d60, the tag the shared snapshot comes from),
``package/crds/ec2.aws{,.m}.upbound.io_securitygroupegressrules.yaml`` are the shared
``..._securitygroupingressrules.yaml`` with three words renamed (``SecurityGroupIngressRule``,
``securitygroupingressrules`` and ``securitygroupingressrule`` to their ``Egress`` forms) and
with descriptions saying "destination" where the ingress ones say "source": both kinds are
generated from Terraform resources with one schema (``aws_vpc_security_group_{ingress,
egress}_rule``). So the tests derive each missing egress CRD from the shared ingress one by
that renaming, at test time, into a folder outside the checkout, and use it wherever they
gather CRDs: ``crdcheck`` (the Python checks), the schema folders given to ``crossplane
resource validate`` and the CRDs installed on the control plane for server-side dry runs.
The descriptions stay the ingress ones; nothing validates against a description.

The real file wins: once ``../shared/crds/provider-upjet-aws/`` has an egress CRD, it is used
as it is and nothing is derived for it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Final

UPJET: Final = "provider-upjet-aws"
# Folders of the snapshot that hold no CRDs a composed resource uses.
NOT_COMPOSED: Final = frozenset({"vcluster"})
# Derived file -> the shared file it is derived from, both in ``provider-upjet-aws/``.
DERIVED_FROM: Final = {
    f"{group}_securitygroupegressrules.yaml": f"{group}_securitygroupingressrules.yaml"
    for group in ("ec2.aws.upbound.io", "ec2.aws.m.upbound.io")
}
# Longest first, so that the plural is renamed before the singular it contains.
RENAMES: Final = (
    ("SecurityGroupIngressRule", "SecurityGroupEgressRule"),
    ("securitygroupingressrules", "securitygroupegressrules"),
    ("securitygroupingressrule", "securitygroupegressrule"),
)
# Bump when the derivation changes, so that no stale derived file is reused.
RECIPE: Final = "egress-from-ingress/1"


def derive(ingress_crd: str) -> str:
    """The egress rule CRD's text from the ingress rule CRD's (provider-upjet-aws v2.6.0)."""
    text = ingress_crd
    for old, new in RENAMES:
        text = text.replace(old, new)
    return text


def _missing(crds: Path) -> list[tuple[str, Path]]:
    """(derived name, its source) for every derived CRD the snapshot lacks but can source."""
    folder = crds / UPJET
    return [
        (name, folder / source)
        for name, source in sorted(DERIVED_FROM.items())
        if not (folder / name).is_file() and (folder / source).is_file()
    ]


def derived_root(crds: Path) -> Path | None:
    """The folder of derived CRDs (``<root>/provider-upjet-aws/``), written once; None if none.

    Outside the checkout, named by a digest of the sources and the recipe, so that every
    test process (pytest-xdist workers, the mutation runs) shares one copy and a changed
    source makes a new one. Each file is written whole (rename into place), so a reader
    never sees half of one.
    """
    missing = _missing(crds)
    if not missing:
        return None
    digest = hashlib.sha256(RECIPE.encode())
    for name, source in missing:
        digest.update(name.encode())
        digest.update(source.read_bytes())
    root = (
        Path(tempfile.gettempdir())
        / f"function-vcluster-environment-crds-{digest.hexdigest()[:16]}"
    )
    folder = root / UPJET
    for name, source in missing:
        target = folder / name
        if target.is_file():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.{os.getpid()}.tmp"
        partial.write_text(derive(source.read_text(encoding="utf-8")), encoding="utf-8")
        partial.replace(target)
    return root


def derived_files(crds: Path) -> list[Path]:
    """The derived CRD files (none once the snapshot has them all)."""
    root = derived_root(crds)
    return [] if root is None else sorted((root / UPJET).glob("*.yaml"))


def schema_folders(crds: Path) -> list[Path]:
    """The CRD folders composed resources validate against: the snapshot's, then the derived.

    The snapshot's folders are named as in ``crds`` (``crossplane``, ``provider-upjet-aws``,
    ...); the derived one is another ``provider-upjet-aws`` folder, outside the checkout.
    """
    shared = sorted(p for p in crds.iterdir() if p.is_dir() and p.name not in NOT_COMPOSED)
    root = derived_root(crds)
    return [*shared, *([] if root is None else [root / UPJET])]


def crd_files(crds: Path, *, folders: set[str] | None = None) -> list[Path]:
    """Every CRD file of the snapshot's folders (all but ``NOT_COMPOSED``), and the derived.

    ``folders`` keeps only the snapshot's folders of those names; the derived files count as
    ``provider-upjet-aws``'s.
    """
    wanted = [
        folder
        for folder in sorted(crds.iterdir())
        if folder.is_dir() and folder.name not in NOT_COMPOSED
        if folders is None or folder.name in folders
    ]
    shared = [path for folder in wanted for path in sorted(folder.glob("*.yaml"))]
    derived = derived_files(crds) if folders is None or UPJET in folders else []
    return [*shared, *derived]
