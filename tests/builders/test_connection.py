"""The connection builder alone: the endpoint as details, and a v2 XR's Secret."""

from __future__ import annotations

import base64

import pytest
from contexts import claim, context, reported

from function.builders import connection
from function.model import keys

INVOKE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/"
STAGE = {keys.STAGE: reported(invokeUrl=INVOKE_URL)}


@pytest.mark.parametrize(
    ("shape", "secret"),
    [pytest.param("legacy", False, id="legacy-uses-connection-details"),
     pytest.param("namespaced", True, id="v2-composes-secret")],
)  # fmt: skip
def test_connection_publishing(shape: str, secret: bool) -> None:
    """A v2 XR publishes its endpoint in a composed Secret; a legacy XR via connection details."""
    ctx = context(claim(shape=shape), observed=STAGE)
    assert connection.details(ctx) == {"endpoint": INVOKE_URL}
    desired = connection.build(ctx)
    assert bool(desired) is secret
    if secret:
        (item,) = desired
        assert item.key == keys.CONNECTION_SECRET
        assert item.manifest is not None
        assert base64.b64decode(item.manifest["data"]["endpoint"]).decode() == INVOKE_URL
        assert item.manifest["metadata"]["namespace"] == "team-a"
        assert item.manifest["metadata"]["name"] == "production-vcluster-connection"


def test_no_details_before_the_stage_reports_its_url() -> None:
    """Until the stage reports its invoke URL there is no endpoint to publish."""
    ctx = context(claim(shape="namespaced"))
    assert connection.details(ctx) == {}
    (item,) = connection.build(ctx)
    assert item.manifest is not None
    assert item.manifest["data"] == {}


def test_secret_manifest() -> None:
    """The Secret is Crossplane's connection-secret type, labelled for this XR's environment."""
    (item,) = connection.build(context(claim(shape="namespaced"), observed=STAGE))
    assert item.manifest == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "production-vcluster-connection",
            "namespace": "team-a",
            "labels": {
                "platform.example.org/environment": "prod-env-1747f004f355faef",
                "platform.example.org/resource": keys.CONNECTION_SECRET,
            },
        },
        "type": "connection.crossplane.io/v1alpha1",
        # base64 of INVOKE_URL, as a Secret's data must be.
        "data": {
            "endpoint": "aHR0cHM6Ly9hYmMxMjMuZXhlY3V0ZS1hcGkudXMtZWFzdC0xLmFtYXpvbmF3cy5jb20v"
        },
    }


def test_no_secret_without_api_gateway() -> None:
    """A v2 XR without API Gateway has no endpoint to publish, so no Secret."""
    ctx = context(claim(shape="namespaced", include=["grafana"]), observed=STAGE)
    assert connection.build(ctx) == []
