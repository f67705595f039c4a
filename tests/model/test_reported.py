"""What AWS reported, read once for builders and status alike: the ACM validation record."""

from __future__ import annotations

from typing import Any

import pytest

from function.model.reported import ValidationRecord, record_for

DOMAIN = "api.example.com"


def _option(domain: str = DOMAIN, **fields: Any) -> dict[str, Any]:
    record = {
        "resourceRecordName": f"_a1.{domain}.",
        "resourceRecordType": "CNAME",
        "resourceRecordValue": "_b2.acm-validations.aws.",
    }
    return {"domainName": domain, **record, **fields}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(
            [_option()],
            ValidationRecord(f"_a1.{DOMAIN}.", "CNAME", "_b2.acm-validations.aws."),
            id="complete",
        ),
        # A certificate lists one option per name it covers: only the claim's domain counts.
        pytest.param(
            [_option("www.example.com"), _option()],
            ValidationRecord(f"_a1.{DOMAIN}.", "CNAME", "_b2.acm-validations.aws."),
            id="other-domain-first",
        ),
        pytest.param([_option("www.example.com")], None, id="only-other-domain"),
        # ACM fills the record in over time: a partial one is no record yet.
        pytest.param([_option(resourceRecordName="")], None, id="name-missing"),
        pytest.param([_option(resourceRecordType=None)], None, id="type-missing"),
        pytest.param([_option(resourceRecordValue="")], None, id="value-missing"),
        pytest.param(["junk", None, _option()],
                     ValidationRecord(f"_a1.{DOMAIN}.", "CNAME", "_b2.acm-validations.aws."),
                     id="junk-skipped"),
        pytest.param({"domainName": DOMAIN}, None, id="not-a-list"),
        pytest.param(None, None, id="not-reported"),
    ],
)  # fmt: skip
def test_record_for(options: Any, expected: ValidationRecord | None) -> None:
    """The complete record ACM asks for the claim's domain, or None."""
    assert record_for(DOMAIN, options) == expected
