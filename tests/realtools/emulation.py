"""A provider emulation: what the real providers would report for a composed resource.

Pure (no I/O) and deterministic, so a loop around ``crossplane composition render`` and a
loop around a real API server (writing ``status`` through the status subresource) see the
same objects. Only what a provider can know is reported:

- ``status.conditions``: Ready and Synced, with the ``reason`` and ``lastTransitionTime`` the
  CRDs require (a fixed time, so a status never changes unless its content does);
- ``status.atProvider``: AWS ids and ARNs in the formats ``simulate``'s fake provider uses
  (same seeds, so the same values), only on kinds whose CRD status has ``atProvider``;
  provider-kubernetes Objects report the manifest they applied, provider-helm Releases
  their state; Crossplane Usages and ProviderConfigs report no ``atProvider``;
- resolved references: ``fooSelector`` filled in as ``foo`` and ``fooRef``, as upjet's
  resolvers do, from the first matching resource (by name) with the same controller. A
  reference that cannot resolve yet leaves the resource uncreated: Synced False, Ready False.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from realtools.project import (
    NO_STATUS_KINDS,
    RESOURCE_NAME_ANNOTATION,
    USAGE_GROUP,
    condition,
    fake_at_provider,
)

EXTERNAL_NAME = "crossplane.io/external-name"
COMPOSITE_LABEL = "crossplane.io/composite"


def _external_name(target: Mapping[str, Any]) -> str | None:
    annotations = (target.get("metadata") or {}).get("annotations") or {}
    return annotations.get(EXTERNAL_NAME) or _at_provider(target).get("id")


def _at_provider(target: Mapping[str, Any]) -> Mapping[str, Any]:
    return (target.get("status") or {}).get("atProvider") or {}


def _arn(target: Mapping[str, Any]) -> str | None:
    return _at_provider(target).get("arn")


def _integration_target(target: Mapping[str, Any]) -> str | None:
    found = _external_name(target)
    return f"integrations/{found}" if found else None


# Selector field -> (kind it selects, the value upjet's resolver extracts from it).
RESOLVERS: dict[str, tuple[str, Callable[[Mapping[str, Any]], str | None]]] = {
    "apiIdSelector": ("API", _external_name),
    "connectionIdSelector": ("VPCLink", _external_name),
    "targetSelector": ("Integration", _integration_target),
    "authorizerIdSelector": ("Authorizer", _external_name),
    "domainNameSelector": ("DomainName", _external_name),
    "stageSelector": ("Stage", _external_name),
    "loadBalancerArnSelector": ("LB", _arn),
    "targetGroupArnSelector": ("LBTargetGroup", _arn),
    "certificateArnSelector": ("Certificate", _arn),
    "zoneIdSelector": ("Zone", _external_name),
}


def _metadata(obj: Mapping[str, Any], *path: str) -> Any:
    value: Any = obj.get("metadata") or {}
    for step in path:
        value = (value or {}).get(step)
    return value


def _controller(obj: Mapping[str, Any]) -> str | None:
    """The controller's uid (its owner reference), else the XR named by Crossplane's label."""
    for owner in _metadata(obj, "ownerReferences") or []:
        if owner.get("controller") and owner.get("uid"):
            return str(owner["uid"])
    label = _metadata(obj, "labels", COMPOSITE_LABEL)
    return f"composite:{label}" if label else None


def _matches(
    selector: Mapping[str, Any],
    target: Mapping[str, Any],
    source: Mapping[str, Any],
) -> bool:
    labels = _metadata(target, "labels") or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(key) != value for key, value in wanted.items()):
        return False
    if selector.get("matchControllerRef"):
        return _controller(source) is not None and _controller(source) == _controller(target)
    return True


def _candidates(
    kind: str, selector: Mapping[str, Any], source: Mapping[str, Any], others: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Resources of ``kind`` the selector matches, by name, as an API server lists them."""
    found = [o for o in others if o.get("kind") == kind and _matches(selector, o, source)]
    return sorted(found, key=lambda o: str(_metadata(o, "name")))


class _Resolver:
    """Fills in reference selectors of one object, remembering what failed."""

    def __init__(self, source: Mapping[str, Any], others: list[dict[str, Any]]) -> None:
        self.source = source
        self.others = others
        self.failures: list[str] = []

    def walk(self, value: Any, path: str) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.walk(item, f"{path}[{index}]")
        elif isinstance(value, dict):
            for key in list(value):
                if key in RESOLVERS and isinstance(value[key], Mapping):
                    self.resolve(value, key, f"{path}.{key}")
                else:
                    self.walk(value[key], f"{path}.{key}")

    def resolve(self, holder: dict[str, Any], key: str, path: str) -> None:
        kind, extract = RESOLVERS[key]
        field = key.removesuffix("Selector")
        for target in _candidates(kind, holder[key], self.source, self.others):
            resolved = extract(target)
            if resolved:
                holder[field] = resolved
                holder[f"{field}Ref"] = {"name": str(_metadata(target, "name"))}
                return
            self.failures.append(f"{path}: referenced {kind} has no value yet")
            return
        self.failures.append(f"{path}: no {kind} matches")

    def usage_end(self, end: dict[str, Any], path: str) -> None:
        """Resolve a Usage's ``of``/``by`` resourceSelector to a resourceRef, as core does."""
        selector = end.get("resourceSelector")
        if not isinstance(selector, Mapping) or end.get("resourceRef"):
            return
        found = [
            o
            for o in _candidates(str(end.get("kind")), selector, self.source, self.others)
            if o.get("apiVersion") == end.get("apiVersion")
        ]
        if found:
            end["resourceRef"] = {"name": str(_metadata(found[0], "name"))}
        else:
            self.failures.append(f"{path}.resourceSelector: no {end.get('kind')} matches")


