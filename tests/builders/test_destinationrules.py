"""The DestinationRule builder alone: a circuit breaker on an app's Service, in both modes."""

from __future__ import annotations

import pytest
from apps import API, MODES, SLUG, composed, fqdn, manifest

from function.builders import destinationrules


@pytest.mark.parametrize("mode", MODES)
def test_destination_rule(mode: str) -> None:
    """A circuit breaker is a DestinationRule for the app's Service in both modes.

    Istio applies a DestinationRule to the Service whichever API routed the request.
    """
    breaker = {"maxConnections": 200, "maxPendingRequests": 50, "consecutive5xxErrors": 7,
               "interval": "5s", "baseEjectionTime": "1m", "maxEjectionPercent": 30}  # fmt: skip
    resources = composed([{**API, "circuitBreaker": breaker}], mode, build=destinationrules.build)
    rule = manifest(resources, "destination-rule-api")
    assert rule["metadata"]["namespace"] == f"vcluster-{SLUG}"
    assert rule["spec"] == {
        "host": fqdn("api"),
        "trafficPolicy": {
            "connectionPool": {
                "tcp": {"maxConnections": 200},
                "http": {"http1MaxPendingRequests": 50},
            },
            "outlierDetection": {
                "consecutive5xxErrors": 7,
                "interval": "5s",
                "baseEjectionTime": "1m",
                "maxEjectionPercent": 30,
            },
        },
    }
