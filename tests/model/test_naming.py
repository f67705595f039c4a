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


SUFFIX = "0123456789abcdef"  # as long as identity_suffix's


@pytest.mark.parametrize(
    ("xr_name", "xr_namespace", "expected", "why"),
    [
        pytest.param("orders-x7k2p", None, "fc232778138b2fcf",
                     "a claim's XR: its cluster-unique name", id="legacy"),
        pytest.param("orders", "team-a", "75c1a60b898072af", "a v2 XR: namespace and name",
                     id="v2-a"),
        pytest.param("orders", "team-b", "f074088eb9f56fe3", "the same name in another namespace",
                     id="v2-b"),
    ],
)  # fmt: skip
def test_identity_suffix(xr_name: str, xr_namespace: str | None, expected: str, why: str) -> None:
    """The suffix is a fixed digest of the XR's identity: the same on every call and render."""
    assert identity_suffix(xr_name, xr_namespace) == expected, why


@pytest.mark.parametrize(
    ("env", "load_balancer", "why"),
    [
        pytest.param("orders", "orders-0123456789abcdef-nlb", "a short name is kept whole",
                     id="short"),
        pytest.param("a" * ENV_NAME_MAX, "aaaaaaaaaaa-0123456789abcdef-nlb",
                     "the longest name is cut to fit, the suffix kept", id="longest"),
        pytest.param("abcdefghij-klmno", "abcdefghij-0123456789abcdef-nlb",
                     "a cut never leaves two dashes", id="cut-at-dash"),
    ],
)  # fmt: skip
def test_elbv2_names_fit(env: str, load_balancer: str, why: str) -> None:
    """Load balancer and target group names fit AWS's 32 characters for every valid name."""
    names = Names(env, SUFFIX)
    assert names.load_balancer == load_balancer, why
    assert len(names.target_group) <= LB_NAME_MAX


@pytest.mark.parametrize(
    ("env", "namespace", "why"),
    [
        pytest.param("orders", "vcluster-orders-0123456789abcdef", "a short name is kept whole",
                     id="short"),
        pytest.param("a" * ENV_NAME_MAX, "vcluster-" + "a" * 37 + "-0123456789abcdef",
                     "the longest name is cut to fit the 63-character label", id="longest"),
        pytest.param("a" * 36 + "-b", "vcluster-" + "a" * 36 + "-0123456789abcdef",
                     "a cut never leaves two dashes", id="cut-at-dash"),
    ],
)  # fmt: skip
def test_host_namespace_fits(env: str, namespace: str, why: str) -> None:
    """The host namespace is a DNS label for every valid name, the whole suffix kept."""
    assert Names(env, SUFFIX).host_namespace == namespace, why
    assert len(namespace) <= K8S_NAME_MAX


def test_longest_slug_is_a_dns_label() -> None:
    """The XRD's maxLength for spec.name leaves room for the suffix in one DNS label."""
    assert len(Names("a" * ENV_NAME_MAX, SUFFIX).slug) <= K8S_NAME_MAX
