"""Real-sized requests: what Kubernetes, Crossplane and the providers add to a bare request.

``simulate`` leaves observed resources holding only what this function sent and the
status fields it reads. What Crossplane really sends also carries, for every composed
resource, what the API server and the controllers write:

- ``identity``: ``uid``, ``resourceVersion``, ``generation``, ``creationTimestamp``;
- ``labels``: Crossplane's composite, claim-name and claim-namespace labels;
- ``owner``: the owner reference to the XR, and the managed-resource finalizer;
- ``annotations``: external-create-pending / -succeeded times (managed resources);
- ``managedFields``: one entry for Crossplane's server-side apply of the spec and one for
  the provider's status update, each a ``fieldsV1`` tree naming every field it set;
- ``echo``: the provider echoing ``spec.forProvider`` under ``status.atProvider``, with
  ``id``, ``arn`` and ``tagsAll`` (managed resources);
- ``conditions``: Ready and Synced with times, reasons and ``observedGeneration``.

The XR carries the same metadata, its ``resourceRefs`` and Crossplane's conditions.
Every value is derived from names, so the same converged state always gives the same bytes.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

JsonDict = dict[str, Any]
# Kubernetes and Crossplane stamp these on every object; fixed so requests are reproducible.
CREATED = "2026-11-20T09:14:07Z"
UPDATED = "2026-11-20T09:21:43Z"
NAMESPACE = uuid.UUID("6f1c0a52-8c1e-4c39-9a8e-0d7a1c3b2e10")
FINALIZER = "finalizer.managedresource.crossplane.io"
PARTS = ("identity", "labels", "owner", "annotations", "managedFields", "echo", "conditions")


def _uid(*names: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(names)))


def _managed(body: JsonDict) -> bool:
    """Whether a provider reconciles ``body`` as a managed resource (it has forProvider)."""
    return isinstance(body.get("spec"), dict) and "forProvider" in body["spec"]


def fields_v1(value: Any) -> JsonDict:  # noqa: ANN401
    """The ``fieldsV1`` tree of ``value``: every key as ``f:<key>``, every list item as ``.``."""
    if isinstance(value, dict):
        return {f"f:{key}": fields_v1(item) for key, item in value.items()}
    if isinstance(value, list) and value:
        return {"k:{}": {".": {}, **fields_v1(value[0])}} if isinstance(value[0], dict) else {}
    return {}


def _entry(manager: str, operation: str, fields: JsonDict, subresource: str | None) -> JsonDict:
    entry = {
        "apiVersion": "",
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
        "manager": manager,
        "operation": operation,
        "time": UPDATED,
    }
    if subresource is not None:
        entry["subresource"] = subresource
    return entry


def _conditions(generation: int) -> list[JsonDict]:
    return [
        {
            "lastTransitionTime": UPDATED,
            "observedGeneration": generation,
            "reason": reason,
            "status": "True",
            "type": kind,
        }
        for kind, reason in (("Ready", "Available"), ("Synced", "ReconcileSuccess"))
    ]


def _echo(body: JsonDict, xr_name: str, key: str) -> None:
    """The provider's ``status.atProvider``: the spec it applied, and what AWS assigned."""
    # provider-helm and provider-kubernetes echo what they applied; AWS also assigns ids.
    at_provider = body.setdefault("status", {}).setdefault("atProvider", {})
    sent = copy.deepcopy(body["spec"]["forProvider"])
    if "aws" not in str(body.get("apiVersion")):
        body["status"]["atProvider"] = {**sent, **at_provider}
        return
    tags = sent.get("tags") if isinstance(sent.get("tags"), dict) else {}
    reported = {
        **sent,
        **at_provider,
        "id": at_provider.get("id") or _uid(xr_name, key, "id")[:17],
        "arn": at_provider.get("arn")
        or f"arn:aws:{key}:eu-west-1:123456789012:{xr_name}/{_uid(xr_name, key)}",
        "tagsAll": {
            **tags,
            "crossplane-kind": f"{body.get('kind', '').lower()}.aws.upbound.io",
            "crossplane-name": body["metadata"].get("name", key),
            "crossplane-providerconfig": "default",
        },
    }
    body["status"]["atProvider"] = reported


