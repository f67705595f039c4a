"""Every free-text field of the claim and the input is bounded and one line, in both layers.

The function's models (``function/model``) and the schemas a real API server enforces
(``xrds/``, ``package/input/``) are walked whole, so a string field added later without a
length bound or a one-line format fails here, not in production.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import crdcheck
import pytest
import yaml
from pydantic import BaseModel, ValidationError

from function.model.platform import FunctionInput, IngressGateway
from function.model.spec import EnvironmentSpec

ROOT = Path(__file__).resolve().parent.parent
XRDS = [ROOT / "xrds" / "xrd-legacy.yaml", ROOT / "xrds" / "xrd-v2.yaml"]
INPUT_CRD = ROOT / "package" / "input" / "vclusterenvironment.fn.platform.example.org_inputs.yaml"
# Regular-expression parts that can match a CR or LF: a negated class, '.', or a class escape.
_LINE_BREAKING = re.compile(r"\[\^|\\[sSWD]")


def _outside_classes(pattern: str) -> str:
    """A pattern without its escapes and character classes: its operators."""
    return re.sub(r"\[(\\.|[^\]])*\]", "", re.sub(r"\\.", "", pattern))


def _can_match_line_break(pattern: str) -> bool:
    """Whether a pattern (explicit ASCII classes, as every one here) could accept CR or LF."""
    return bool(_LINE_BREAKING.search(pattern)) or "." in _outside_classes(pattern)


def _bounded_by_pattern(pattern: str) -> bool:
    """Whether a pattern alone bounds the length: no '*', '+' or open '{n,}' repeat."""
    return not re.search(r"[*+]|\{\d+,\}", _outside_classes(pattern))


def _nodes(node: dict[str, Any], defs: dict[str, Any], path: str = "") -> list[tuple[str, Any]]:
    """Every node of a JSON or OpenAPI schema, with its path; $refs followed."""
    if "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[1]], **node}
    found = [(path, node)]
    for branch in node.get("anyOf", ()):
        found.extend(_nodes(branch, defs, path))
    for key, child in (node.get("properties") or {}).items():
        found.extend(_nodes(child, defs, f"{path}.{key}"))
    if isinstance(node.get("additionalProperties"), dict):
        found.extend(_nodes(node["additionalProperties"], defs, f"{path}{{}}"))
    # pydantic gives a map with constrained keys its values' schema under the keys' pattern.
    for pattern, child in (node.get("patternProperties") or {}).items():
        keys = {"type": "string", **node.get("propertyNames", {}), "pattern": pattern}
        found.extend([(f"{path}{{key}}", keys), *_nodes(child, defs, f"{path}{{}}")])
    if isinstance(node.get("items"), dict):
        found.extend(_nodes(node["items"], defs, f"{path}[]"))
    return found


def _unbounded(nodes: list[tuple[str, Any]], keys: str) -> list[str]:
    """What is unbounded; ``keys`` names where a map's keys must be checked."""
    problems = []
    for path, node in nodes:
        if isinstance(node.get("additionalProperties"), dict) or "patternProperties" in node:
            if "maxProperties" not in node:
                problems.append(f"{path}: a map without maxProperties")
            if keys not in node:
                problems.append(f"{path}: a map whose keys are not checked ({keys})")
        if node.get("type") != "string" or "enum" in node or "const" in node:
            continue
        if "maxLength" not in node and not _bounded_by_pattern(node.get("pattern", "*")):
            problems.append(f"{path}: no maxLength")
        if "pattern" not in node:
            problems.append(f"{path}: no pattern, so nothing keeps it on one line")
        elif _can_match_line_break(node["pattern"]):
            problems.append(f"{path}: pattern {node['pattern']!r} may match a line break")
    return problems


@pytest.mark.parametrize(
    "model",
    [
        # The claim's or XR's spec: everything a tenant writes.
        pytest.param(EnvironmentSpec, id="spec"),
        # The function input: everything the platform writes in the Composition.
        pytest.param(FunctionInput, id="input"),
    ],
)
def test_every_model_string_is_bounded_and_one_line(model: type[BaseModel]) -> None:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema["properties"].pop("metadata", None)  # the input's ObjectMeta is never read
    assert _unbounded(_nodes(schema, schema.get("$defs", {})), "propertyNames") == []


