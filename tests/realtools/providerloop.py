"""The providers, played against a real API server by part A's pure ``emulation``.

A thread lists the composed resources of every XR (the kinds its ``resourceRefs`` name),
asks ``emulation.status`` what the provider would report for each, given the other
resources of the same XR, and writes that through the status subresource. It writes only
when the emulated status changes: Crossplane core watches composed resources, and a status
rewritten on every pass would trip its circuit breaker (``WatchCircuitOpen``).

Crossplane's own Usages are left to core, which resolves and marks them itself.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from realtools import composed, emulation
from realtools.kube import HTTP_NOT_FOUND, ApiError, Kube

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

INTERVAL_S = 0.5
# Answers that mean "try again": too many requests (also while a CRD's storage is set up
# again), and the server's own errors.
TRANSIENT = 429
SERVER_ERRORS_FROM = 500
# Groups no provider reconciles here: Crossplane's Usages (core does) and plain Kubernetes.
NOT_PROVIDER_GROUPS = ("protection.crossplane.io", "")


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _controller(obj: Mapping[str, Any]) -> str:
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("controller"):
            return str(owner.get("uid"))
    return ""


@dataclass
class ProviderEmulator:
    """Writes emulated provider status for the composed resources of the given XR kinds."""

    client: Kube
    composites: Iterable[tuple[str, str]]
    interval: float = INTERVAL_S
    writes: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)
    _written: dict[str, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ProviderEmulator:
        """Run passes in a thread until ``stop``."""
        self._thread = threading.Thread(target=self._run, name="provider-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the thread after its current pass."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.reconcile()
            except ApiError as error:
                self._failed(error, "pass failed")
            except OSError as error:
                self.errors.append(f"pass failed: {error}")
            self._stop.wait(self.interval)

    def _failed(self, error: ApiError, what: str) -> bool:
        """Count a transient refusal (True: try again), or keep any other as an error."""
        if error.code == TRANSIENT or error.code >= SERVER_ERRORS_FROM:
            self.retried += 1
            return True
        self.errors.append(f"{what}: {error}")
        return False

    def _kinds(self) -> set[tuple[str, str]]:
        kinds = set()
        for api_version, kind in self.composites:
            for xr in self.client.list(api_version, kind):
                kinds.update((str(r["apiVersion"]), str(r["kind"])) for r in composed.refs_of(xr))
        return {k for k in kinds if _group(k[0]) not in NOT_PROVIDER_GROUPS}

    def reconcile(self) -> int:
        """One pass over every composed resource; returns how many statuses it wrote."""
        by_controller: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for api_version, kind in sorted(self._kinds()):
            with contextlib.suppress(KeyError):  # a kind core has not created yet
                for obj in self.client.list(api_version, kind):
                    by_controller[_controller(obj)].append(obj)
        written = 0
        for siblings in by_controller.values():
            for obj in siblings:
                written += self._observe(obj, siblings)
        return written

    def _observe(self, obj: dict[str, Any], siblings: list[dict[str, Any]]) -> int:
        metadata = obj.get("metadata") or {}
        if metadata.get("deletionTimestamp"):
            return 0
        status = emulation.status(obj, siblings)
        fingerprint = json.dumps(status, sort_keys=True)
        uid = str(metadata.get("uid"))
        if not status or self._written.get(uid) == fingerprint:
            return 0
        self._written[uid] = fingerprint
        if obj.get("status") == status:
            return 0
        try:
            self.client.patch(obj, {"status": status}, subresource="status")
        except ApiError as error:
            if error.code == HTTP_NOT_FOUND:
                # Deleted since this pass listed it: a provider's status write then finds
                # nothing and stops, as here.
                return 0
            if self._failed(error, f"{obj['kind']} {metadata.get('name')}"):
                del self._written[uid]  # transient: write it again next pass
            return 0
        self.writes += 1
        return 1
