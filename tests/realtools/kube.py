"""A small Kubernetes API client over HTTPS, for a control plane inside a network namespace.

Only what the suites need: discovery of a kind's resource path, get, list, create, server-side
apply (optionally as a server-side dry run with strict field validation), status patches
and delete. Each thread has its own connection, opened inside the namespace.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

    from realtools.netns import NetworkNamespace

FIELD_MANAGER = "realtools"
REQUEST_TIMEOUT_S = 60.0
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_ERRORS_FROM = 400
JSON = "application/json"
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class ApiError(RuntimeError):
    """The API server refused a request; ``status`` is its Status object."""

    def __init__(self, code: int, status: Mapping[str, Any], what: str) -> None:
        """Keep the HTTP code and the Status, and say what was asked."""
        self.code = code
        self.status = dict(status)
        self.reason = str(status.get("reason", ""))
        self.message = str(status.get("message", status))
        super().__init__(f"{what}: HTTP {code} {self.reason}: {self.message}")


@dataclass(frozen=True)
class Resource:
    """Where the API serves a kind: its group-version path, plural and scope."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The collection path (or an object's, with ``name``) in ``namespace`` if namespaced."""
        base = group_version_path(self.api_version)
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


def group_version_path(api_version: str) -> str:
    """The discovery path of a group version: /api/v1 for the core group, else /apis/..."""
    return f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"


def ref(obj: Mapping[str, Any]) -> tuple[str, str, str, str | None]:
    """(apiVersion, kind, name, namespace) of an object."""
    metadata = obj.get("metadata") or {}
    return (
        str(obj["apiVersion"]),
        str(obj["kind"]),
        str(metadata.get("name", "")),
        metadata.get("namespace"),
    )


class Kube:
    """A client for one API server, authenticated with a client certificate."""

    def __init__(
        self, host: str, port: int, *, ca: Path, cert: Path, key: Path, netns: NetworkNamespace
    ) -> None:
        """Trust ``ca`` for the server; present ``cert``/``key``; connect inside ``netns``."""
        self.host, self.port, self.netns = host, port, netns
        self._tls = ssl.create_default_context(cafile=str(ca))
        self._tls.load_cert_chain(str(cert), str(key))
        self._local = threading.local()
        self._resources: dict[tuple[str, str], Resource] = {}
        self._lock = threading.Lock()

    # --- transport ------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPSConnection:
        connection: http.client.HTTPSConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPSConnection(
                self.host, self.port, context=self._tls, timeout=REQUEST_TIMEOUT_S
            )
            with self.netns.entered():
                connection.connect()
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = JSON,
        query: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """One request; returns the HTTP code and the decoded JSON answer."""
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Accept": JSON}
        if payload is not None:
            headers["Content-Type"] = content_type
        for attempt in range(2):
            connection = self._connection()
            try:
                connection.request(method, target, body=payload, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                break
            except (http.client.HTTPException, OSError):
                # A keep-alive connection the server closed: open a new one, once.
                self._drop()
                if attempt:
                    raise
        if not data or not answer.getheader("Content-Type", "").startswith(JSON):
            return answer.status, {"message": data.decode(errors="replace")}
        return answer.status, json.loads(data)

    def _checked(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """``request``, raising ApiError unless the server accepted it."""
        code, answer = self.request(method, path, **options)
        if code >= HTTP_ERRORS_FROM:
            raise ApiError(code, answer, f"{method} {path}")
        return answer

    def ensure_namespaces(self, names: Iterable[str]) -> None:
        """Create these namespaces unless they exist."""
        for name in sorted(set(names)):
            self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def _unless_gone(self, method: str, path: str) -> dict[str, Any] | None:
        """``_checked``, but None where the object does not exist."""
        code, answer = self.request(method, path)
        if code == HTTP_NOT_FOUND:
            return None
        if code >= HTTP_ERRORS_FROM:
            raise ApiError(code, answer, f"{method} {path}")
        return answer

    # --- discovery ------------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Resource:
        """Where ``kind`` is served; discovery is read again for a kind not seen before."""
        key = (api_version, kind)
        with self._lock:
            if key in self._resources:
                return self._resources[key]
        listing = self._checked("GET", group_version_path(api_version))
        found: Resource | None = None
        with self._lock:
            for entry in listing.get("resources") or []:
                if "/" in entry["name"]:
                    continue  # subresources such as status
                known = Resource(api_version, entry["kind"], entry["name"], entry["namespaced"])
                self._resources[api_version, entry["kind"]] = known
                if entry["kind"] == kind:
                    found = known
        if found is None:
            msg = f"{api_version} serves no kind {kind}"
            raise KeyError(msg)
        return found

    def _path(self, obj: Mapping[str, Any], *, named: bool = True) -> str:
        api_version, kind, name, namespace = ref(obj)
        return self.resource(api_version, kind).path(namespace, name if named else None)

    # --- verbs ----------------------------------------------------------------------------

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """An object, or None if it does not exist."""
        return self._unless_gone("GET", self.resource(api_version, kind).path(namespace, name))

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every object of a kind (in ``namespace``, or everywhere), with apiVersion and kind."""
        query = {"labelSelector": labels} if labels else None
        answer = self._checked("GET", self.resource(api_version, kind).path(namespace), query=query)
        items = list(answer.get("items") or [])
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def apply(
        self,
        obj: Mapping[str, Any],
        *,
        dry_run: bool = False,
        strict: bool = True,
        manager: str = FIELD_MANAGER,
    ) -> dict[str, Any]:
        """Server-side apply (forcing conflicts); with ``dry_run`` nothing is persisted."""
        query = {"fieldManager": manager, "force": "true"}
        query["fieldValidation"] = "Strict" if strict else "Warn"
        if dry_run:
            query["dryRun"] = "All"
        return self._checked(
            "PATCH", self._path(obj), body=dict(obj), content_type=APPLY_PATCH, query=query
        )

    def create(self, obj: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Create (``metadata.generateName`` allowed), strictly validated; optionally a dry run."""
        query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict"}
        if dry_run:
            query["dryRun"] = "All"
        return self._checked("POST", self._path(obj, named=False), body=dict(obj), query=query)

    def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Replace an object (PUT): fields left out are removed, unlike with apply."""
        query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict"}
        return self._checked("PUT", self._path(obj), body=dict(obj), query=query)

    def patch(
        self,
        obj: Mapping[str, Any],
        patch: Any,
        *,
        subresource: str = "",
        content_type: str = MERGE_PATCH,
    ) -> dict[str, Any]:
        """A merge (or JSON) patch of an object or of one of its subresources."""
        path = self._path(obj) + (f"/{subresource}" if subresource else "")
        query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict"}
        return self._checked("PATCH", path, body=patch, content_type=content_type, query=query)

    def delete(self, obj: Mapping[str, Any]) -> bool:
        """Ask for deletion; False if it was already gone."""
        return self._unless_gone("DELETE", self._path(obj)) is not None


def wait_until(
    what: str,
    probe: Callable[[], Any],
    timeout: float,
    interval: float = 0.25,
) -> Any:
    """Call ``probe`` until it returns something truthy; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(interval)


def condition(obj: Mapping[str, Any] | None, kind: str) -> dict[str, Any]:
    """An object's status condition of type ``kind``, or {}."""
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == kind), {})


def is_true(obj: Mapping[str, Any] | None, kind: str) -> bool:
    """Whether an object's condition ``kind`` is True."""
    return condition(obj, kind).get("status") == "True"