def _dress(body: JsonDict, owner: JsonDict, key: str, number: int) -> None:
    """Add to one object what the API server and its controllers write (see module doc)."""
    metadata = body.setdefault("metadata", {})
    name = str(metadata.get("name", key))
    generation = 1 + number % 3
    metadata.update(
        uid=_uid(owner["name"], key),
        resourceVersion=str(48_211 + 97 * number),
        generation=generation,
        creationTimestamp=CREATED,
    )
    metadata.setdefault("labels", {}).update(
        {
            "crossplane.io/composite": owner["name"],
            "crossplane.io/claim-name": owner["claim"],
            "crossplane.io/claim-namespace": owner["namespace"],
        }
    )
    metadata["ownerReferences"] = [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["name"],
            "uid": owner["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    managed = _managed(body)
    if managed:
        metadata["finalizers"] = [FINALIZER]
        metadata.setdefault("annotations", {}).update(
            {
                "crossplane.io/external-create-pending": CREATED,
                "crossplane.io/external-create-succeeded": CREATED,
                "crossplane.io/external-name": metadata.get("annotations", {}).get(
                    "crossplane.io/external-name", name
                ),
            }
        )
        _echo(body, owner["name"], key)
    status = body.get("status")
    if isinstance(status, dict):
        status["conditions"] = _conditions(generation)
    applied = {k: v for k, v in body.items() if k in {"apiVersion", "kind", "spec"}}
    metadata["managedFields"] = [
        _entry("apiextensions.crossplane.io/composed", "Apply", fields_v1(applied), None),
        *(
            [_entry(f"provider-{key}", "Update", fields_v1({"status": status}), "status")]
            if isinstance(status, dict)
            else []
        ),
        # The provider's late initialization: the annotations and forProvider it wrote back.
        *(
            [
                _entry(
                    f"provider-{key}",
                    "Update",
                    fields_v1({"metadata": {"annotations": metadata["annotations"]}, **applied}),
                    None,
                )
            ]
            if managed
            else []
        ),
    ]


def dress(xr: JsonDict, observed: dict[str, JsonDict]) -> tuple[JsonDict, dict[str, JsonDict]]:
    """Copies of ``xr`` and ``observed`` as Crossplane would send them (see module doc)."""
    xr, observed = copy.deepcopy(xr), copy.deepcopy(observed)
    claim = xr.get("spec", {}).get("claimRef", {})
    owner = {
        "apiVersion": xr["apiVersion"],
        "kind": xr["kind"],
        "name": xr["metadata"]["name"],
        "uid": _uid(xr["metadata"]["name"]),
        "claim": claim.get("name", ""),
        "namespace": claim.get("namespace", ""),
    }
    for number, key in enumerate(sorted(observed)):
        _dress(observed[key], owner, key, number)
    xr["spec"]["resourceRefs"] = [
        {
            "apiVersion": body.get("apiVersion"),
            "kind": body.get("kind"),
            "name": body.get("metadata", {}).get("name"),
        }
        for _, body in sorted(observed.items())
    ]
    xr["spec"]["compositionRef"] = {"name": "vcluster-environment-legacy"}
    xr["spec"]["compositionUpdatePolicy"] = "Automatic"
    metadata = xr["metadata"]
    metadata.update(uid=owner["uid"], resourceVersion="48200", generation=2)
    metadata["creationTimestamp"] = CREATED
    metadata["finalizers"] = ["composite.apiextensions.crossplane.io"]
    metadata["managedFields"] = [
        _entry("apiextensions.crossplane.io/claim", "Apply", fields_v1({"spec": xr["spec"]}), None)
    ]
    xr.setdefault("status", {})["conditions"] = _conditions(2)
    return xr, observed


def sizes(bare: dict[str, JsonDict], dressed: dict[str, JsonDict]) -> dict[str, int]:
    """Bytes (as compact JSON) each part adds over all observed resources, in PARTS order."""
    added = dict.fromkeys(PARTS, 0)

    def size(value: Any) -> int:  # noqa: ANN401
        return len(json.dumps(value, separators=(",", ":"), sort_keys=True))

    for key, body in dressed.items():
        before, metadata = bare[key].get("metadata", {}), body["metadata"]
        added["identity"] += sum(
            size({k: metadata[k]})
            for k in ("uid", "resourceVersion", "generation", "creationTimestamp")
        )
        added["labels"] += size(metadata.get("labels")) - size(before.get("labels") or {})
        added["owner"] += size(metadata["ownerReferences"]) + size(metadata.get("finalizers", []))
        added["annotations"] += size(metadata.get("annotations", {})) - size(
            before.get("annotations", {})
        )
        added["managedFields"] += size(metadata["managedFields"])
        status, old = body.get("status", {}), bare[key].get("status", {})
        added["echo"] += size(status.get("atProvider", {})) - size(old.get("atProvider", {}))
        added["conditions"] += size(status.get("conditions", [])) - size(old.get("conditions", []))
    return added