def _crd_schema(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.mark.parametrize(
    ("path", "subtree"),
    [
        # The spec a tenant writes (status is the function's own output).
        *(pytest.param(p, "spec", id=p.stem) for p in XRDS),
        # Every field of the input but apiVersion and kind, which the API server checks itself.
        pytest.param(INPUT_CRD, None, id="input-crd"),
    ],
)
def test_every_schema_string_is_bounded_and_one_line(path: Path, subtree: str | None) -> None:
    schema = _crd_schema(path)
    if subtree is not None:
        schema = schema["properties"][subtree]
    else:
        schema = {**schema, "properties": dict(schema["properties"])}
        for key in ("apiVersion", "kind", "metadata"):
            schema["properties"].pop(key)
    # The API server has no propertyNames: a CEL rule checks the keys of a map.
    assert _unbounded(_nodes(schema, {}), "x-kubernetes-validations") == []


@pytest.mark.parametrize(
    ("pattern", "breaks"),
    [
        # Explicit printable classes never take a line break.
        pytest.param(r"^[!-~]([ !-~]*[!-~])?$", False, id="printable"),
        # A literal dot, escaped or inside a class, is no wildcard.
        pytest.param(r"^[a-z.]+\.x$", False, id="literal-dots"),
        # A wildcard would.
        pytest.param(r"^a.*$", True, id="wildcard"),
        # A negated class would.
        pytest.param(r"^[^/]+$", True, id="negated-class"),
        # A class escape would.
        pytest.param(r"^\S+\s$", True, id="class-escape"),
    ],
)
def test_line_break_check_can_fail(pattern: str, *, breaks: bool) -> None:
    """The check above tells patterns that may take a line break from those that cannot."""
    assert _can_match_line_break(pattern) is breaks


SELECTORS = [
    # The Istio default: a bare name and value.
    pytest.param({"istio": "ingressgateway"}, True, id="istio-default"),
    # A prefixed key, as Kubernetes' own labels have, and an empty value.
    pytest.param({"app.kubernetes.io/name": ""}, True, id="prefixed-key-empty-value"),
    # A name of 63 characters and a prefix of 253: both at their limits.
    pytest.param({f"{'a' * 61}.b.{'c' * 189}/{'n' * 63}": "v"}, True, id="key-at-limits"),
    # A name of 64 characters.
    pytest.param({"n" * 64: "v"}, False, id="name-too-long"),
    # A prefix of 254 characters.
    pytest.param({f"{'p' * 254}/n": "v"}, False, id="prefix-too-long"),
    # A line break inside a key would forge a line in the gateway's configuration.
    pytest.param({"app\nx": "v"}, False, id="key-line-break"),
    # Upper case in the prefix: a DNS subdomain is lower case.
    pytest.param({"Example.com/app": "v"}, False, id="prefix-upper-case"),
    # Two slashes.
    pytest.param({"a/b/c": "v"}, False, id="two-slashes"),
    # A key that ends in a dot.
    pytest.param({"app.": "v"}, False, id="name-ends-in-dot"),
    # A value of 64 characters.
    pytest.param({"app": "v" * 64}, False, id="value-too-long"),
    # A value with a space.
    pytest.param({"app": "a b"}, False, id="value-space"),
    # 17 labels: more than any selector needs.
    pytest.param({f"k{i}": "v" for i in range(17)}, False, id="too-many-labels"),
]


@pytest.mark.parametrize(("selector", "valid"), SELECTORS)
def test_selector_rule_of_crd_and_model_agree(selector: dict[str, str], *, valid: bool) -> None:
    """The input CRD (with its CEL rule on the keys) and the function accept the same selectors."""
    schema = _crd_schema(INPUT_CRD)
    errors = crdcheck.validate_schema({"ingressGateway": {"selector": selector}}, schema)
    assert (errors == []) is valid, errors
    try:
        IngressGateway.model_validate({"selector": selector})
    except ValidationError:
        assert not valid
    else:
        assert valid
