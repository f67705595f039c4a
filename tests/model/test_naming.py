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
    ],
)  # fmt: skip
def test_vcluster_host_service_name(service: str, namespace: str, env: str, expected: str) -> None:
    """Routes use the name vCluster gives a synced Service on the host."""
    name = Names(env).host_service(service, namespace)
    assert name == expected
    assert len(name) <= 63
