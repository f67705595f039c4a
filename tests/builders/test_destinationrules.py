"""The DestinationRule builder alone: a circuit breaker on an app's Service, in both modes."""

from __future__ import annotations

from typing import Any

import crdcheck
import pytest
from apps import API, ISTIO, MODES, SLUG, composed, fqdn, ingress_input, manifest, objects, xr
from contexts import context, embedded

from function.builders import destinationrules
from function.model import keys
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


@pytest.mark.usefixtures("crds_present")
def test_destination_rules_exactly() -> None:
    """A DestinationRule only for each app with a breaker, wherever it is in the list.

    A Service is one host per name and namespace: the same name in another namespace
    is another Service, which may have a breaker of its own.
    """
    apps = [{"name": "web", "service": "web"},
            {**API, "circuitBreaker": {}},
            {**API, "name": "other", "pathPrefix": "/other", "namespace": "other",
             "circuitBreaker": {}}]  # fmt: skip
    ctx = context(xr(apps), ingress_input(ISTIO))
    desired = destinationrules.build(ctx)
    assert [(item.key, item.role, item.waiting_for) for item in desired] == [
        ("destination-rule-api", keys.DESTINATION_RULE, ""),
        ("destination-rule-other", keys.DESTINATION_RULE, ""),
    ]
    # Each Object is labelled with its own key, as every composed resource is.
    assert [objects(desired)[item.key]["metadata"] for item in desired] == [
        ctx.metadata(item.key) for item in desired
    ]
    rule = embedded(desired, "destination-rule-other")
    assert {field: rule[field] for field in ("apiVersion", "kind", "metadata")} == {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "prod-env-other", "namespace": f"vcluster-{SLUG}",
                     "labels": ctx.labels("destination-rule-other")},
    }  # fmt: skip
    # The defaults of the claim's circuitBreaker, as Istio's fields.
    assert rule["spec"] == {
        "host": fqdn("api", "other"),
        "trafficPolicy": {
            "connectionPool": {"tcp": {"maxConnections": 1024},
                               "http": {"http1MaxPendingRequests": 1024}},
            "outlierDetection": {"consecutive5xxErrors": 5, "interval": "10s",
                                 "baseEjectionTime": "30s", "maxEjectionPercent": 50},
        },
    }  # fmt: skip
    assert crdcheck.validate(rule) == []


def test_one_breaker_per_service() -> None:
    """Istio applies one DestinationRule per host, so a second breaker on a Service is refused."""
    apps = [{**API, "circuitBreaker": {}},
            {**API, "name": "other", "pathPrefix": "/other", "circuitBreaker": {}}]  # fmt: skip
    with pytest.raises(InvalidError) as raised:
        destinationrules.build(context(xr(apps), ingress_input(ISTIO)))
    assert str(raised.value) == (
        "spec.apps[1].circuitBreaker: app 'api' already has one for service 'api' in namespace "
        "'backend', and Istio applies one DestinationRule per host; set it on one of them"
    )
