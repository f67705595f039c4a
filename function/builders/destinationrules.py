"""Circuit breakers: an Istio DestinationRule on each app's Service that asks for one.

In both ingress modes: Istio applies a DestinationRule to the Service whichever
routing API sent the request there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.model import keys, naming
from function.model.context import Context, Desired
from function.model.errors import InvalidError
from function.model.types import duration_ms

if TYPE_CHECKING:
    from function.model.spec import CircuitBreaker

INT32_MAX = 2**31 - 1


def _at_least_1ms(field: str, text: str) -> str:
    if duration_ms(text) == 0:
        msg = f"{field}: {text!r} must be at least 1ms"
        raise InvalidError(msg)
    return text


def _int32(field: str, value: int) -> int:
    if value > INT32_MAX:
        msg = f"{field}: {value} is more than the maximum {INT32_MAX}"
        raise InvalidError(msg)
    return value


def _traffic_policy(field: str, breaker: CircuitBreaker) -> dict[str, Any]:
    field = f"{field}.circuitBreaker"
    return {
        "connectionPool": {
            "tcp": {"maxConnections": _int32(f"{field}.maxConnections", breaker.max_connections)},
            "http": {
                "http1MaxPendingRequests": _int32(
                    f"{field}.maxPendingRequests", breaker.max_pending_requests
                )
            },
        },
        "outlierDetection": {
            "consecutive5xxErrors": _int32(
                f"{field}.consecutive5xxErrors", breaker.consecutive_5xx_errors
            ),
            "interval": _at_least_1ms(f"{field}.interval", breaker.interval),
            "baseEjectionTime": _at_least_1ms(
                f"{field}.baseEjectionTime", breaker.base_ejection_time
            ),
            "maxEjectionPercent": breaker.max_ejection_percent,
        },
    }


def build(ctx: Context) -> list[Desired]:
    """A DestinationRule per app with a circuit breaker, for the app's own Service.

    Raises:
        InvalidError: Two apps put a circuit breaker on one Service (Istio would
            apply only one DestinationRule per host).
    """
    desired: list[Desired] = []
    owners: dict[str, str] = {}
    for index, app in enumerate(ctx.spec.apps):
        if app.circuit_breaker is None:
            continue
        field = f"spec.apps[{index}]"
        host = ctx.names.host_service_fqdn(app.service, app.namespace)
        if (owner := owners.setdefault(host, app.name)) != app.name:
            msg = (
                f"{field}.circuitBreaker: app {owner!r} already has one for service "
                f"{app.service!r} in namespace {app.namespace!r}, and Istio applies one "
                "DestinationRule per host; set it on one of them"
            )
            raise InvalidError(msg)
        key = keys.destination_rule(app.name)
        rule = {
            "apiVersion": naming.ISTIO_API_VERSION,
            "kind": "DestinationRule",
            "metadata": {
                "name": f"{ctx.names.env}-{app.name}",
                "namespace": ctx.names.host_namespace,
                "labels": ctx.labels(key),
            },
            "spec": {"host": host, "trafficPolicy": _traffic_policy(field, app.circuit_breaker)},
        }
        desired.append(Desired(key, ctx.k8s_object(key, rule), role=keys.DESTINATION_RULE))
    return desired
