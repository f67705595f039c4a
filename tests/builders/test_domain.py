"""The custom-domain builder alone: certificate, validation, domain name, mapping and records."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import platform_input
from contexts import as_observed, by_key, claim, context, for_provider, reported

from function.builders import domain
from function.model import keys, naming

ZONE = "Z0123456789ABCDEFGHIJ"
DOMAIN = "api.mycompany.com"  # the seed claim's
WITH_ZONE = {"dns": {"hostedZoneId": ZONE}}
ALL_KEYS = [
    keys.CERTIFICATE, keys.VALIDATION_RECORD, keys.CERTIFICATE_VALIDATION, keys.DOMAIN_NAME,
    keys.API_MAPPING, keys.ALIAS_RECORD,
]  # fmt: skip
RECORDS = {keys.VALIDATION_RECORD, keys.ALIAS_RECORD}
OPTION = {
    "domainName": DOMAIN,
    "resourceRecordName": f"_0a1b2c.{DOMAIN}.",
    "resourceRecordType": "CNAME",
    "resourceRecordValue": "_3d4e5f.acm-validations.aws.",
}
FQDN = f"_0a1b2c.{DOMAIN}"
TARGET = {"targetDomainName": "d-0a1b2c3d4e.execute-api.us-east-1.amazonaws.com",
          "hostedZoneId": "Z1UJRXOUMOOFQ8"}  # fmt: skip
# What AWS reports once everything the domain's resources copy from exists.
REPORTED = {
    keys.CERTIFICATE: reported(
        status="ISSUED", domainValidationOptions=[{"domainName": "other.example.com"}, OPTION]
    ),
    keys.VALIDATION_RECORD: reported(fqdn=FQDN),
    keys.DOMAIN_NAME: reported(domainNameConfiguration=TARGET),
}


def _built(observed: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    ctx = context(claim(**WITH_ZONE, **spec), observed=REPORTED if observed is None else observed)
    return by_key(domain.build(ctx))


@pytest.mark.parametrize(
    ("spec", "function_input", "expected"),
    [
        pytest.param({}, None, [k for k in ALL_KEYS if k not in RECORDS],
                     id="no-zone-user-creates-records"),
        pytest.param(WITH_ZONE, None, ALL_KEYS, id="zone-in-claim-composes-records"),
        pytest.param({}, {**platform_input(), "dns": {"hostedZoneId": ZONE}}, ALL_KEYS,
                     id="zone-from-platform-composes-records"),
        pytest.param({"include": ["grafana"]}, None, [], id="no-api-gateway-nothing"),
        pytest.param({"domain": None}, None, [], id="no-domain-nothing"),
        pytest.param({"apiGateway": {"customDomain": False}, **WITH_ZONE}, None, [],
                     id="opted-out-nothing"),
    ],
)  # fmt: skip
def test_what_is_composed(
    spec: dict[str, Any], function_input: dict[str, Any] | None, expected: list[str]
) -> None:
    """The domain's resources appear only with API Gateway, a domain and customDomain."""
    assert [d.key for d in domain.build(context(claim(**spec), function_input))] == expected


def test_manifests_follow_aws_facts() -> None:
    """DNS-validated certificate in the API's region, domain as external name, no record region."""
    desired = _built().values()
    certificate = for_provider(desired, keys.CERTIFICATE)
    assert certificate["domainName"] == DOMAIN
    assert certificate["validationMethod"] == "DNS"
    assert certificate["region"] == context().region

    name = by_key(desired)[keys.DOMAIN_NAME].manifest
    assert name is not None
    assert name["metadata"]["annotations"][naming.EXTERNAL_NAME] == DOMAIN
    assert name["spec"]["forProvider"]["domainNameConfiguration"] == {
        "certificateArnSelector": {"matchControllerRef": True},
        "endpointType": "REGIONAL",
        "securityPolicy": "TLS_1_2",
    }

    record = for_provider(desired, keys.VALIDATION_RECORD)
    assert (record["name"], record["type"], record["records"]) == (
        OPTION["resourceRecordName"],
        OPTION["resourceRecordType"],
        [OPTION["resourceRecordValue"]],
    )
    assert for_provider(desired, keys.CERTIFICATE_VALIDATION)["validationRecordFqdns"] == [FQDN]
    assert for_provider(desired, keys.ALIAS_RECORD) == {
        "zoneId": ZONE,
        "name": DOMAIN,
        "type": "A",
        "alias": {
            "name": TARGET["targetDomainName"],
            "zoneId": TARGET["hostedZoneId"],
            "evaluateTargetHealth": False,
        },
    }
    assert {"apiIdSelector", "domainNameSelector", "stageSelector"} <= set(
        for_provider(desired, keys.API_MAPPING)
    )
    for key in RECORDS:
        assert "region" not in for_provider(desired, key)


def _without(key: str, field: str) -> dict[str, Any]:
    """REPORTED, with AWS no longer reporting ``field`` of ``key``."""
    observed = copy.deepcopy(REPORTED)
    observed[key]["status"]["atProvider"].pop(field)
    return observed


# (what AWS stops reporting, the resource that copied it)
COPIES = [
    pytest.param(keys.CERTIFICATE, "domainValidationOptions", keys.VALIDATION_RECORD,
                 "the certificate's DNS validation record", id="validation-record"),
    pytest.param(keys.VALIDATION_RECORD, "fqdn", keys.CERTIFICATE_VALIDATION,
                 "the validation record's FQDN", id="validation-fqdn"),
    pytest.param(keys.DOMAIN_NAME, "domainNameConfiguration", keys.ALIAS_RECORD,
                 "the domain name's target domain name and hosted zone", id="alias-target"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "field", "key", "waiting_for"), COPIES)
def test_copied_value_falls_back_to_what_was_sent(
    source: str, field: str, key: str, waiting_for: str
) -> None:
    """AWS stops reporting a value: a new resource waits, a created one keeps what it was sent."""
    before = _built()[key]
    gone = _without(source, field)
    new = _built(gone)[key]
    assert new.manifest is None
    assert new.waiting_for == waiting_for
    assert _built({**gone, key: as_observed(before)})[key].manifest == before.manifest


def test_validation_made_before_the_zone_was_ours_is_kept() -> None:
    """A validation made without a zone (no FQDNs) stays, unchanged, until the record has one.

    A claim that gains a hosted zone and a new domain at once finds no validation record
    for the new domain yet; dropping the validation would delete it, and returning a
    Fatal would stop Crossplane from ever updating the certificate (found by
    test_properties' edited-claim property).
    """
    without_zone = by_key(domain.build(context(claim(), observed=REPORTED)))
    made = without_zone[keys.CERTIFICATE_VALIDATION].manifest
    assert made is not None
    assert "validationRecordFqdns" not in made["spec"]["forProvider"]
    observed = {
        keys.CERTIFICATE: REPORTED[keys.CERTIFICATE],
        keys.CERTIFICATE_VALIDATION: as_observed(without_zone[keys.CERTIFICATE_VALIDATION]),
    }
    edited = _built(observed, domain="new.example.com")[keys.CERTIFICATE_VALIDATION]
    assert edited.manifest == made
