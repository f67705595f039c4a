"""The custom domain: ACM certificate, DNS validation, domain name, API mapping and alias.

AWS facts this module relies on: an API Gateway domain name needs an ISSUED ACM
certificate in the API's region (REGIONAL endpoint); the domain is the
DomainName's external name (it has no domain field); clients reach it through a
DNS alias to the domain's ``targetDomainName`` in its ``hostedZoneId``. Route53
records are composed only when a hosted zone id is known; otherwise the status
lists the records the user must create.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from function.model import keys, naming
from function.model.context import Context, Desired, selector
from function.model.observed import text
from function.model.reported import (
    ALIAS_TARGET,
    ALIAS_TARGET_ZONE,
    VALIDATION_OPTIONS,
    ValidationRecord,
    record_for,
)

VALIDATION_TTL_SECONDS = 300


def _domain(ctx: Context) -> str:
    return ctx.spec.domain or ""


def _sent_record(for_provider: Any) -> ValidationRecord | None:  # noqa: ANN401
    """The validation record as a Route53 Record composed from it holds it."""
    if not isinstance(for_provider, Mapping):
        return None
    values = for_provider.get("records")
    name, kind = text(for_provider.get("name")), text(for_provider.get("type"))
    value = text(values[0]) if isinstance(values, list) and values else None
    if name and kind and value:
        return ValidationRecord(name, kind, value)
    return None


def _listed(value: Any) -> list[str] | None:  # noqa: ANN401
    """The FQDN Route53 reports, as the list a certificate validation names."""
    fqdn = text(value)
    return None if fqdn is None else [fqdn]


def _texts(value: Any) -> list[str] | None:  # noqa: ANN401
    """The non-empty strings of a list, or None if there are none."""
    found = [item for item in value if text(item)] if isinstance(value, list) else []
    return found or None


def _certificate(ctx: Context) -> Desired:
    return Desired(
        keys.CERTIFICATE,
        ctx.aws(
            naming.CERTIFICATE,
            keys.CERTIFICATE,
            {"domainName": _domain(ctx), "validationMethod": "DNS", "tags": ctx.tags()},
        ),
    )


def _validation_dns(ctx: Context, zone_id: str) -> Desired:
    # The certificate's record, else the one composed before: the certificate may flap.
    record = ctx.observed.reported_or_sent(
        VALIDATION_OPTIONS,
        (keys.VALIDATION_RECORD,),
        read=functools.partial(record_for, _domain(ctx)),
        read_sent=_sent_record,
    )
    manifest = None
    if record is not None:
        manifest = ctx.aws(
            naming.RECORD,
            keys.VALIDATION_RECORD,
            {
                "zoneId": zone_id,
                "name": record.name,
                "type": record.type,
                "records": [record.value],
                "ttl": VALIDATION_TTL_SECONDS,
                # ACM reuses one validation record per domain and account, so an
                # earlier certificate for the same domain may already have created it.
                "allowOverwrite": True,
            },
        )
    return Desired(
        keys.VALIDATION_RECORD,
        manifest,
        waiting_for="the certificate's DNS validation record",
    )


def _certificate_validation(ctx: Context) -> Desired:
    spec: dict[str, Any] = {"certificateArnSelector": selector()}
    if ctx.hosted_zone_id is None:
        # Nothing to point at: the user creates the records listed in the status.
        return Desired(
            keys.CERTIFICATE_VALIDATION,
            ctx.aws(naming.CERTIFICATE_VALIDATION, keys.CERTIFICATE_VALIDATION, spec),
        )
    # The FQDN as Route53 reports it, else as sent before.
    fqdns = ctx.observed.reported_or_sent(
        (keys.VALIDATION_RECORD, "fqdn"),
        (keys.CERTIFICATE_VALIDATION, "validationRecordFqdns"),
        read=_listed,
        read_sent=_texts,
    )
    manifest = None
    if fqdns is not None:
        spec["validationRecordFqdns"] = fqdns
        manifest = ctx.aws(naming.CERTIFICATE_VALIDATION, keys.CERTIFICATE_VALIDATION, spec)
    elif keys.CERTIFICATE_VALIDATION in ctx.observed:
        # Made before the zone was ours, without FQDNs: kept so until the record has one.
        manifest = ctx.aws(naming.CERTIFICATE_VALIDATION, keys.CERTIFICATE_VALIDATION, spec)
    return Desired(
        keys.CERTIFICATE_VALIDATION,
        manifest,
        waiting_for="the validation record's FQDN",
    )


def _domain_name(ctx: Context) -> Desired:
    manifest = ctx.aws(
        naming.DOMAIN_NAME,
        keys.DOMAIN_NAME,
        {
            "domainNameConfiguration": {
                # Resolves to the certificate ARN without copying it, so an observed
                # domain name never depends on the certificate's observed state.
                "certificateArnSelector": selector(),
                "endpointType": "REGIONAL",
                "securityPolicy": "TLS_1_2",
            },
            "tags": ctx.tags(),
        },
        external_name=_domain(ctx),
    )
    return Desired(keys.DOMAIN_NAME, manifest)


def _api_mapping(ctx: Context) -> Desired:
    manifest = ctx.aws(
        naming.API_MAPPING,
        keys.API_MAPPING,
        {
            "apiIdSelector": selector(),
            "domainNameSelector": selector(),
            "stageSelector": selector(),
        },
    )
    return Desired(keys.API_MAPPING, manifest)


def _alias(ctx: Context, zone_id: str) -> Desired:
    target = ctx.observed.reported_or_sent(ALIAS_TARGET, (keys.ALIAS_RECORD, "alias", "name"))
    target_zone = ctx.observed.reported_or_sent(
        ALIAS_TARGET_ZONE, (keys.ALIAS_RECORD, "alias", "zoneId")
    )
    manifest = None
    if target is not None and target_zone is not None:
        manifest = ctx.aws(
            naming.RECORD,
            keys.ALIAS_RECORD,
            {
                "zoneId": zone_id,
                "name": _domain(ctx),
                "type": "A",
                "alias": {"name": target, "zoneId": target_zone, "evaluateTargetHealth": False},
            },
        )
    return Desired(
        keys.ALIAS_RECORD,
        manifest,
        waiting_for="the domain name's target domain name and hosted zone",
    )


def build(ctx: Context) -> list[Desired]:
    """Every custom-domain resource, or none unless the environment asks for one."""
    if not ctx.custom_domain:
        return []
    zone_id = ctx.hosted_zone_id
    desired = [_certificate(ctx)]
    if zone_id is not None:
        desired.append(_validation_dns(ctx, zone_id))
    desired.extend((_certificate_validation(ctx), _domain_name(ctx), _api_mapping(ctx)))
    if zone_id is not None:
        desired.append(_alias(ctx, zone_id))
    return desired
