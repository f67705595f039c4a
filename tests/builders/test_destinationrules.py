"""The DestinationRule builder alone: a circuit breaker on an app's Service, in both modes."""

from __future__ import annotations

from typing import Any

import pytest
from apps import API, ISTIO, MODES, SLUG, composed, fqdn, ingress_input, manifest, xr
from contexts import context

from function.builders import destinationrules
from function.model.errors import InvalidError

INT32_MAX = 2**31 - 1


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


@pytest.mark.parametrize(
    ("reason", "field", "rendered"),
    [
        pytest.param("the connection limit is an int32 in the CRD", "maxConnections",
                     ("connectionPool", "tcp", "maxConnections"), id="max-connections"),
        pytest.param("so is the pending request limit", "maxPendingRequests",
                     ("connectionPool", "http", "http1MaxPendingRequests"),
                     id="max-pending-requests"),
        pytest.param("so is the 5xx count that ejects a host", "consecutive5xxErrors",
                     ("outlierDetection", "consecutive5xxErrors"), id="consecutive-5xx-errors"),
    ],
)  # fmt: skip
def test_int32_limits(reason: str, field: str, rendered: tuple[str, ...]) -> None:
    """The largest int32 is rendered as given; one more is refused naming the field."""
    resources = composed([{**API, "circuitBreaker": {field: INT32_MAX}}], ISTIO,
                         build=destinationrules.build)  # fmt: skip
    found: Any = manifest(resources, "destination-rule-api")["spec"]["trafficPolicy"]
    for part in rendered:
        found = found[part]
    assert found == INT32_MAX, reason
    too_large = context(xr([{**API, "circuitBreaker": {field: 2**31}}]), ingress_input(ISTIO))
    with pytest.raises(InvalidError) as raised:
        destinationrules.build(too_large)
    assert str(raised.value) == (
        f"spec.apps[0].circuitBreaker.{field}: 2147483648 is more than the maximum {INT32_MAX}"
    ), reason


@pytest.mark.parametrize(
    ("reason", "breaker", "message"),
    [
        pytest.param("outlier detection needs a positive interval (Istio CEL: at least 1ms)",
                     {"interval": "0ms"},
                     "spec.apps[0].circuitBreaker.interval: '0ms' must be at least 1ms",
                     id="interval-zero"),
        pytest.param("an ejected host must stay out for some time (Istio CEL: at least 1ms)",
                     {"baseEjectionTime": "0s"},
                     "spec.apps[0].circuitBreaker.baseEjectionTime: '0s' must be at least 1ms",
                     id="base-ejection-time-zero"),
    ],
)  # fmt: skip
def test_durations_at_least_1ms(reason: str, breaker: dict[str, Any], message: str) -> None:
    """A zero duration in outlier detection is refused naming the field."""
    ctx = context(xr([{**API, "circuitBreaker": breaker}]), ingress_input(ISTIO))
    with pytest.raises(InvalidError) as raised:
        destinationrules.build(ctx)
    assert str(raised.value) == message, reason