def _group(obj: Mapping[str, Any]) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.split("/", maxsplit=1)[0] if "/" in api_version else ""


def _reported_at_provider(
    manifest: Mapping[str, Any], others: list[dict[str, Any]], *, owns_dns: bool
) -> dict[str, Any] | None:
    """``status.atProvider`` for the kinds whose CRD status has one; None for the rest."""
    group = _group(manifest)
    kind = str(manifest.get("kind"))
    if group.endswith((".aws.upbound.io", ".aws.m.upbound.io")) or kind == "Release":
        xr_name = _metadata(manifest, "labels", COMPOSITE_LABEL) or _metadata(manifest, "name")
        key = _metadata(manifest, "annotations", RESOURCE_NAME_ANNOTATION) or kind
        return fake_at_provider(str(xr_name), str(key), manifest, others, owns_dns=owns_dns)
    if kind == "Object" and group.startswith("kubernetes."):
        applied = ((manifest.get("spec") or {}).get("forProvider") or {}).get("manifest")
        return {"manifest": copy.deepcopy(applied)} if applied else {}
    return None


def observe(
    manifest: Mapping[str, Any], others: Iterable[Mapping[str, Any]], *, owns_dns: bool = False
) -> dict[str, Any]:
    """The object a provider reports after reconciling ``manifest`` once.

    Args:
        manifest: the composed resource as Crossplane applied it (rendered).
        others: the resources already observed (with their status), which references resolve
            against; normally the previous round's observed resources.
        owns_dns: the XR composes its certificate's validation record, so ACM issues the
            certificate only once that record exists (as ``simulate``'s fake provider).

    Returns:
        A copy of ``manifest`` with resolved references in ``spec`` and the emulated ``status``.
    """
    listed = [dict(other) for other in others]
    obj = copy.deepcopy(dict(manifest))
    obj.pop("status", None)
    kind = str(obj.get("kind"))
    if kind in NO_STATUS_KINDS:
        return obj
    resolver = _Resolver(obj, listed)
    spec = obj.get("spec") or {}
    if _group(obj) == USAGE_GROUP:
        for end in ("of", "by"):
            if isinstance(spec.get(end), dict):
                resolver.usage_end(spec[end], f"spec.{end}")
        obj["status"] = (
            {} if resolver.failures else {"conditions": [condition("Ready", "True", "Available")]}
        )
        return obj
    resolver.walk(spec, "spec")
    if resolver.failures:
        message = "cannot resolve references: " + "; ".join(resolver.failures)
        obj["status"] = {
            "conditions": [
                condition("Ready", "False", "Creating"),
                condition("Synced", "False", "ReconcileError", message),
            ]
        }
        return obj
    # Terraform's certificate validation waits until ACM has issued the certificate.
    issuing = kind == "CertificateValidation" and not any(
        other.get("kind") == "Certificate" and _at_provider(other).get("status") == "ISSUED"
        for other in listed
    )
    status: dict[str, Any] = {
        "conditions": [
            condition("Ready", "False", "Creating")
            if issuing
            else condition("Ready", "True", "Available"),
            condition("Synced", "True", "ReconcileSuccess"),
        ]
    }
    at_provider = _reported_at_provider(manifest, listed, owns_dns=owns_dns)
    if at_provider:
        status["atProvider"] = at_provider
        if at_provider.get("id") and _group(obj).endswith("upbound.io"):
            annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
            annotations.setdefault(EXTERNAL_NAME, str(at_provider["id"]))
    obj["status"] = status
    return obj


def status(manifest: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Only the ``status`` to write (status subresource) for ``manifest``; {} for none."""
    return dict(observe(manifest, others).get("status") or {})


def observe_all(
    rendered: Mapping[str, Mapping[str, Any]],
    observed: Mapping[str, Mapping[str, Any]],
    *,
    owns_dns: bool = False,
) -> dict[str, dict[str, Any]]:
    """One provider pass over a round: each rendered resource, resolved against ``observed``."""
    return {
        key: observe(body, observed.values(), owns_dns=owns_dns)
        for key, body in sorted(rendered.items())
    }
