"""The fake provider is as strict as AWS wherever the function depends on it."""

from __future__ import annotations

from typing import Any

import pytest

from function.model.convert import dig
from function.offline.fakeprovider import FakeProvider

DOMAIN = "api.example.com"
CERTIFICATE = {
    "apiVersion": "acm.aws.upbound.io/v1beta1",
    "kind": "Certificate",
    "spec": {"forProvider": {"domainName": DOMAIN, "validationMethod": "DNS"}},
}
VALIDATION = {
    "apiVersion": "acm.aws.upbound.io/v1beta1",
    "kind": "CertificateValidation",
    "spec": {"forProvider": {"region": "us-east-1"}},
}


def _record(option: dict[str, str], value: str | None = None) -> dict[str, Any]:
    """The Route53 Record the function composes for an ACM validation option."""
    return {
        "apiVersion": "route53.aws.upbound.io/v1beta1",
        "kind": "Record",
        "spec": {
            "forProvider": {
                "zoneId": "Z0123456789ABC",
                "name": option["resourceRecordName"],
                "type": option["resourceRecordType"],
                "records": [value or option["resourceRecordValue"]],
            }
        },
    }


def _status(observed: dict[str, dict[str, Any]], key: str) -> Any:
    return dig(observed, key, "status", "atProvider", "status")


def _ready(observed: dict[str, dict[str, Any]], key: str) -> bool:
    conditions = dig(observed, key, "status", "conditions") or []
    return {"type": "Ready", "status": "True"}.items() <= conditions[0].items()


@pytest.mark.parametrize(
    ("reason", "owns_dns", "record_value", "issued"),
    [
        pytest.param("ACM issues a DNS-validated certificate only once its CNAME exists (ACM "
                     "user guide, DNS validation; FIELD-NOTES item 13)", True, None, True,
                     id="record-made"),
        pytest.param("a record with another value does not validate the certificate",
                     True, "_other.acm-validations.aws.", False, id="wrong-value"),
        pytest.param("without a hosted zone the records are the user's, taken as made",
                     False, "_other.acm-validations.aws.", True, id="records-by-hand"),
    ],
)  # fmt: skip
def test_certificate_is_issued_once_its_record_exists(
    reason: str, owns_dns: bool, record_value: str | None, issued: bool
) -> None:
    """The certificate stays PENDING_VALIDATION, and its validation not ready, until then."""
    provider = FakeProvider("xr", owns_dns=owns_dns)
    first = provider.apply({"certificate": CERTIFICATE}, {})
    option = dig(first, "certificate", "status", "atProvider", "domainValidationOptions")[0]
    expected_first = "ISSUED" if not owns_dns else "PENDING_VALIDATION"
    assert _status(first, "certificate") == expected_first, reason
    desired = {
        "certificate": CERTIFICATE,
        "record": _record(option, record_value),
        "certificate-validation": VALIDATION,
    }
    second = provider.apply(desired, first)
    assert _ready(second, "certificate-validation") is (not owns_dns), reason
    third = provider.apply(desired, second)
    assert (_status(third, "certificate") == "ISSUED") is issued, reason
    fourth = provider.apply(desired, third)
    assert _ready(fourth, "certificate-validation") is issued, reason


def test_log_group_arn_has_no_wildcard() -> None:
    """The provider reports a log group's ARN without CloudWatch's ':*'.

    Terraform's aws_cloudwatch_log_group trims it from the arn attribute, which upjet
    reports as status.atProvider.arn (FIELD-NOTES item 13).
    """
    group = {
        "apiVersion": "cloudwatchlogs.aws.upbound.io/v1beta1",
        "kind": "Group",
        "metadata": {"annotations": {"crossplane.io/external-name": "/aws/apigateway/env/access"}},
        "spec": {"forProvider": {"region": "eu-west-1"}},
    }
    observed = FakeProvider("xr").apply({"access-log-group": group}, {})
    assert dig(observed, "access-log-group", "status", "atProvider", "arn") == (
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/env/access"
    )
