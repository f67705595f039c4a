"""The custom domain: what is composed, in which order, what survives flapping, and status."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any

import crdcheck
import pytest
from conftest import SEED, as_shape, converged_observed, load, platform_input

from function.compose import Outcome, compose
from function.model import keys
from function.offline.simulate import simulate

ZONE = "Z0123456789ABCDEFGHIJ"
DOMAIN = "api.mycompany.com"  # the seed claim's
ALL_KEYS = {
    keys.CERTIFICATE,
    keys.VALIDATION_RECORD,
    keys.CERTIFICATE_VALIDATION,
    keys.DOMAIN_NAME,
    keys.API_MAPPING,
    keys.ALIAS_RECORD,
}
RECORDS = {keys.VALIDATION_RECORD, keys.ALIAS_RECORD}
WITH_ZONE = {"dns": {"hostedZoneId": ZONE}}
Observed = dict[str, dict[str, Any]]
Change = Callable[[Observed], None]


def _xr(shape: str = "legacy", **spec: Any) -> dict[str, Any]:
    xr = as_shape(load(SEED), shape)
    xr["spec"].update(copy.deepcopy(spec))
    return xr


@cache
def _converged_observed(zone: bool, shape: str = "legacy") -> Observed:
    """Observed state once the seed claim (with or without a hosted zone) has converged."""
    return converged_observed(_xr(shape, **(WITH_ZONE if zone else {})))


def _compose(observed: Observed, *, zone: bool, shape: str = "legacy", **spec: Any) -> Outcome:
    extra = WITH_ZONE if zone else {}
    return compose(_xr(shape, **extra, **spec), observed, platform_input())


def _changed(zone: bool, *changes: Change) -> Observed:
    observed = copy.deepcopy(_converged_observed(zone))
    for change in changes:
        change(observed)
    return observed


# --- changes to observed state ------------------------------------------------------------


def _absent(key: str) -> Change:
    def change(observed: Observed) -> None:
        observed.pop(key, None)

    return change


def _not_ready(key: str) -> Change:
    def change(observed: Observed) -> None:
        observed[key]["status"]["conditions"] = [{"type": "Ready", "status": "False"}]

    return change


def _forget(key: str, field: str) -> Change:
    """AWS (briefly) stops reporting a value, e.g. while a resource is being replaced."""

    def change(observed: Observed) -> None:
        observed[key]["status"]["atProvider"].pop(field, None)

    return change


def _pending_certificate(observed: Observed) -> None:
    observed[keys.CERTIFICATE]["status"]["atProvider"]["status"] = "PENDING_VALIDATION"
    _not_ready(keys.CERTIFICATE_VALIDATION)(observed)


# --- what is composed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "function_input", "expected"),
    [
        pytest.param({}, None, ALL_KEYS - RECORDS, id="no-zone-user-creates-records"),
        pytest.param(WITH_ZONE, None, ALL_KEYS, id="zone-in-claim-composes-records"),
        pytest.param(
            {}, {**platform_input(), "dns": {"hostedZoneId": ZONE}}, ALL_KEYS,
            id="zone-from-platform-composes-records",
        ),
        pytest.param({"include": ["grafana"]}, None, set(), id="no-api-gateway-nothing"),
        pytest.param({"domain": None}, None, set(), id="no-domain-nothing"),
        pytest.param(
            {"apiGateway": {"customDomain": False}, **WITH_ZONE}, None, set(),
            id="opted-out-nothing",
        ),
    ],
)  # fmt: skip
def test_what_is_composed(
    spec: dict[str, Any], function_input: dict[str, Any] | None, expected: set[str]
) -> None:
    """The domain's resources appear only with API Gateway, a domain and customDomain."""
    xr = _xr()
    for key, value in spec.items():
        if value is None:
            xr["spec"].pop(key)
        else:
            xr["spec"][key] = value
    result = simulate(xr, function_input or platform_input())
    assert result.converged, result.fatal
    composed = set(result.rounds[-1].desired)
    assert composed & ALL_KEYS == expected
    if not expected:
        assert result.final_status["customDomain"] == {"enabled": False}


