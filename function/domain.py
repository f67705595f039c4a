"""The custom domain: ACM certificate, DNS validation, domain name, API mapping and alias.

AWS facts this module relies on: an API Gateway domain name needs an ISSUED ACM
certificate in the API's region (REGIONAL endpoint); the domain is the
DomainName's external name (it has no domain field); clients reach it through a
DNS alias to the domain's ``targetDomainName`` in its ``hostedZoneId``. Route53
records are composed only when a hosted zone id is known; otherwise the status
lists the records the user must create.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from function import apigateway, naming
from function.model import Context, Desired, selector
from function.observed import text

CERTIFICATE = "certificate"
VALIDATION_RECORD = "certificate-validation-record"
CERTIFICATE_VALIDATION = "certificate-validation"
DOMAIN_NAME = "domain-name"
API_MAPPING = "api-mapping"
ALIAS_RECORD = "domain-alias-record"

ISSUED = "ISSUED"
VALIDATION_TTL_SECONDS = 300


@dataclass(frozen=True)
class ValidationRecord:
    """A DNS record ACM wants to see before it issues the certificate."""

    name: str
    type: str
    value: str

    def as_status(self) -> dict[str, str]:
        """The record as ``status.customDomain.validationRecords`` lists it."""
        return {"name": self.name, "type": self.type, "value": self.value}


def enabled(ctx: Context) -> bool:
    """Whether the custom domain is composed: API Gateway, a domain, and not opted out."""
    return ctx.api_gateway and ctx.spec.domain is not None and ctx.spec.api_gateway.custom_domain


def _domain(ctx: Context) -> str:
    return ctx.spec.domain or ""


def requested_record(ctx: Context) -> ValidationRecord | None:
    """The validation record for the domain, as the certificate reports it."""
    options = ctx.observed.get(CERTIFICATE, "status", "atProvider", "domainValidationOptions")
    for option in options if isinstance(options, list) else []:
        if not isinstance(option, Mapping) or option.get("domainName") != _domain(ctx):
            continue
        name, kind, value = (
            text(option.get(field))
            for field in ("resourceRecordName", "resourceRecordType", "resourceRecordValue")
        )
        if name and kind and value:
            return ValidationRecord(name, kind, value)
    return None


def _validation_record(ctx: Context) -> ValidationRecord | None:
    """The certificate's record, else the one composed earlier (the certificate may flap)."""
    if (record := requested_record(ctx)) is not None:
        return record
    spec = ("spec", "forProvider")
    values = ctx.observed.get(VALIDATION_RECORD, *spec, "records")
    name = ctx.observed.text(VALIDATION_RECORD, *spec, "name")
    kind = ctx.observed.text(VALIDATION_RECORD, *spec, "type")
    value = text(values[0]) if isinstance(values, list) and values else None
    if name and kind and value:
        return ValidationRecord(name, kind, value)
    return None


def _certificate(ctx: Context) -> Desired:
    return Desired(
        CERTIFICATE,
        ctx.aws(
            naming.CERTIFICATE,
            CERTIFICATE,
            {"domainName": _domain(ctx), "validationMethod": "DNS", "tags": ctx.tags()},
        ),
    )


def _validation_dns(ctx: Context, zone_id: str) -> Desired:
    record = _validation_record(ctx)
    manifest = None
    if record is not None:
        manifest = ctx.aws(
            naming.RECORD,
            VALIDATION_RECORD,
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
        VALIDATION_RECORD,
        manifest,
        (CERTIFICATE,),
        waiting_for="the certificate's DNS validation record",
    )


def _validation_fqdns(ctx: Context) -> list[str] | None:
    """The validation record's FQDN as Route53 reports it, else as sent before."""
    if (fqdn := ctx.observed.at_provider(VALIDATION_RECORD, "fqdn")) is not None:
        return [fqdn]
    own = ctx.observed.get(CERTIFICATE_VALIDATION, "spec", "forProvider", "validationRecordFqdns")
    fqdns = [v for v in own if text(v)] if isinstance(own, list) else []
    return fqdns or None


def _certificate_validation(ctx: Context) -> Desired:
    spec: dict[str, Any] = {"certificateArnSelector": selector()}
    if ctx.hosted_zone_id is None:
        # Nothing to point at: the user creates the records listed in the status.
        return Desired(
            CERTIFICATE_VALIDATION,
            ctx.aws(naming.CERTIFICATE_VALIDATION, CERTIFICATE_VALIDATION, spec),
            (CERTIFICATE,),
        )
    fqdns = _validation_fqdns(ctx)
    manifest = None
    if fqdns is not None:
        spec["validationRecordFqdns"] = fqdns
        manifest = ctx.aws(naming.CERTIFICATE_VALIDATION, CERTIFICATE_VALIDATION, spec)
    return Desired(
        CERTIFICATE_VALIDATION,
        manifest,
        (CERTIFICATE, VALIDATION_RECORD),
        waiting_for="the validation record's FQDN",
    )


