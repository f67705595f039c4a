"""What AWS reported that both a builder and the status read.

Each value is read here once, in one way, so that a manifest and the status the
user sees can never disagree about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from function.model import keys
from function.model.observed import text

if TYPE_CHECKING:
    from function.model.context import Context

# Where ACM lists the DNS records it wants to see, one per domain of the certificate.
VALIDATION_OPTIONS = (keys.CERTIFICATE, "domainValidationOptions")
# Where AWS reports the domain's regional target, which the domain's alias points at.
ALIAS_TARGET = (keys.DOMAIN_NAME, "domainNameConfiguration", "targetDomainName")
ALIAS_TARGET_ZONE = (keys.DOMAIN_NAME, "domainNameConfiguration", "hostedZoneId")


@dataclass(frozen=True)
class ValidationRecord:
    """A DNS record ACM wants to see before it issues the certificate."""

    name: str
    type: str
    value: str

    def as_status(self) -> dict[str, str]:
        """The record as ``status.customDomain.validationRecords`` lists it."""
        return {"name": self.name, "type": self.type, "value": self.value}


def record_for(domain: str, options: Any) -> ValidationRecord | None:  # noqa: ANN401
    """The record ACM asks for ``domain`` among its validation ``options``, if complete."""
    for option in options if isinstance(options, list) else []:
        if not isinstance(option, Mapping) or option.get("domainName") != domain:
            continue
        name, kind, value = (
            text(option.get(field))
            for field in ("resourceRecordName", "resourceRecordType", "resourceRecordValue")
        )
        if name and kind and value:
            return ValidationRecord(name, kind, value)
    return None


def requested_record(ctx: Context) -> ValidationRecord | None:
    """The validation record for the claim's domain, as the certificate reports it."""
    return record_for(ctx.spec.domain or "", ctx.observed.reported(*VALIDATION_OPTIONS))


def alias_target(ctx: Context) -> tuple[str | None, str | None]:
    """The domain's regional target name and its hosted zone, as AWS reports them."""
    return text(ctx.observed.reported(*ALIAS_TARGET)), text(
        ctx.observed.reported(*ALIAS_TARGET_ZONE)
    )


def domain_live(ctx: Context) -> bool:
    """Whether clients can use the custom domain: mapped, and aliased when we own the DNS."""
    if not ctx.custom_domain or not ctx.observed.ready(keys.API_MAPPING):
        return False
    return ctx.hosted_zone_id is None or ctx.observed.ready(keys.ALIAS_RECORD)


def endpoint(ctx: Context) -> str | None:
    """The URL clients call: ``https://<domain>`` once live, else the stage's invoke URL."""
    if domain_live(ctx):
        return f"https://{ctx.spec.domain}"
    return ctx.observed.at_provider(keys.STAGE, "invokeUrl")


def listener_arn(ctx: Context) -> str | None:
    """The listener the integration targets: given, else reported, else as sent before."""
    return ctx.listener_arn or ctx.observed.reported_or_sent(
        (keys.LISTENER, "arn"), (keys.INTEGRATION, "integrationUri")
    )
