"""A stand-in for the providers, for ``simulate`` and the tests.

It "applies" desired resources the way the real providers would report them:
AWS-assigned ids and ARNs under ``status.atProvider``, and Ready=True only once
every reference selector can resolve to a resource of the same XR. Ids are
derived from the XR and resource names, so runs are repeatable. Every status it
writes is one the real CRDs accept: conditions carry the ``reason`` and
``lastTransitionTime`` they require (a fixed time, so a status changes only with
its content), and each kind reports only the fields its CRD's status has.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from function.model.convert import dig
from function.offline.documents import RESOURCE_NAME_ANNOTATION

ACCOUNT = "123456789012"
TRANSITION_TIME = "2024-01-01T00:00:00Z"
# Crossplane's own Usages: core resolves their selectors and sets only Ready.
USAGE_GROUP = "protection.crossplane.io"
# Kinds no provider writes a status for: they count as ready once they exist.
NO_STATUS_KINDS = frozenset({"Secret", "ConfigMap", "ProviderConfig", "ClusterProviderConfig"})

# Route53 zone of API Gateway regional endpoints, per region (AWS general reference).
API_GATEWAY_ZONES = {
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-west-2": "Z2OJLYMUO9EFXC",
    "eu-west-1": "ZLY8HYME6SFDD",
}

# Reference selector field -> kind it resolves to (as the upjet resolvers do).
SELECTOR_KINDS = {
    "apiIdSelector": "API",
    "connectionIdSelector": "VPCLink",
    "targetSelector": "Integration",
    "loadBalancerArnSelector": "LB",
    "targetGroupArnSelector": "LBTargetGroup",
    "authorizerIdSelector": "Authorizer",
    "domainNameSelector": "DomainName",
    "stageSelector": "Stage",
    "certificateArnSelector": "Certificate",
    "zoneIdSelector": "Zone",
}


# Updates AWS refuses, per kind: (fields, refused when, the error the provider reports).
# Sources: the NLB user guide ("you can't add security groups to a Network Load
# Balancer created without them", error InvalidConfigurationRequest); the VPC link's
# subnetIds and securityGroupIds force a new resource in the Terraform schema upjet
# builds on, and upjet refuses such updates instead of replacing the resource.
_UPJET_REPLACE = (
    "refuse to update the external resource because the following update requires replacing it"
)
_REFUSALS: dict[str, tuple[tuple[str, ...], Callable[[Any, Any], bool], str]] = {
    "LB": (
        ("securityGroups",),
        lambda old, new: not old and bool(new),
        (
            "InvalidConfigurationRequest: You cannot set security groups on a Network Load "
            "Balancer which was created without any security groups"
        ),
    ),
    "VPCLink": (
        ("subnetIds", "securityGroupIds"),
        lambda old, new: sorted(old or []) != sorted(new or []),
        _UPJET_REPLACE,
    ),
}


def _refusal(kind: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> str | None:
    """The error AWS (or upjet) gives for updating ``before`` to ``after``, if any."""
    fields, refused, message = _REFUSALS.get(kind, ((), lambda _old, _new: False, ""))
    changed = [f for f in fields if refused(before.get(f), after.get(f))]
    return f"{message}: {', '.join(changed)}" if changed else None


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _uuid(seed: str) -> str:
    digits = _hex(seed, 32)
    return "-".join(digits[a:b] for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))


def condition(kind: str, status: str, reason: str, message: str | None = None) -> dict[str, str]:
    """One status condition as the CRDs require it (type, status, reason, lastTransitionTime)."""
    made = {"type": kind, "status": status, "reason": reason, "lastTransitionTime": TRANSITION_TIME}
    if message:
        made["message"] = message
    return made


def _group(body: Mapping[str, Any]) -> str:
    api_version = str(body.get("apiVersion", ""))
    return api_version.split("/", maxsplit=1)[0] if "/" in api_version else ""


def _selectors(value: Any, found: list[str]) -> list[str]:  # noqa: ANN401
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key in SELECTOR_KINDS:
                found.append(SELECTOR_KINDS[key])
            else:
                _selectors(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _selectors(inner, found)
    return found


def _has_record(observed: Mapping[str, Mapping[str, Any]], option: Mapping[str, Any]) -> bool:
    """Whether a Route53 Record answering an ACM validation option exists and is ready."""
    wanted = (
        str(option.get("resourceRecordName", "")).rstrip("."),
        option.get("resourceRecordType"),
        option.get("resourceRecordValue"),
    )
    for other in observed.values():
        spec = dig(other, "spec", "forProvider") or {}
        found = (str(spec.get("name", "")).rstrip("."), spec.get("type"))
        if (
            other.get("kind") == "Record"
            and found == wanted[:2]
            and wanted[2] in (spec.get("records") or [])
            and _ready(other)
        ):
            return True
    return False


def _validation_option(domain: str, arn: str) -> dict[str, str]:
    """The CNAME ACM asks for to validate a certificate of ``domain``."""
    return {
        "domainName": domain,
        "resourceRecordName": f"_{_hex(domain, 32)}.{domain}.",
        "resourceRecordType": "CNAME",
        "resourceRecordValue": f"_{_hex(arn, 32)}.{_hex(arn, 10)}.acm-validations.aws.",
    }


def _issued(observed: Mapping[str, Mapping[str, Any]]) -> bool:
    return any(
        other.get("kind") == "Certificate"
        and dig(other, "status", "atProvider", "status") == "ISSUED"
        for other in observed.values()
    )


def _ready(body: Mapping[str, Any]) -> bool:
    conditions = dig(body, "status", "conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class FakeProvider:
    """Turns desired composed resources into observed ones, one reconcile at a time."""

    def __init__(self, xr_name: str, *, owns_dns: bool = False) -> None:
        """Create a provider for one XR.

        With ``owns_dns`` the XR composes its certificate's validation record, and ACM
        issues the certificate only once that record exists; without, the records are
        someone else's, and the fake takes them as made.
        """
        self.xr_name = xr_name
        self.owns_dns = owns_dns

    def _id(self, key: str, length: int) -> str:
        return _hex(f"{self.xr_name}/{key}", length)

    def _arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"

    def _at_provider(  # noqa: C901, PLR0915
        self, key: str, body: Mapping[str, Any], observed: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any]:
        kind = str(body.get("kind"))
        spec = dig(body, "spec", "forProvider") or {}
        region = str(spec.get("region", "us-east-1"))
        external = dig(body, "metadata", "annotations", "crossplane.io/external-name")

        def by_kind(wanted: str) -> Mapping[str, Any]:
            for other in observed.values():
                if other.get("kind") == wanted:
                    return dig(other, "status", "atProvider") or {}
            return {}

        status: dict[str, Any] = {}
        handlers: dict[str, Callable[[], None]] = {}

        def api() -> None:
            api_id = self._id(key, 10)
            status.update(
                id=api_id,
                apiEndpoint=f"https://{api_id}.execute-api.{region}.amazonaws.com",
                arn=self._arn("apigateway", region, f"/apis/{api_id}"),
            )

        def vpc_link() -> None:
            status.update(id=self._id(key, 6))

        def stage() -> None:
            api_id = by_kind("API").get("id", "")
            suffix = "" if external == "$default" else str(external)
            status.update(
                id=str(external),
                invokeUrl=f"https://{api_id}.execute-api.{region}.amazonaws.com/{suffix}",
            )

        def load_balancer() -> None:
            name = spec.get("name", key)
            status.update(
                arn=self._arn(
                    "elasticloadbalancing", region, f"loadbalancer/net/{name}/{self._id(key, 16)}"
                ),
                dnsName=f"internal-{name}-{self._id(key, 10)}.elb.{region}.amazonaws.com",
                vpcId=f"vpc-{self._id('vpc', 17)}",
            )

        def target_group() -> None:
            name = spec.get("name", key)
            status.update(
                arn=self._arn(
                    "elasticloadbalancing", region, f"targetgroup/{name}/{self._id(key, 16)}"
                )
            )

        def listener() -> None:
            lb_arn = str(by_kind("LB").get("arn", ""))
            lb_path = lb_arn.split(":loadbalancer/", 1)[-1]
            status.update(
                arn=self._arn(
                    "elasticloadbalancing", region, f"listener/{lb_path}/{self._id(key, 16)}"
                )
            )

        def security_group() -> None:
            group_id = f"sg-{self._id(key, 17)}"
            status.update(id=group_id, arn=self._arn("ec2", region, f"security-group/{group_id}"))

        def security_group_rule() -> None:
            # aws_vpc_security_group_{ingress,egress}_rule: the id is the rule's sgr- id.
            rule_id = f"sgr-{self._id(key, 17)}"
            status.update(
                id=rule_id,
                securityGroupRuleId=rule_id,
                arn=self._arn("ec2", region, f"security-group-rule/{rule_id}"),
            )

        def log_group() -> None:
            # CloudWatch's own ARN ends in ':*'; the Terraform provider upjet wraps trims it
            # (aws_cloudwatch_log_group's arn attribute), so the provider reports it without.
            status.update(arn=self._arn("logs", region, f"log-group:{external}"))

        def release() -> None:
            status.update(state="deployed", revision=1)

        def certificate() -> None:
            # ACM issues a DNS-validated certificate only once its validation record
            # resolves (ACM user guide, DNS validation); until then it is PENDING_VALIDATION.
            domain = str(spec.get("domainName", ""))
            arn = self._arn("acm", region, f"certificate/{_uuid(f'{self.xr_name}/{key}')}")
            option = _validation_option(domain, arn)
            status.update(
                arn=arn,
                id=arn,
                domainName=domain,
                status=(
                    "ISSUED"
                    if not self.owns_dns or _has_record(observed, option)
                    else "PENDING_VALIDATION"
                ),
                domainValidationOptions=[option],
            )

        def certificate_validation() -> None:
            status.update(
                id="2024-01-01 00:00:00 +0000 UTC",  # the certificate's issue time
                certificateArn=by_kind("Certificate").get("arn", ""),
            )

        def domain_name() -> None:
            # An object, not a list, in both storage versions (v1beta2 and .m. v1beta1).
            config = dict(spec.get("domainNameConfiguration") or {})
            config.pop("certificateArnSelector", None)
            config.update(
                certificateArn=by_kind("Certificate").get("arn", ""),
                targetDomainName=f"d-{self._id(key, 10)}.execute-api.{region}.amazonaws.com",
                hostedZoneId=API_GATEWAY_ZONES.get(region, f"Z{self._id(key, 12).upper()}"),
            )
            status.update(
                id=str(external),
                arn=self._arn("apigateway", region, f"/domainnames/{external}"),
                apiMappingSelectionExpression="$request.basepath",
                domainNameConfiguration=config,
            )

        def api_mapping() -> None:
            status.update(id=self._id(key, 6), domainName=by_kind("DomainName").get("id", ""))

        def record() -> None:
            name = str(spec.get("name", "")).rstrip(".")
            status.update(
                id=f"{spec.get('zoneId')}_{name}_{spec.get('type')}",
                fqdn=name,
            )

        handlers.update(
            API=api,
            VPCLink=vpc_link,
            Stage=stage,
            LB=load_balancer,
            LBTargetGroup=target_group,
            LBListener=listener,
            Group=log_group,
            SecurityGroup=security_group,
            SecurityGroupIngressRule=security_group_rule,
            SecurityGroupEgressRule=security_group_rule,
            Release=release,
            Certificate=certificate,
            CertificateValidation=certificate_validation,
            DomainName=domain_name,
            APIMapping=api_mapping,
            Record=record,
        )
        handlers.get(kind, lambda: status.update(id=self._id(key, 8)))()
        return status

    def apply(
        self,
        desired: Mapping[str, Mapping[str, Any]],
        observed: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, dict[str, Any]]:
        """Observed state after the providers reconcile the desired resources once."""
        result: dict[str, dict[str, Any]] = {}
        for key, body in sorted(desired.items()):
            applied = copy.deepcopy(dict(body))
            metadata = applied.setdefault("metadata", {})
            metadata.setdefault("name", f"{self.xr_name}-{self._id(key, 5)}")
            metadata.setdefault("annotations", {})[RESOURCE_NAME_ANNOTATION] = key
            if applied.get("kind") not in NO_STATUS_KINDS:
                applied["status"] = self._status(key, applied, observed.get(key), observed)
            result[key] = applied
        return result

    def _status(
        self,
        key: str,
        body: Mapping[str, Any],
        previous: Mapping[str, Any] | None,
        observed: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Any]:
        """The status a provider writes for ``body``, with only the fields its CRD has."""
        if _group(body) == USAGE_GROUP:
            return {"conditions": [condition("Ready", "True", "Available")]}
        refused = None
        if previous is not None:
            refused = _refusal(
                str(body.get("kind")),
                dig(previous, "spec", "forProvider") or {},
                dig(body, "spec", "forProvider") or {},
            )
        if previous is not None and refused is not None:
            # The spec is what was asked for; AWS still has the old resource.
            return {
                **copy.deepcopy(dict(previous.get("status") or {})),
                "conditions": [
                    condition("Ready", "True", "Available"),
                    condition("Synced", "False", "ReconcileError", refused),
                ],
            }
        kinds_present = {str(o.get("kind")) for o in observed.values()}
        missing = [k for k in _selectors(body.get("spec"), []) if k not in kinds_present]
        if missing:
            message = "cannot resolve references: no " + ", ".join(missing)
            return {
                "conditions": [
                    condition("Ready", "False", "Creating"),
                    condition("Synced", "False", "ReconcileError", message),
                ]
            }
        ready = condition("Ready", "True", "Available")
        if body.get("kind") == "CertificateValidation" and not _issued(observed):
            # Terraform's certificate validation waits until ACM has issued it.
            ready = condition("Ready", "False", "Creating")
        if body.get("kind") == "Object" and _group(body).startswith("kubernetes."):
            # provider-kubernetes reports the manifest it applied; its status has no id.
            at_provider = {"manifest": copy.deepcopy(dig(body, "spec", "forProvider", "manifest"))}
        else:
            at_provider = self._at_provider(key, body, observed)
        return {
            "atProvider": at_provider,
            "conditions": [ready, condition("Synced", "True", "ReconcileSuccess")],
        }
