"""Names derived from the environment's name."""

from __future__ import annotations

import pytest

from function.model.naming import K8S_NAME_MAX, LB_NAME_MAX, Names, identity_suffix
from function.model.types import ENV_NAME_MAX


@pytest.mark.parametrize(
    ("service", "namespace", "env", "expected"),
    [
        pytest.param("web", "default", "prod", "web-x-default-x-prod", id="short"),
        pytest.param(
            "a" * 30, "b" * 20, "prod-env",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x-bbbbbbbbbbbbbbbbbbb-c4791ac7fc",
            id="hashed-above-63",
        ),
        # 63 characters is still a valid name: kept whole.
        pytest.param("s" * 46, "default", "prod", "s" * 46 + "-x-default-x-prod", id="exactly-63"),
        # 64 characters: cut to 52, then '-' and the first 10 hex digits of sha256(joined).
        pytest.param("s" * 47, "default", "prod", "s" * 47 + "-x-de-aecec5899e", id="64-hashed"),
        # A cut ending in '.' would give '.-', which vCluster turns into '-'.
        pytest.param("a" * 51 + ".b" * 8, "default", "prod", "a" * 51 + "-98e112ef48",
                     id="cut-at-a-dot"),
    ],
)  # fmt: skip
def test_vcluster_host_service_name(service: str, namespace: str, env: str, expected: str) -> None:
    """Routes use the name vCluster gives a synced Service on the host."""
    name = Names(env, "0123abcd").host_service(service, namespace)
    assert name == expected
    assert len(name) <= 63


@pytest.mark.parametrize(
    ("xr_name", "xr_namespace", "expected", "why"),
    [
        pytest.param("orders-x7k2p", None, "fc232778", "a claim's XR: its cluster-unique name",
                     id="legacy"),
        pytest.param("orders", "team-a", "75c1a60b", "a v2 XR: namespace and name", id="v2-a"),
        pytest.param("orders", "team-b", "f074088e", "the same name in another namespace",
                     id="v2-b"),
    ],
)  # fmt: skip
def test_identity_suffix(xr_name: str, xr_namespace: str | None, expected: str, why: str) -> None:
    """The suffix is a fixed digest of the XR's identity: the same on every call and render."""
    assert identity_suffix(xr_name, xr_namespace) == expected, why


@pytest.mark.parametrize(
    ("env", "load_balancer", "why"),
    [
        pytest.param("orders", "orders-0123abcd-nlb", "a short name is kept whole", id="short"),
        pytest.param("a" * ENV_NAME_MAX, "aaaaaaaaaaaaaaaaaaa-0123abcd-nlb",
                     "the longest name is cut to fit, the suffix kept", id="longest"),
        pytest.param("abcdefghijklmnopqr-stu", "abcdefghijklmnopqr-0123abcd-nlb",
                     "a cut never leaves two dashes", id="cut-at-dash"),
    ],
)  # fmt: skip
def test_elbv2_names_fit(env: str, load_balancer: str, why: str) -> None:
    """Load balancer and target group names fit AWS's 32 characters for every valid name."""
    names = Names(env, "0123abcd")
    assert names.load_balancer == load_balancer, why
    assert len(names.target_group) <= LB_NAME_MAX


def test_longest_name_fits_the_host_namespace() -> None:
    """The XRD's maxLength for spec.name is exactly what the host namespace allows."""
    assert len(Names("a" * ENV_NAME_MAX, "0123abcd").host_namespace) == K8S_NAME_MAX
