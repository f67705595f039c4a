"""Claims and XRs driven through Crossplane core to Ready, then deleted, and what happened.

``Environment`` is one claim or XR as applied (ours, or a platform XR that composes ours).
``converge`` applies them all at once and waits until each is Ready (core's Ready
condition), noting the seconds it took and the RunFunction calls made for its XR by then.
``delete`` deletes them all at once, waits until every composed resource is gone (with
everything a composed XR composed in turn), and reads the API server's audit log for the
moment each deletion succeeded and for the deletions refused
(``nousages.protection.crossplane.io`` refuses to delete a resource a Usage protects).
``readiness_gaps`` and ``Deletion.problems`` say what a test expects of each.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from realtools import composed, kube
from realtools.project import RESOURCE_NAME_ANNOTATION

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from realtools.fnpackage import InstalledFunction
    from realtools.kube import Kube

GROUP_VERSION = "platform.example.org/v1alpha1"
CLAIM_KIND = "VClusterEnvironmentClaim"
LEGACY_XR_KIND = "XVClusterEnvironment"
V2_XR_KIND = "VClusterEnvironment"
COMPOSITES = ((GROUP_VERSION, LEGACY_XR_KIND), (GROUP_VERSION, V2_XR_KIND))
USAGE_KINDS = frozenset({"Usage", "ClusterUsage"})
POLL_S = 0.5
API_GATEWAY_FIELDS = ("id", "endpoint", "vpcLinkId", "stage")
# (used, user) that no Usage orders yet: the host namespace holds the vCluster and its
# kubeconfig, so it goes last; ACM refuses to delete a certificate a domain name still uses.
MUST_OUTLIVE = (
    ("Object namespace", "Release vcluster"),
    ("Certificate certificate", "DomainName domain-name"),
)
BREAKER_OPEN = "Circuit breaker is open"
# An object's identity in the audit log: (API group, resource, namespace, name).
AuditKey = tuple[str, str, str, str]


def _metadata(obj: dict[str, Any] | None) -> dict[str, Any]:
    return (obj or {}).get("metadata") or {}


def _refs(xr: dict[str, Any] | None) -> list[dict[str, Any]]:
    """References to an XR's composed resources, with the XR's namespace filled in."""
    namespace = _metadata(xr).get("namespace")
    return [
        {**ref, "metadata": {"name": ref["name"], "namespace": namespace}}
        for ref in composed.refs_of(xr or {})
    ]


@dataclass
class Environment:
    """One claim or XR (of any kind; v2 if not a claim), as applied, and what became of it."""

    label: str
    document: dict[str, Any]
    must_become_ready: bool = True
    applied_at: float = 0.0
    ready_after: float | None = None
    calls_at_ready: int | None = None
    xr: dict[str, Any] | None = None
    claim: dict[str, Any] | None = None

    @property
    def is_claim(self) -> bool:
        """Whether this is a legacy claim (else a v2 XR)."""
        return self.kind == CLAIM_KIND

    @property
    def namespace(self) -> str:
        """The namespace it was applied in."""
        return str(_metadata(self.document)["namespace"])

    @property
    def name(self) -> str:
        """Its name as applied."""
        return str(_metadata(self.document)["name"])

    @property
    def xr_key(self) -> tuple[str, str]:
        """(namespace, name) of its XR, as the function server notes calls; ('', '') unknown."""
        if not self.is_claim:
            return self.namespace, self.name
        ref = ((self.claim or {}).get("spec") or {}).get("resourceRef") or {}
        return "", str(ref.get("name", ""))

    def refresh(self, client: Kube) -> None:
        """Read the claim (if any) and the XR again."""
        if self.is_claim:
            self.claim = client.get(GROUP_VERSION, CLAIM_KIND, self.name, self.namespace)
            _, xr_name = self.xr_key
            self.xr = client.get(GROUP_VERSION, LEGACY_XR_KIND, xr_name) if xr_name else None
        else:
            self.xr = client.get(self.api_version, self.kind, self.name, self.namespace)

    @property
    def api_version(self) -> str:
        """The apiVersion it was applied with."""
        return str(self.document["apiVersion"])

    @property
    def kind(self) -> str:
        """Its kind as applied."""
        return str(self.document["kind"])

    @property
    def ready(self) -> bool:
        """Whether core reports it Ready (the claim's condition mirrors its XR's)."""
        return kube.is_true(self.claim if self.is_claim else self.xr, "Ready")

    @property
    def settled(self) -> bool:
        """Ready, or (if it need not become Ready) failing: its XR reports Synced False."""
        failing = kube.condition(self.xr, "Synced").get("status") == "False"
        return self.ready or (failing and not self.must_become_ready)

    def composed(self) -> list[dict[str, Any]]:
        """References to its composed resources, with their namespace filled in."""
        return _refs(self.xr)

    def live(self, client: Kube) -> dict[str, dict[str, Any]]:
        """Its composed resources as they are now, by their name in the composition."""
        found = {}
        for ref in self.composed():
            namespace = ref["metadata"]["namespace"]
            body = client.get(ref["apiVersion"], ref["kind"], ref["name"], namespace) or {}
            key = (_metadata(body).get("annotations") or {}).get(RESOURCE_NAME_ANNOTATION)
            found[str(key or ref["name"])] = body
        return found


def readiness_gaps(environment: Environment) -> list[str]:
    """Why an environment of ours is not Ready with a full ``status.apiGateway``; [] if it is."""
    status = (environment.xr or {}).get("status") or {}
    if not environment.ready:
        ready = kube.condition(
            environment.claim if environment.is_claim else environment.xr, "Ready"
        )
        return [f"not Ready: {ready}, pending {status.get('pending')}"]
    gaps = [
        f"status.{key} is {status.get(key)!r}"
        for key, want in (("ready", True), ("pending", []))
        if status.get(key) != want
    ]
    gateway = status.get("apiGateway") or {}
    gaps += [f"no status.apiGateway.{name}" for name in API_GATEWAY_FIELDS if not gateway.get(name)]
    if not str(gateway.get("endpoint", "")).startswith("https://"):
        gaps.append(f"endpoint {gateway.get('endpoint')!r} is not https")
    return gaps


def converge(
    client: Kube, environments: list[Environment], function: InstalledFunction, timeout: float
) -> None:
    """Apply every environment at once; wait until all have settled or ``timeout`` passes."""
    for environment in environments:
        client.apply(environment.document)
        environment.applied_at = time.monotonic()
    deadline = time.monotonic() + timeout
    waiting = list(environments)
    while waiting and time.monotonic() < deadline:
        for environment in list(waiting):
            environment.refresh(client)
            if environment.ready:
                environment.ready_after = time.monotonic() - environment.applied_at
                environment.calls_at_ready = function.calls()[environment.xr_key]
            if environment.settled:
                waiting.remove(environment)
        time.sleep(POLL_S)
    for environment in waiting:
        environment.refresh(client)


@dataclass
class Deletion:
    """How one environment's deletion went."""

    objects: dict[AuditKey, str]
    usages: list[tuple[AuditKey, AuditKey]]
    finalized: set[AuditKey]
    seconds: float | None = None
    deleted_at: dict[AuditKey, dt.datetime] = field(default_factory=dict)
    refused: Counter[AuditKey] = field(default_factory=Counter)

    def refusals(self) -> dict[str, int]:
        """How often each composed resource's deletion was refused (a Usage protected it)."""
        return {self.objects[key]: count for key, count in sorted(self.refused.items())}

    def went_at(self) -> dict[str, dt.datetime]:
        """When each composed resource's deletion succeeded, by its label."""
        return {self.objects[key]: when for key, when in self.deleted_at.items()}

    def early(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        """Of the (used, user) pairs of labels, those whose used resource went first."""
        went = self.went_at()
        return [
            f"{used} went before {user}"
            for used, user in pairs
            if used in went and user in went and went[used] <= went[user]
        ]

    def problems(self) -> list[str]:
        """What went wrong, if anything: not all gone, or a Usage's order not kept.

        No provider runs, so no finalizer holds a Usage's end: a successful delete request is
        the disappearance.
        """
        if self.seconds is None:
            return ["not all gone"]
        found = []
        if set(self.deleted_at) != set(self.objects):
            unseen = sorted(self.objects[k] for k in set(self.objects) - set(self.deleted_at))
            found.append(f"deleted by no request we saw: {unseen}")
        if not self.usages:
            found.append("no Usage orders this deletion")
        ends = {end for pair in self.usages for end in pair}
        found += [f"{self.objects[end]} has finalizers" for end in sorted(ends & self.finalized)]
        return found + [
            f"{self.objects[used]} went before its user {self.objects[user]}"
            for user, used in self.usages
            if used in self.deleted_at
            and user in self.deleted_at
            and self.deleted_at[used] <= self.deleted_at[user]
        ]

    def order(self) -> list[str]:
        """The composed resources in the order their deletion succeeded."""
        done = sorted((when, key) for key, when in self.deleted_at.items() if key in self.objects)
        return [self.objects[key] for _, key in done]


def _describe(client: Kube, ref: dict[str, Any]) -> tuple[str, bool]:
    """A composed resource as a person reads it, and whether it has finalizers.

    The label is its kind and its name in the composition. With a finalizer, a successful
    delete request would not yet be its disappearance.
    """
    live = client.get(ref["apiVersion"], ref["kind"], ref["name"], ref["metadata"]["namespace"])
    key = (_metadata(live).get("annotations") or {}).get(RESOURCE_NAME_ANNOTATION, ref["name"])
    return f"{ref['kind']} {key}", bool(_metadata(live).get("finalizers"))


def _audit_key(client: Kube, ref: dict[str, Any], namespace: str | None) -> AuditKey:
    resource = client.resource(str(ref["apiVersion"]), str(ref["kind"]))
    group = str(ref["apiVersion"]).rpartition("/")[0]
    scoped = namespace if resource.namespaced else None
    return group, resource.plural, scoped or "", str(ref.get("name") or _metadata(ref)["name"])


def _usage_ends(
    client: Kube, usage_ref: dict[str, Any], namespace: str | None
) -> tuple[AuditKey, AuditKey] | None:
    usage = client.get(
        str(usage_ref["apiVersion"]), str(usage_ref["kind"]), usage_ref["name"], namespace
    )
    spec = (usage or {}).get("spec") or {}
    ends = []
    for end in (spec.get("by") or {}, spec.get("of") or {}):
        name = (end.get("resourceRef") or {}).get("name")
        if not name:
            return None
        ends.append(_audit_key(client, {**end, "name": name}, namespace))
    return ends[0], ends[1]


def _nested(client: Kube, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``refs`` and, for each composed XR among them, what it composes, all the way down."""
    found = []
    for ref in refs:
        found.append(ref)
        live = client.get(ref["apiVersion"], ref["kind"], ref["name"], ref["metadata"]["namespace"])
        found.extend(_nested(client, _refs(live)))
    return found


def _gone(client: Kube, environment: Environment, refs: list[dict[str, Any]]) -> bool:
    if any(
        client.get(r["apiVersion"], r["kind"], r["name"], r["metadata"]["namespace"]) for r in refs
    ):
        return False
    if environment.is_claim:
        still = client.get(GROUP_VERSION, CLAIM_KIND, environment.name, environment.namespace)
        return (
            still is None
            and client.get(GROUP_VERSION, LEGACY_XR_KIND, environment.xr_key[1]) is None
        )
    return (
        client.get(
            environment.api_version, environment.kind, environment.name, environment.namespace
        )
        is None
    )


def breaker_trips(core_log: Path) -> Counter[str]:
    """How often core's circuit breaker held back an XR, by the kind whose event tripped it."""
    trips: Counter[str] = Counter()
    for line in core_log.read_text(encoding="utf-8", errors="replace").splitlines():
        if BREAKER_OPEN in line:
            found = re.search(r'"triggered-by": "([A-Za-z]+)/', line)
            trips[found.group(1) if found else "?"] += 1
    return trips


def read_audit(path: Path) -> tuple[dict[AuditKey, dt.datetime], Counter[AuditKey]]:
    """From the audit log: when each deletion succeeded, and how often each was refused."""
    succeeded: dict[AuditKey, dt.datetime] = {}
    refused: Counter[AuditKey] = Counter()
    for raw in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(raw)
        if event.get("verb") != "delete" or event.get("stage") != "ResponseComplete":
            continue
        ref = event.get("objectRef") or {}
        key = (
            str(ref.get("apiGroup", "")),
            str(ref.get("resource", "")),
            str(ref.get("namespace", "")),
            str(ref.get("name", "")),
        )
        code = int((event.get("responseStatus") or {}).get("code", 0))
        if code < kube.HTTP_ERRORS_FROM:
            succeeded.setdefault(key, dt.datetime.fromisoformat(str(event["stageTimestamp"])))
        else:
            refused[key] += 1
    return succeeded, refused


def delete(
    client: Kube, environments: list[Environment], audit_log: Path, timeout: float
) -> dict[str, Deletion]:
    """Delete every environment at once; wait until each is gone with all it composed."""
    plans: dict[str, tuple[Environment, list[dict[str, Any]], Deletion]] = {}
    for environment in environments:
        environment.refresh(client)
        refs = _nested(client, environment.composed())
        described = {
            _audit_key(client, ref, ref["metadata"]["namespace"]): _describe(client, ref)
            for ref in refs
        }
        objects = {key: label for key, (label, _) in described.items()}
        finalized = {key for key, (_, held) in described.items() if held}
        usages = [
            ends
            for ref in refs
            if ref["kind"] in USAGE_KINDS
            and (ends := _usage_ends(client, ref, ref["metadata"]["namespace"])) is not None
        ]
        plans[environment.label] = (environment, refs, Deletion(objects, usages, finalized))
    began = time.monotonic()
    for environment, _, _ in plans.values():
        client.delete(environment.document)
    deadline = began + timeout
    pending = set(plans)
    while pending and time.monotonic() < deadline:
        for label in sorted(pending):
            environment, refs, deletion = plans[label]
            if _gone(client, environment, refs):
                deletion.seconds = time.monotonic() - began
                pending.discard(label)
        time.sleep(POLL_S)
    succeeded, refused = read_audit(audit_log)
    for _, _, deletion in plans.values():
        deletion.deleted_at = {k: v for k, v in succeeded.items() if k in deletion.objects}
        deletion.refused = Counter({k: n for k, n in refused.items() if k in deletion.objects})
    return {label: deletion for label, (_, _, deletion) in plans.items()}