def _domain_name(ctx: Context) -> Desired:
    manifest = ctx.aws(
        naming.DOMAIN_NAME,
        DOMAIN_NAME,
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
    # AWS rejects a domain name whose certificate is not ISSUED yet; the
    # validation is ready only once it is.
    return Desired(DOMAIN_NAME, manifest, (CERTIFICATE_VALIDATION,))


def _api_mapping(ctx: Context) -> Desired:
    manifest = ctx.aws(
        naming.API_MAPPING,
        API_MAPPING,
        {
            "apiIdSelector": selector(),
            "domainNameSelector": selector(),
            "stageSelector": selector(),
        },
    )
    return Desired(API_MAPPING, manifest, (DOMAIN_NAME, apigateway.STAGE))


def alias_target(ctx: Context) -> tuple[str | None, str | None]:
    """The domain's regional target name and its hosted zone, as AWS reports them."""
    config = ctx.observed.get(DOMAIN_NAME, "status", "atProvider", "domainNameConfiguration")
    if not isinstance(config, Mapping):
        return None, None
    return text(config.get("targetDomainName")), text(config.get("hostedZoneId"))


def _alias(ctx: Context, zone_id: str) -> Desired:
    target, target_zone = alias_target(ctx)
    own = ("spec", "forProvider", "alias")
    target = target or ctx.observed.text(ALIAS_RECORD, *own, "name")
    target_zone = target_zone or ctx.observed.text(ALIAS_RECORD, *own, "zoneId")
    manifest = None
    if target is not None and target_zone is not None:
        manifest = ctx.aws(
            naming.RECORD,
            ALIAS_RECORD,
            {
                "zoneId": zone_id,
                "name": _domain(ctx),
                "type": "A",
                "alias": {"name": target, "zoneId": target_zone, "evaluateTargetHealth": False},
            },
        )
    return Desired(
        ALIAS_RECORD,
        manifest,
        (DOMAIN_NAME,),
        waiting_for="the domain name's target domain name and hosted zone",
    )


def build(ctx: Context) -> list[Desired]:
    """Every custom-domain resource, or none unless the environment asks for one."""
    if not enabled(ctx):
        return []
    zone_id = ctx.hosted_zone_id
    desired = [_certificate(ctx)]
    if zone_id is not None:
        desired.append(_validation_dns(ctx, zone_id))
    desired.extend((_certificate_validation(ctx), _domain_name(ctx), _api_mapping(ctx)))
    if zone_id is not None:
        desired.append(_alias(ctx, zone_id))
    return desired


def live(ctx: Context) -> bool:
    """Whether clients can use the domain: mapped, and aliased when we own the DNS."""
    if not enabled(ctx) or not ctx.observed.ready(API_MAPPING):
        return False
    return ctx.hosted_zone_id is None or ctx.observed.ready(ALIAS_RECORD)


def endpoint(ctx: Context) -> str | None:
    """``https://<domain>`` once the domain is live, else None."""
    return f"https://{_domain(ctx)}" if live(ctx) else None


def _issued(ctx: Context) -> bool:
    return ctx.observed.at_provider(CERTIFICATE, "status") == ISSUED or ctx.observed.ready(
        CERTIFICATE_VALIDATION
    )


def pending(ctx: Context) -> list[str]:
    """What the user must do before the certificate can be issued (no hosted zone)."""
    if not enabled(ctx) or ctx.hosted_zone_id is not None or _issued(ctx):
        return []
    record = requested_record(ctx)
    if record is None:
        return []
    message = (
        f"{CERTIFICATE}: waiting for DNS validation record {record.name} {record.type} "
        f"{record.value} (status.customDomain.validationRecords); create it in the DNS zone "
        f"of {_domain(ctx)}"
    )
    return [message]


def status(ctx: Context) -> dict[str, Any]:
    """``status.customDomain``: the domain, whether it is live, and what DNS needs."""
    if not enabled(ctx):
        return {"enabled": False}
    target, target_zone = alias_target(ctx)
    values: dict[str, Any] = {
        "certificateStatus": ctx.observed.at_provider(CERTIFICATE, "status"),
        "targetDomainName": target,
        "targetHostedZoneId": target_zone,
    }
    if ctx.hosted_zone_id is None and (record := requested_record(ctx)) is not None:
        values["validationRecords"] = [record.as_status()]
    result: dict[str, Any] = {"enabled": True, "domain": _domain(ctx), "ready": live(ctx)}
    result.update({k: v for k, v in values.items() if v is not None})
    return result