# --- gating: created only once what they need is ready --------------------------------------


@pytest.mark.parametrize(
    ("zone", "key", "changes", "reason"),
    [
        pytest.param(
            False, keys.DOMAIN_NAME, [_not_ready(keys.CERTIFICATE_VALIDATION)],
            "waiting for certificate-validation to be ready",
            id="domain-name-waits-for-issued-certificate",
        ),
        pytest.param(
            False, keys.API_MAPPING, [_not_ready(keys.DOMAIN_NAME)],
            "waiting for domain-name to be ready", id="mapping-waits-for-domain-name",
        ),
        pytest.param(
            False, keys.API_MAPPING, [_not_ready("stage")],
            "waiting for stage to be ready", id="mapping-waits-for-stage",
        ),
        pytest.param(
            True, keys.VALIDATION_RECORD,
            [_forget(keys.CERTIFICATE, "domainValidationOptions")],
            "waiting for the certificate's DNS validation record",
            id="validation-record-waits-for-acm-values",
        ),
        pytest.param(
            True, keys.CERTIFICATE_VALIDATION, [_not_ready(keys.VALIDATION_RECORD)],
            "waiting for certificate-validation-record to be ready",
            id="validation-waits-for-its-record",
        ),
        pytest.param(
            True, keys.ALIAS_RECORD, [_forget(keys.DOMAIN_NAME, "domainNameConfiguration")],
            "waiting for the domain name's target domain name and hosted zone",
            id="alias-waits-for-target",
        ),
    ],
)  # fmt: skip
def test_gating(zone: bool, key: str, changes: list[Change], reason: str) -> None:
    """A resource not yet created is held back, with the reason in status.pending."""
    outcome = _compose(_changed(zone, _absent(key), *changes), zone=zone)
    assert outcome.fatal is None
    assert key not in outcome.resources
    assert f"{key}: {reason}" in outcome.status["pending"]
    assert outcome.xr_ready is False


# --- never drop an observed resource when what it copied from flaps -------------------------


@pytest.mark.parametrize(
    ("zone", "key", "changes"),
    [
        pytest.param(
            False, keys.DOMAIN_NAME,
            [_absent(keys.CERTIFICATE), _not_ready(keys.CERTIFICATE_VALIDATION)],
            id="domain-name-survives-certificate-flap",
        ),
        pytest.param(
            True, keys.VALIDATION_RECORD,
            [_forget(keys.CERTIFICATE, "domainValidationOptions")],
            id="validation-record-falls-back-to-own-spec",
        ),
        pytest.param(
            True, keys.CERTIFICATE_VALIDATION, [_forget(keys.VALIDATION_RECORD, "fqdn")],
            id="validation-falls-back-to-own-fqdns",
        ),
        pytest.param(
            True, keys.ALIAS_RECORD, [_forget(keys.DOMAIN_NAME, "domainNameConfiguration")],
            id="alias-falls-back-to-own-target",
        ),
        pytest.param(
            True, keys.API_MAPPING, [_not_ready(keys.DOMAIN_NAME), _not_ready("stage")],
            id="mapping-kept-while-dependencies-recover",
        ),
    ],
)  # fmt: skip
def test_observed_resource_is_kept_unchanged(zone: bool, key: str, changes: list[Change]) -> None:
    """An observed resource is re-rendered identically from its own spec, never dropped."""
    before = _compose(copy.deepcopy(_converged_observed(zone)), zone=zone)
    outcome = _compose(_changed(zone, *changes), zone=zone)
    assert outcome.fatal is None
    assert outcome.resources[key] == before.resources[key]


# --- the manifests say what AWS needs -------------------------------------------------------


def _fp(outcome: Outcome, key: str) -> dict[str, Any]:
    for_provider: dict[str, Any] = outcome.resources[key]["spec"]["forProvider"]
    return for_provider


