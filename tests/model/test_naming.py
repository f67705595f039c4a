"""Names derived from the environment's name."""

from __future__ import annotations

import pytest

from function.model.naming import Names


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
    name = Names(env).host_service(service, namespace)
    assert name == expected
    assert len(name) <= 63
