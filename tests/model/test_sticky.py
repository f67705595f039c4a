"""Which observed names an environment keeps: only 0.1.0's own, only from its own resources."""

from __future__ import annotations

from typing import Any

import pytest

from function.model import naming, sticky
from function.model.naming import Names, Shape
from function.model.observed import Observed

LB_V1 = naming.LB.api_version(Shape.LEGACY)
OBJECT_V1 = naming.OBJECT.api_version(Shape.LEGACY)


def _lb(name: Any, api_version: str = LB_V1, kind: str = "LB") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "spec": {"forProvider": {"name": name}}}


def _namespace(name: str, kind: str = "Namespace") -> dict[str, Any]:
    manifest = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    return {
        "apiVersion": OBJECT_V1,
        "kind": "Object",
        "spec": {"forProvider": {"manifest": manifest}},
    }


def _integration(tenant: str) -> dict[str, Any]:
    parameters = {f"overwrite:header.{naming.TENANT_HEADER}": tenant}
    return {
        "apiVersion": naming.INTEGRATION.api_version(Shape.LEGACY),
        "kind": "Integration",
        "spec": {"forProvider": {"requestParameters": parameters}},
    }


@pytest.mark.parametrize(
    ("observed", "shape", "kept"),
    [
        # An NLB 0.1.0 named after spec.name keeps its name: renaming replaces it.
        pytest.param({"nlb": _lb("orders-nlb")}, Shape.LEGACY, {"load_balancer": "orders-nlb"},
                     id="0.1.0-nlb-kept"),
        # The same NLB in a v2 XR, under the namespaced API group.
        pytest.param({"nlb": _lb("orders-nlb", naming.LB.api_version(Shape.NAMESPACED))},
                     Shape.NAMESPACED, {"load_balancer": "orders-nlb"}, id="0.1.0-nlb-v2"),
        # Another environment's 0.1.0 name is never taken, even from our own key.
        pytest.param({"nlb": _lb("payments-nlb")}, Shape.LEGACY, {}, id="other-env-name"),
        # A name this version gives needs no keeping.
        pytest.param({"nlb": _lb("orders-0123abcd-nlb")}, Shape.LEGACY, {}, id="fresh-name"),
        # Under our key, an object of another kind is not ours: its name tells nothing.
        pytest.param({"nlb": _lb("orders-nlb", kind="Secret")}, Shape.LEGACY, {},
                     id="other-kind"),
        # Nor one of the other shape's API group.
        pytest.param({"nlb": _lb("orders-nlb", naming.LB.api_version(Shape.NAMESPACED))},
                     Shape.LEGACY, {}, id="other-api-group"),
        # A garbled name (not a string) is no name this function sent.
        pytest.param({"nlb": _lb(["orders-nlb"])}, Shape.LEGACY, {}, id="not-a-string"),
        # The host namespace 0.1.0 made is kept, so the vCluster and its data stay.
        pytest.param({"namespace": _namespace("vcluster-orders")}, Shape.LEGACY,
                     {"host_namespace": "vcluster-orders"}, id="0.1.0-namespace"),
        # An Object under the namespace key that applies something else is not ours.
        pytest.param({"namespace": _namespace("vcluster-orders", "ConfigMap")}, Shape.LEGACY, {},
                     id="object-of-other-manifest"),
        # The tenant header value routes are matched on stays until the integration is gone.
        pytest.param({"integration": _integration("orders")}, Shape.LEGACY, {"tenant": "orders"},
                     id="0.1.0-tenant"),
        # A tenant value of another environment is never taken.
        pytest.param({"integration": _integration("payments")}, Shape.LEGACY, {},
                     id="other-tenant"),
        # Nothing observed: a new environment, nothing kept.
        pytest.param({}, Shape.LEGACY, {}, id="new-environment"),
    ],
)  # fmt: skip
def test_kept(observed: dict[str, Any], shape: Shape, kept: dict[str, str]) -> None:
    assert sticky.kept(Observed(observed), shape, "orders") == kept


def test_kept_names_replace_fresh_ones_only_where_kept() -> None:
    """A kept name wins over the fresh one; every other name stays suffixed."""
    names = Names("orders", "0123abcd", {"load_balancer": "orders-nlb"})
    assert (names.load_balancer, names.target_group) == ("orders-nlb", "orders-0123abcd-tg")


def test_every_sticky_name_is_a_names_property() -> None:
    """Each rule keeps a name ``Names`` gives, and 0.1.0 named each one."""
    names = Names("orders", "0123abcd")
    for rule in sticky.STICKY:
        assert isinstance(getattr(names, rule.name), str)
    assert {rule.name for rule in sticky.STICKY} == set(sticky.version_0_1_0("orders"))
