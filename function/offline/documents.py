"""Files in, requests out, responses read: the function without a cluster."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import yaml
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.model import convert

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

GROUP = "platform.example.org"
CLAIM_KIND = "VClusterEnvironmentClaim"
LEGACY_XR_KIND = "XVClusterEnvironment"
FUNCTION_NAME = "function-vcluster-environment"
RESOURCE_NAME_ANNOTATION = "crossplane.io/composition-resource-name"


class OfflineError(ValueError):
    """A file that cannot be used for an offline run."""


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every YAML document in a file, or in every *.yaml file of a directory."""
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    documents: list[dict[str, Any]] = []
    for file in files:
        try:
            loaded = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            msg = f"{file}: {error}"
            raise OfflineError(msg) from None
        documents.extend(d for d in loaded if isinstance(d, dict))
    return documents


def composite_from(document: Mapping[str, Any]) -> dict[str, Any]:
    """The XR Crossplane would create for a claim; an XR is returned unchanged."""
    if document.get("kind") != CLAIM_KIND:
        return dict(document)
    metadata = document.get("metadata") or {}
    name = str(metadata.get("name", "claim"))
    spec = dict(document.get("spec") or {})
    spec["claimRef"] = {
        "apiVersion": document.get("apiVersion", f"{GROUP}/v1alpha1"),
        "kind": CLAIM_KIND,
        "name": name,
        "namespace": str(metadata.get("namespace", "default")),
    }
    return {
        "apiVersion": document.get("apiVersion", f"{GROUP}/v1alpha1"),
        "kind": LEGACY_XR_KIND,
        "metadata": {"name": name},
        "spec": spec,
    }


def check_composition(documents: Iterable[Mapping[str, Any]], xr: Mapping[str, Any]) -> None:
    """Refuse an XR of another type than the Composition composes, as ``crossplane render`` does.

    Raises:
        OfflineError: a Composition among ``documents`` is for another apiVersion or kind.
    """
    for document in documents:
        if document.get("kind") != "Composition":
            continue
        ref = (document.get("spec") or {}).get("compositeTypeRef") or {}
        wanted = (ref.get("apiVersion"), ref.get("kind"))
        if wanted != _type(xr):
            name = (document.get("metadata") or {}).get("name")
            msg = (
                f"composition {name} composes {wanted[1]} ({wanted[0]}), "
                f"not {xr.get('kind')} ({xr.get('apiVersion')})"
            )
            raise OfflineError(msg)


def input_from(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The function input from an Input document or from a Composition's pipeline step."""
    for document in documents:
        if document.get("kind") == "Composition":
            for step in (document.get("spec") or {}).get("pipeline") or []:
                if (step.get("functionRef") or {}).get("name") == FUNCTION_NAME:
                    return dict(step.get("input") or {})
        elif document.get("kind") == "Input":
            return dict(document)
    return None


def _type(document: Mapping[str, Any]) -> tuple[Any, Any]:
    return document.get("apiVersion"), document.get("kind")


def observed_from(
    documents: Iterable[Mapping[str, Any]], composite: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Observed composed resources keyed by their composition resource name.

    Documents of the composite's own type are left out, so render's output (the XR, then
    its composed resources) can be given back as observed state.
    """
    observed: dict[str, dict[str, Any]] = {}
    for document in documents:
        if composite is not None and _type(document) == _type(composite):
            continue
        annotations = (document.get("metadata") or {}).get("annotations") or {}
        key = annotations.get(RESOURCE_NAME_ANNOTATION)
        if not key:
            msg = f"observed {document.get('kind')} has no {RESOURCE_NAME_ANNOTATION} annotation"
            raise OfflineError(msg)
        observed[key] = dict(document)
    return observed


def request(
    xr: Mapping[str, Any],
    observed: Mapping[str, Mapping[str, Any]],
    function_input: Mapping[str, Any] | None,
    tag: str | None = None,
) -> fnv1.RunFunctionRequest:
    """A RunFunctionRequest as Crossplane would send it, tagged as Crossplane tags it.

    Crossplane's tag is the SHA-256 of the request's deterministic serialization, so
    requests with the same tag are otherwise identical; ``tag`` overrides it.
    """
    req = fnv1.RunFunctionRequest()
    req.observed.composite.resource.update(dict(xr))
    for key, body in sorted(observed.items()):
        req.observed.resources[key].resource.update(dict(body))
    if function_input is not None:
        req.input.update(dict(function_input))
    return retag(req) if tag is None else _with_tag(req, tag)


def _with_tag(req: fnv1.RunFunctionRequest, tag: str) -> fnv1.RunFunctionRequest:
    req.meta.tag = tag
    return req


def retag(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionRequest:
    """Set ``req``'s tag as Crossplane does, from everything else in it; returns ``req``."""
    req.ClearField("meta")
    return _with_tag(req, hashlib.sha256(req.SerializeToString(deterministic=True)).hexdigest())


def desired_of(rsp: fnv1.RunFunctionResponse) -> dict[str, dict[str, Any]]:
    """Desired composed resources of a response as plain dicts, sorted by name."""
    return {
        key: convert.to_dict(rsp.desired.resources[key].resource)
        for key in sorted(rsp.desired.resources)
    }


def status_of(rsp: fnv1.RunFunctionResponse) -> dict[str, Any]:
    """The XR status the response asks for."""
    return dict(convert.to_dict(rsp.desired.composite.resource).get("status") or {})


def fatal_of(rsp: fnv1.RunFunctionResponse) -> str | None:
    """The first Fatal result's message, if any."""
    return next((r.message for r in rsp.results if r.severity == fnv1.SEVERITY_FATAL), None)
