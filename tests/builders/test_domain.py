"""The custom-domain builder alone: certificate, validation, domain name, mapping and records."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import platform_input
from contexts import SEED_SUFFIX, as_observed, by_key, claim, context, for_provider, reported

from function.builders import domain
from function.model import keys, naming
from function.model.reported import ValidationRecord

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


SLUG = f"prod-env-{SEED_SUFFIX['legacy']}"
TAGS = {
    "crossplane-environment": "prod-env",
    "crossplane-composite": "production-vcluster",
    "managed-by": "function-vcluster-environment",
}
SELECTED = {"matchControllerRef": True}
REGION = {"region": "us-east-1"}


@pytest.mark.parametrize(
    ("key", "api_version", "kind", "external_name", "spec", "waiting_for"),
    [
        pytest.param(keys.CERTIFICATE, "acm.aws.upbound.io/v1beta2", "Certificate", None,
                     {"domainName": DOMAIN, "validationMethod": "DNS", "tags": TAGS, **REGION},
                     "", id="certificate"),
        pytest.param(keys.VALIDATION_RECORD, "route53.aws.upbound.io/v1beta2", "Record", None,
                     {"zoneId": ZONE, "name": f"_0a1b2c.{DOMAIN}.", "type": "CNAME",
                      "records": ["_3d4e5f.acm-validations.aws."], "ttl": 300,
                      "allowOverwrite": True},
                     "the certificate's DNS validation record", id="validation-record"),
        pytest.param(keys.CERTIFICATE_VALIDATION, "acm.aws.upbound.io/v1beta1",
                     "CertificateValidation", None,
                     {"certificateArnSelector": SELECTED, "validationRecordFqdns": [FQDN],
                      **REGION},
                     "the validation record's FQDN", id="certificate-validation"),
        pytest.param(keys.DOMAIN_NAME, "apigatewayv2.aws.upbound.io/v1beta2", "DomainName", DOMAIN,
                     {"domainNameConfiguration": {"certificateArnSelector": SELECTED,
                                                  "endpointType": "REGIONAL",
                                                  "securityPolicy": "TLS_1_2"},
                      "tags": TAGS, **REGION},
                     "", id="domain-name"),
        pytest.param(keys.API_MAPPING, "apigatewayv2.aws.upbound.io/v1beta1", "APIMapping", None,
                     {"apiIdSelector": SELECTED, "domainNameSelector": SELECTED,
                      "stageSelector": SELECTED, **REGION},
                     "", id="api-mapping"),
        pytest.param(keys.ALIAS_RECORD, "route53.aws.upbound.io/v1beta2", "Record", None,
                     {"zoneId": ZONE, "name": DOMAIN, "type": "A",
                      "alias": {"name": TARGET["targetDomainName"],
                                "zoneId": TARGET["hostedZoneId"], "evaluateTargetHealth": False}},
                     "the domain name's target domain name and hosted zone", id="alias-record"),
    ],
)  # fmt: skip
def test_manifest(  # noqa: PLR0917 - one column per table field
    key: str,
    api_version: str,
    kind: str,
    external_name: str | None,
    spec: dict[str, Any],
    waiting_for: str,
) -> None:
    """Each resource is exactly what AWS needs, labelled with its key (records are global)."""
    item = _built()[key]
    metadata: dict[str, Any] = {
        "labels": {naming.LABEL_ENVIRONMENT: SLUG, naming.LABEL_RESOURCE: key}
    }
    if external_name is not None:
        metadata["annotations"] = {naming.EXTERNAL_NAME: external_name}
    assert item.manifest == {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": metadata,
        "spec": {"forProvider": spec, "providerConfigRef": {"name": "default"}},
    }
    assert item.waiting_for == waiting_for
    assert item.role is None


def test_validation_without_zone() -> None:
    """Without a zone the validation names no FQDNs and waits for nothing: the user adds them."""
    item = by_key(domain.build(context(claim(), observed=REPORTED)))[keys.CERTIFICATE_VALIDATION]
    assert item.manifest is not None
    assert item.manifest["metadata"]["labels"][naming.LABEL_RESOURCE] == keys.CERTIFICATE_VALIDATION
    assert item.manifest["spec"]["forProvider"] == {"certificateArnSelector": SELECTED, **REGION}
    assert item.waiting_for == ""


RECORD = {"name": "_a.example.com.", "type": "CNAME", "records": ["_b.acm-validations.aws."]}
EXPECTED_RECORD = ValidationRecord("_a.example.com.", "CNAME", "_b.acm-validations.aws.")


@pytest.mark.parametrize(
    ("reason", "sent", "expected"),
    [
        pytest.param("a complete record is read back", RECORD, EXPECTED_RECORD, id="complete"),
        pytest.param("only the first value counts (ACM asks for one)",
                     {**RECORD, "records": ["_b.acm-validations.aws.", "other"]},
                     EXPECTED_RECORD, id="first-value"),
        pytest.param("nothing sent", None, None, id="nothing"),
        pytest.param("a list is no record", [RECORD], None, id="not-a-mapping"),
        pytest.param("no values", {**RECORD, "records": None}, None, id="records-missing"),
        pytest.param("an empty list of values", {**RECORD, "records": []}, None,
                     id="records-empty"),
        pytest.param("a string is not a list of values", {**RECORD, "records": "_b.acm"}, None,
                     id="records-a-string"),
        pytest.param("an empty value", {**RECORD, "records": [""]}, None, id="value-empty"),
        pytest.param("no name", {**RECORD, "name": None}, None, id="name-missing"),
        pytest.param("no type", {**RECORD, "type": ""}, None, id="type-missing"),
    ],
)  # fmt: skip
def test_sent_record(reason: str, sent: Any, expected: ValidationRecord | None) -> None:
    """A record is read back from what was sent only with its name, type and a value."""
    assert domain._sent_record(sent) == expected, reason  # noqa: SLF001


@pytest.mark.parametrize(
    ("reason", "sent", "fqdns"),
    [
        pytest.param("empty and non-string FQDNs sent are dropped",
                     ["", FQDN, 5], [FQDN], id="only-strings-kept"),
        pytest.param("a validation sent without FQDNs keeps none",
                     [], None, id="none-sent"),
        pytest.param("a value that is not a list holds no FQDNs",
                     FQDN, None, id="not-a-list"),
    ],
)  # fmt: skip
def test_validation_keeps_the_fqdns_it_was_sent(
    reason: str, sent: Any, fqdns: list[str] | None
) -> None:
    """While the record reports no FQDN, a created validation keeps the FQDNs it was sent."""
    observed = {
        **_without(keys.VALIDATION_RECORD, "fqdn"),
        keys.CERTIFICATE_VALIDATION: {"spec": {"forProvider": {"validationRecordFqdns": sent}}},
    }
    item = _built(observed)[keys.CERTIFICATE_VALIDATION]
    assert item.manifest is not None, reason
    expected: dict[str, Any] = {"certificateArnSelector": SELECTED, **REGION}
    if fqdns is not None:
        expected["validationRecordFqdns"] = fqdns
    assert item.manifest["spec"]["forProvider"] == expected, reason


def test_empty_fqdn_is_not_reported() -> None:
    """An empty FQDN from Route53 is no FQDN: a new validation keeps waiting."""
    observed = copy.deepcopy(REPORTED)
    observed[keys.VALIDATION_RECORD]["status"]["atProvider"]["fqdn"] = ""
    assert _built(observed)[keys.CERTIFICATE_VALIDATION].manifest is None


@pytest.mark.parametrize(
    "missing",
    [
        pytest.param("targetDomainName", id="no-target"),
        pytest.param("hostedZoneId", id="no-target-zone"),
    ],
)
def test_alias_needs_target_and_zone(missing: str) -> None:
    """The alias needs both the target name and its hosted zone; one alone is no alias."""
    observed = copy.deepcopy(REPORTED)
    observed[keys.DOMAIN_NAME]["status"]["atProvider"]["domainNameConfiguration"].pop(missing)
    item = _built(observed)[keys.ALIAS_RECORD]
    assert item.manifest is None
    assert item.waiting_for == "the domain name's target domain name and hosted zone"


def test_domain_fallback_is_empty() -> None:
    """Without a domain the helper gives '' (build composes nothing then, see above)."""
    assert domain._domain(context(claim(domain=None))) == ""  # noqa: SLF001
    assert domain._domain(context()) == DOMAIN  # noqa: SLF001