@pytest.mark.parametrize("shape", ["legacy", "namespaced"])
@pytest.mark.parametrize("zone", [True, False], ids=["zone", "no-zone"])
def test_crd_valid_in_both_shapes(shape: str, zone: bool) -> None:
    """Every custom-domain resource validates against its CRD, CEL rules included."""
    outcome = _compose(copy.deepcopy(_converged_observed(zone, shape)), zone=zone, shape=shape)
    composed = {key: outcome.resources[key] for key in ALL_KEYS & set(outcome.resources)}
    assert composed
    assert {k: crdcheck.validate(v) for k, v in composed.items() if crdcheck.validate(v)} == {}


# --- status and endpoint --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "changes", "live"),
    [
        pytest.param(False, [], True, id="no-zone-live-once-mapped"),
        pytest.param(True, [], True, id="zone-live-once-mapped-and-aliased"),
        pytest.param(
            False, [_not_ready(keys.API_MAPPING)], False, id="not-live-before-mapping"
        ),
        pytest.param(
            True, [_not_ready(keys.ALIAS_RECORD)], False, id="not-live-before-alias"
        ),
    ],
)  # fmt: skip
def test_endpoint_switches_only_once_live(zone: bool, changes: list[Change], live: bool) -> None:
    """The endpoint is https://<domain> once clients can use it, the stage URL until then."""
    observed = _changed(zone, *changes)
    outcome = _compose(observed, zone=zone)
    invoke_url = observed["stage"]["status"]["atProvider"]["invokeUrl"]
    expected = f"https://{DOMAIN}" if live else invoke_url
    assert outcome.status["apiGateway"]["endpoint"] == expected
    assert outcome.connection["endpoint"] == expected
    assert outcome.status["customDomain"]["ready"] is live


def test_opted_out_keeps_invoke_url() -> None:
    """With customDomain false the endpoint stays the stage's invoke URL."""
    observed = _converged_observed(zone=False)
    outcome = _compose(copy.deepcopy(observed), zone=False, apiGateway={"customDomain": False})
    assert (
        outcome.status["apiGateway"]["endpoint"]
        == (observed["stage"]["status"]["atProvider"]["invokeUrl"])
    )


@pytest.mark.parametrize(
    ("zone", "lists_records"),
    [
        pytest.param(False, True, id="no-zone-lists-records-to-create"),
        pytest.param(True, False, id="zone-records-are-composed"),
    ],
)
def test_status(zone: bool, lists_records: bool) -> None:
    """status.customDomain names the domain, its DNS target and, without a zone, the records."""
    observed = _converged_observed(zone)
    outcome = _compose(copy.deepcopy(observed), zone=zone)
    target = observed[keys.DOMAIN_NAME]["status"]["atProvider"]["domainNameConfiguration"]
    option = observed[keys.CERTIFICATE]["status"]["atProvider"]["domainValidationOptions"][0]
    expected: dict[str, Any] = {
        "enabled": True,
        "domain": DOMAIN,
        "ready": True,
        "certificateStatus": "ISSUED",
        "targetDomainName": target["targetDomainName"],
        "targetHostedZoneId": target["hostedZoneId"],
    }
    if lists_records:
        expected["validationRecords"] = [
            {
                "name": option["resourceRecordName"],
                "type": "CNAME",
                "value": option["resourceRecordValue"],
            }
        ]
    assert outcome.status["customDomain"] == expected
    assert outcome.xr_ready


@pytest.mark.parametrize(
    ("zone", "asks_user"),
    [
        pytest.param(False, True, id="no-zone-user-must-create-records"),
        pytest.param(True, False, id="zone-function-creates-records"),
    ],
)
def test_pending_names_the_records_while_not_issued(zone: bool, asks_user: bool) -> None:
    """Until ACM issues the certificate, pending tells the user which record to create."""
    observed = _changed(zone, _absent(keys.DOMAIN_NAME), _pending_certificate)
    outcome = _compose(observed, zone=zone)
    option = observed[keys.CERTIFICATE]["status"]["atProvider"]["domainValidationOptions"][0]
    asks = [line for line in outcome.status["pending"] if line.startswith("certificate:")]
    assert bool(asks) is asks_user
    if asks_user:
        assert option["resourceRecordName"] in asks[0]
        assert option["resourceRecordValue"] in asks[0]
    assert outcome.status["customDomain"]["certificateStatus"] == "PENDING_VALIDATION"
    assert outcome.xr_ready is False
