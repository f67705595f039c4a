"""The claim API (xrds/) and the function input CRD (package/input/).

Checks every example claim or XR against its XRD's schema (with Crossplane's
injected fields), bad claims against the expected admission errors, and the
schemas against the pydantic models in ``function/model/spec.py`` and
``function/model/platform.py`` so that the two
cannot drift apart. The XRDs against Crossplane's own XRD CRD, and every status
the function writes against the XRD, are checked by the real
``crossplane resource validate`` in tests/realtools.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import celpy
import crdcheck
import pytest
import re2
import yaml
from celpy import celtypes
from pydantic import BaseModel, ValidationError

from function.model.platform import FunctionInput, parse_input
from function.model.spec import (
    LOG_RETENTION_DAYS,
    MAX_ROUTES,
    MAX_SUBNETS,
    EnvironmentSpec,
    Include,
    parse_spec,
)
from function.offline import documents

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
COMPOSITIONS = ROOT / "compositions"
XRD_LEGACY = ROOT / "xrds" / "xrd-legacy.yaml"
XRD_V2 = ROOT / "xrds" / "xrd-v2.yaml"
INPUT_CRD = ROOT / "package" / "input" / "vclusterenvironment.fn.platform.example.org_inputs.yaml"
GROUP = "platform.example.org"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Kind of an example document -> (XRD file, shape of Crossplane's injected spec fields).
KINDS = {
    "VClusterEnvironmentClaim": (XRD_LEGACY, "claim"),
    "XVClusterEnvironment": (XRD_LEGACY, "legacy-xr"),
    "VClusterEnvironment": (XRD_V2, "v2-xr"),
}

MAX_CORS_ORIGINS = 100

# Limits in the XRD that pydantic enforces in model validators (so they are not in
# its JSON schema) or that only the XRD needs: (path, keyword) -> value.
XRD_ONLY = {
    ("vpc.subnetIds", "maxItems"): MAX_SUBNETS,
    ("vpc.subnetIds", "x-kubernetes-list-type"): "set",
    ("vpc.securityGroupIds", "x-kubernetes-list-type"): "set",
    ("vpc.securityGroups.vpcLink", "x-kubernetes-list-type"): "set",
    ("vpc.securityGroups.loadBalancer", "x-kubernetes-list-type"): "set",
    # The same groups in the function input's CRD.
    ("securityGroups.vpcLink", "x-kubernetes-list-type"): "set",
    ("securityGroups.loadBalancer", "x-kubernetes-list-type"): "set",
    ("ingressGateway.targetSecurityGroupIds", "x-kubernetes-list-type"): "set",
    ("vpcCidrBlocks", "x-kubernetes-list-type"): "set",
    ("include", "maxItems"): len(Include),
    ("include", "x-kubernetes-list-type"): "set",
    ("apiGateway.accessLogs.retentionDays", "enum"): list(LOG_RETENTION_DAYS),
    ("apps", "maxItems"): MAX_ROUTES,
    # XRD only: bound the estimated cost of the CORS CEL rules; spec.py has no limit.
    ("apiGateway.cors.allowOrigins", "maxItems"): MAX_CORS_ORIGINS,
    ("apps[].cors.allowOrigins", "maxItems"): MAX_CORS_ORIGINS,
}
COMPARED = (
    "type",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "maxProperties",
    "enum",
    "x-kubernetes-list-type",
)


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _schema(crd: dict[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


_REF = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
_SELECTOR = {
    "type": "object",
    "required": ["matchLabels"],
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _resource_refs(*, namespaced: bool) -> dict[str, Any]:
    fields = ["apiVersion", "kind", "name"] + ([] if namespaced else ["namespace"])
    return {
        "type": "array",
        "x-kubernetes-list-type": "atomic",
        "items": {
            "type": "object",
            "required": ["apiVersion", "kind"],
            "properties": {f: {"type": "string"} for f in fields},
        },
    }


def _crossplane_spec_fields(shape: str) -> dict[str, Any]:
    """The spec fields Crossplane injects into the generated CRD.

    Copied from crossplane/crossplane internal/xcrd/schemas.go (v2.x):
    CompositeResourceClaimSpecProps and CompositeResourceSpecProps per scope.
    """
    common = {
        "compositionRef": _REF,
        "compositionSelector": _SELECTOR,
        "compositionRevisionRef": _REF,
        "compositionRevisionSelector": _SELECTOR,
        "compositionUpdatePolicy": {"type": "string", "enum": ["Automatic", "Manual"]},
    }
    if shape == "claim":
        return {
            **common,
            "compositeDeletePolicy": {"type": "string", "enum": ["Background", "Foreground"]},
            "resourceRef": {
                "type": "object",
                "required": ["apiVersion", "kind", "name"],
                "properties": {f: {"type": "string"} for f in ("apiVersion", "kind", "name")},
            },
            "writeConnectionSecretToRef": _REF,
        }
    if shape == "legacy-xr":
        keys = ("apiVersion", "kind", "namespace", "name")
        return {
            **common,
            "resourceRefs": _resource_refs(namespaced=False),
            "claimRef": {
                "type": "object",
                "required": list(keys),
                "properties": {f: {"type": "string"} for f in keys},
            },
            "writeConnectionSecretToRef": {
                "type": "object",
                "required": ["name", "namespace"],
                "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}},
            },
        }
    return {
        "crossplane": {
            "type": "object",
            "properties": {**common, "resourceRefs": _resource_refs(namespaced=True)},
        },
    }


def _generated_schema(xrd_path: Path, shape: str) -> dict[str, Any]:
    """The XRD's schema as Crossplane serves it: our spec plus Crossplane's own fields."""
    schema = copy.deepcopy(_schema(_load(xrd_path)))
    schema["required"] = ["spec"]
    schema["properties"]["spec"]["properties"].update(_crossplane_spec_fields(shape))
    return schema


def _spec_only(xrd_path: Path) -> dict[str, Any]:
    """Just the XRD's own spec property, for checking a bare spec."""
    spec = _schema(_load(xrd_path))["properties"]["spec"]
    return {"type": "object", "required": ["spec"], "properties": {"spec": spec}}


def _walk(node: dict[str, Any], path: str = ""):  # noqa: ANN202
    """Yield (path, node) for every schema node, depth first."""
    yield path, node
    for key, child in (node.get("properties") or {}).items():
        yield from _walk(child, f"{path}.{key}" if path else key)
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}{{}}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")


def _apply_defaults(value: Any, node: dict[str, Any]) -> Any:
    """Structural defaulting as the API server does it, defaults of defaults included."""
    if isinstance(value, dict):
        properties = node.get("properties") or {}
        for key, child in properties.items():
            if key not in value and "default" in child:
                value[key] = copy.deepcopy(child["default"])
        for key, item in value.items():
            child = properties.get(key, node.get("additionalProperties"))
            if isinstance(child, dict):
                _apply_defaults(item, child)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for item in value:
            _apply_defaults(item, node["items"])
    return value


def _same(left: Any, right: Any) -> bool:
    """JSON equality: 50 == 50.0, but True != 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return float(left) == float(right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return type(left) is type(right) and left == right


def _deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


# --------------------------------------------------------------------------- #
# The XRD and input CRD files themselves
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("path", "api_version", "kind", "plural", "composition", "claim"),
    [
        # The legacy XRD offers the claim that the original design document applies.
        pytest.param(
            XRD_LEGACY,
            "apiextensions.crossplane.io/v1",
            "XVClusterEnvironment",
            "xvclusterenvironments",
            "vclusterenvironments-legacy",
            ("VClusterEnvironmentClaim", "vclusterenvironmentclaims"),
            id="legacy",
        ),
        # The v2 XRD is namespaced, has no claim and a different kind so both can coexist.
        pytest.param(
            XRD_V2,
            "apiextensions.crossplane.io/v2",
            "VClusterEnvironment",
            "vclusterenvironments",
            "vclusterenvironments-v2",
            None,
            id="v2",
        ),
    ],
)
def test_xrd_identity(  # noqa: PLR0917 - one column per table field
    path: Path,
    api_version: str,
    kind: str,
    plural: str,
    composition: str,
    claim: tuple[str, str] | None,
) -> None:
    xrd = _load(path)
    spec = xrd["spec"]
    assert xrd["apiVersion"] == api_version
    assert xrd["metadata"]["name"] == f"{plural}.{GROUP}"
    assert spec["group"] == GROUP
    assert spec["names"] == {"kind": kind, "plural": plural}
    assert spec["defaultCompositionRef"] == {"name": composition}
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["referenceable"]) == (VERSION, True, True)
    if claim is None:
        assert spec["scope"] == "Namespaced"
        assert "claimNames" not in spec
        assert "connectionSecretKeys" not in spec
    else:
        assert spec.get("scope", "LegacyCluster") == "LegacyCluster"
        assert spec["claimNames"] == {"kind": claim[0], "plural": claim[1]}
        assert spec["connectionSecretKeys"] == ["endpoint"]


def test_xrd_spec_and_status_schemas_are_identical() -> None:
    legacy = _schema(_load(XRD_LEGACY))
    modern = _schema(_load(XRD_V2))
    assert legacy == modern
    legacy_version = _load(XRD_LEGACY)["spec"]["versions"][0]
    modern_version = _load(XRD_V2)["spec"]["versions"][0]
    assert legacy_version["additionalPrinterColumns"] == modern_version["additionalPrinterColumns"]


@pytest.mark.parametrize(
    "path",
    [
        # Printer columns of the legacy XR and claim (Crossplane copies them to the claim).
        pytest.param(XRD_LEGACY, id="legacy"),
        # Printer columns of the v2 XR.
        pytest.param(XRD_V2, id="v2"),
    ],
)
def test_printer_columns_point_at_status_fields(path: Path) -> None:
    version = _load(path)["spec"]["versions"][0]
    fields = dict(_walk(version["schema"]["openAPIV3Schema"]))
    columns = version["additionalPrinterColumns"]
    assert [c["jsonPath"] for c in columns] == [".status.ready", ".status.apiGateway.endpoint"]
    for column in columns:
        node = fields[column["jsonPath"].removeprefix(".")]
        assert node["type"] == column["type"]
        # Crossplane appends its own READY column (the Ready condition): do not clash.
        assert column["name"] not in {"SYNCED", "READY", "COMPOSITION", "AGE"}


def _structural_problems(schema: dict[str, Any], *, xrd: bool) -> list[str]:
    problems = []
    for path, node in _walk(schema):
        if path == "metadata":
            continue  # the API server owns ObjectMeta; `type: object` is all it allows
        if "type" not in node and not node.get("x-kubernetes-int-or-string"):
            problems.append(f"{path}: no type")
        if node.get("type") == "object" and not (
            "properties" in node
            or "additionalProperties" in node
            or node.get("x-kubernetes-preserve-unknown-fields")
        ):
            problems.append(f"{path}: object without properties or additionalProperties")
        if "properties" in node and "additionalProperties" in node:
            problems.append(f"{path}: both properties and additionalProperties")
        if node.get("type") == "array" and "items" not in node:
            problems.append(f"{path}: array without items")
        missing = set(node.get("required") or ()) - set(node.get("properties") or {})
        if missing:
            problems.append(f"{path}: required but undefined: {sorted(missing)}")
        if path and not node.get("description") and not path.endswith(("[]", "{}")):
            problems.append(f"{path}: no description")
        if xrd and node.get("x-kubernetes-preserve-unknown-fields"):
            problems.append(f"{path}: preserves unknown fields (misspelt fields must be pruned)")
    return problems


@pytest.mark.parametrize(
    ("path", "xrd"),
    [
        # The claim/XR schema: structural, described, and no field preserves unknown keys.
        pytest.param(XRD_LEGACY, True, id="xrd-schema"),
        # The input CRD must be structural too, or `crossplane beta validate` rejects it.
        pytest.param(INPUT_CRD, False, id="input-crd"),
    ],
)
def test_schema_is_structural_and_described(path: Path, *, xrd: bool) -> None:
    document = _load(path)
    schema = document["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _structural_problems(schema, xrd=xrd) == []


def test_input_crd_identity() -> None:
    crd = _load(INPUT_CRD)
    group = "vclusterenvironment.fn.platform.example.org"
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"inputs.{group}"
    assert crd["spec"]["group"] == group
    assert crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"]["kind"] == "Input"
    assert crd["spec"]["names"]["plural"] == "inputs"
    (version,) = crd["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1beta1", True, True)
    assert FunctionInput().api_version == f"{group}/v1beta1"


@pytest.mark.parametrize(
    "path",
    [
        # XRD patterns run in the API server's Go (RE2) engine: no lookarounds, no backrefs.
        pytest.param(XRD_LEGACY, id="xrd"),
        # Same for the input CRD, used by `crossplane beta validate`.
        pytest.param(INPUT_CRD, id="input-crd"),
    ],
)
def test_patterns_are_re2(path: Path) -> None:
    schema = _load(path)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for where, node in _walk(schema):
        if "pattern" in node:
            try:
                re2.compile(node["pattern"])
            except re2.error as error:  # pragma: no cover - reports the failing field
                pytest.fail(f"{where}: pattern {node['pattern']!r} is not RE2: {error}")


@pytest.mark.parametrize(
    "path",
    [
        # The API server rejects an XRD whose defaults do not validate against their field.
        pytest.param(XRD_LEGACY, id="xrd"),
        # Input defaults document the function's own defaults and must be valid too.
        pytest.param(INPUT_CRD, id="input-crd"),
    ],
)
def test_defaults_are_valid(path: Path) -> None:
    schema = _load(path)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    problems = []
    for where, node in _walk(schema):
        if "default" in node:
            wrapper = {"type": "object", "properties": {"value": node}}
            errors = crdcheck.validate_schema({"value": node["default"]}, wrapper)
            problems.extend(f"{where}: {error}" for error in errors)
    assert problems == []


# --------------------------------------------------------------------------- #
# Example claims and XRs
# --------------------------------------------------------------------------- #


def _example_documents() -> list[Any]:
    params = []
    for path in sorted([*EXAMPLES.rglob("*.yaml"), *EXAMPLES.rglob("*.yml")]):
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        for index, document in enumerate(documents):
            if isinstance(document, dict) and document.get("kind") in KINDS:
                name = path.relative_to(EXAMPLES).as_posix()
                label = name if len(documents) == 1 else f"{name}#{index}"
                params.append(pytest.param(document, id=label))
    return params


@pytest.mark.parametrize("document", _example_documents())
def test_example_is_valid_for_its_xrd(document: dict[str, Any]) -> None:
    """Each example is admitted by the CRD Crossplane generates from its XRD."""
    xrd_path, shape = KINDS[document["kind"]]
    assert document["apiVersion"] == API_VERSION
    assert crdcheck.validate_schema(document, _generated_schema(xrd_path, shape)) == []
    # What the XRD admits, the function accepts too (claim-only fields never reach it).
    own = {k: v for k, v in document["spec"].items() if k not in _crossplane_spec_fields(shape)}
    parse_spec(own)


def _composition_inputs() -> list[Any]:
    params = []
    for path in sorted(COMPOSITIONS.glob("*.yaml")):
        found = documents.input_from(documents.load_documents(path))
        if found is not None:
            params.append(pytest.param(found, id=path.name))
    return params


@pytest.mark.parametrize("function_input", _composition_inputs())
def test_composition_input_is_valid_for_input_crd(function_input: dict[str, Any]) -> None:
    """The input each Composition gives the function is what the input CRD documents."""
    assert crdcheck.validate_schema(function_input, _schema(_load(INPUT_CRD))) == []
    parse_input(function_input)


# --------------------------------------------------------------------------- #
# Claims the XRD must reject, and claims it must accept
# --------------------------------------------------------------------------- #

BASE_SPEC: dict[str, Any] = {
    "name": "prod-env",
    "domain": "api.mycompany.com",
    "vpc": {
        "subnetIds": ["subnet-0a12b34c56d78e90f", "subnet-0f98e76d54c32b10a"],
        "securityGroupIds": ["sg-0c1d2e3f4a5b60710"],
    },
    "include": ["grafana", "prometheus", "apiGatewaySupport"],
}
XRDS = [pytest.param(XRD_LEGACY, id="legacy"), pytest.param(XRD_V2, id="v2")]


def _dest(service: str, weight: int) -> dict[str, Any]:
    return {"service": service, "weight": weight}


@pytest.mark.parametrize("xrd_path", XRDS)
@pytest.mark.parametrize(
    ("patch", "where", "message"),
    [
        # AWS subnet ids start with subnet-; a bare id is a typo the provider would reject late.
        pytest.param(
            {"vpc": {"subnetIds": ["12345abcde"]}},
            "spec.vpc.subnetIds[0]",
            "does not match pattern '^subnet-",
            id="subnet-without-prefix",
        ),
        # The seed document's placeholder is not an AWS id: 8 or 17 lower-case hex digits
        # (FIELD-NOTES, AWS id formats); the VPC link would fail minutes later in AWS.
        pytest.param(
            {"vpc": {"subnetIds": ["subnet-67890fghij"]}},
            "spec.vpc.subnetIds[0]",
            "does not match pattern '^subnet-",
            id="subnet-placeholder",
        ),
        # sg-api-gateway-access is a group name; AWS refuses names where ids are required
        # (FIELD-NOTES, AWS id formats).
        pytest.param(
            {"vpc": {"securityGroupIds": ["sg-api-gateway-access"]}},
            "spec.vpc.securityGroupIds[0]",
            "does not match pattern '^sg-",
            id="security-group-name",
        ),
        # A VPC link takes at most 10 subnets.
        pytest.param(
            {"vpc": {"subnetIds": [f"subnet-{i:08x}" for i in range(11)]}},
            "spec.vpc.subnetIds",
            "more than maxItems 10",
            id="eleven-subnets",
        ),
        # Only grafana, prometheus and apiGatewaySupport exist.
        pytest.param(
            {"include": ["grafana", "loki"]},
            "spec.include[1]",
            'unsupported value "loki"',
            id="unknown-include",
        ),
        # include is a set: a part cannot be asked for twice.
        pytest.param(
            {"include": ["grafana", "grafana"]},
            "spec.include[1]",
            "duplicate set entry",
            id="duplicate-include",
        ),
        # Browsers refuse credentials with a wildcard origin; AWS rejects the combination.
        pytest.param(
            {"apiGateway": {"cors": {"allowOrigins": ["*"], "allowCredentials": True}}},
            "spec.apiGateway.cors.allowOrigins",
            "'*' cannot be combined with allowCredentials: true",
            id="credentials-with-wildcard-origin",
        ),
        # Two apps on one prefix would make one of them unreachable.
        pytest.param(
            {
                "apps": [
                    {"name": "web", "service": "web", "pathPrefix": "/app"},
                    {"name": "api", "service": "api", "pathPrefix": "/app"},
                ],
            },
            "spec.apps",
            "each pathPrefix must be unique",
            id="duplicate-app-path",
        ),
        # Two apps given no prefix both default to '/'.
        pytest.param(
            {"apps": [{"name": "web", "service": "web"}, {"name": "api", "service": "api"}]},
            "spec.apps",
            "each pathPrefix must be unique",
            id="duplicate-default-app-path",
        ),
        # The unique-prefix rule compares every pair of apps; Kubernetes 1.35's CEL cost budget
        # allows that only for prefixes of at most 128 characters (tests/realtools proves it).
        pytest.param(
            {"apps": [{"name": "web", "service": "web", "pathPrefix": "/" + "p" * 128}]},
            "spec.apps[0].pathPrefix",
            "longer than maxLength 128",
            id="path-prefix-over-cost-bound",
        ),
        # App names become route names and must be unique.
        pytest.param(
            {
                "apps": [
                    {"name": "web", "service": "web", "pathPrefix": "/a"},
                    {"name": "web", "service": "api", "pathPrefix": "/b"},
                ],
            },
            "spec.apps",
            "each name must be unique",
            id="duplicate-app-name",
        ),
        # 30 s is the HTTP API integration timeout maximum and cannot be raised.
        pytest.param(
            {"apiGateway": {"integrationTimeoutMs": 30001}},
            "spec.apiGateway.integrationTimeoutMs",
            "greater than maximum 30000",
            id="timeout-30001",
        ),
        # AWS's minimum integration timeout is 50 ms.
        pytest.param(
            {"apiGateway": {"integrationTimeoutMs": 49}},
            "spec.apiGateway.integrationTimeoutMs",
            "less than minimum 50",
            id="timeout-49",
        ),
        # CloudWatch Logs accepts only a fixed list of retention periods.
        pytest.param(
            {"apiGateway": {"accessLogs": {"enabled": True, "retentionDays": 45}}},
            "spec.apiGateway.accessLogs.retentionDays",
            "unsupported value 45",
            id="retention-not-accepted-by-cloudwatch",
        ),
        # A listener ARN ends in the load balancer's and the listener's 16 hex digits.
        pytest.param(
            {
                "apiGateway": {
                    "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                    "listener/net/my-nlb/anything",
                },
            },
            "spec.apiGateway.listenerArn",
            "does not match pattern",
            id="listener-id-not-hex",
        ),
        # A CORS origin is scheme://host[:port], never a URL with a path.
        pytest.param(
            {"apiGateway": {"cors": {"allowOrigins": ["https://app.example.com/login"]}}},
            "spec.apiGateway.cors.allowOrigins[0]",
            "does not match pattern",
            id="origin-with-path",
        ),
        # The name becomes Kubernetes and AWS names: lowercase DNS label only.
        pytest.param({"name": "Prod_Env"}, "spec.name", "does not match pattern", id="bad-name"),
        # A misspelt field must not vanish silently (the API server prunes it; we report it).
        pytest.param(
            {"vpc": {"subnetIDs": ["subnet-1"]}},
            "spec.vpc.subnetIDs",
            "unknown field",
            id="misspelt-field",
        ),
        # A canary split has exactly two destinations.
        pytest.param(
            {"apps": [{"name": "web", "service": "web", "destinations": [_dest("a", 100)]}]},
            "spec.apps[0].destinations",
            "exactly two destinations",
            id="canary-one-destination",
        ),
        # Canary weights are percentages of all requests.
        pytest.param(
            {
                "apps": [
                    {
                        "name": "web",
                        "service": "web",
                        "destinations": [_dest("a", 50), _dest("b", 40)],
                    },
                ],
            },
            "spec.apps[0].destinations",
            "weights must add up to 100",
            id="canary-weights-not-100",
        ),
        # JWT auth on an app needs the API's JWT authorizer.
        pytest.param(
            {"apps": [{"name": "api", "service": "api", "auth": {"scopes": ["read"]}}]},
            "spec.apiGateway.jwt",
            "no JWT authorizer is configured",
            id="jwt-auth-without-authorizer",
        ),
        # Scopes mean nothing without a JWT.
        pytest.param(
            {
                "apps": [
                    {"name": "api", "service": "api", "auth": {"type": "NONE", "scopes": ["x"]}}
                ]
            },
            "spec.apps[0].auth.scopes",
            "scopes need type JWT",
            id="scopes-without-jwt",
        ),
        # An authorizer without audiences accepts no token.
        pytest.param(
            {"apiGateway": {"jwt": {"issuer": "https://idp.example.com"}}},
            "spec.apiGateway.jwt.audiences",
            "Required value",
            id="jwt-without-audiences",
        ),
        # Istio and Envoy take durations like 10s, not prose.
        pytest.param(
            {"apps": [{"name": "web", "service": "web", "timeout": "10 seconds"}]},
            "spec.apps[0].timeout",
            "does not match pattern",
            id="bad-duration",
        ),
        # Only Istio and the Gateway API are supported ingress modes.
        pytest.param(
            {"ingressMode": "nginx"},
            "spec.ingressMode",
            'unsupported value "nginx"',
            id="ingress-mode",
        ),
    ],
)
def test_bad_claim_is_rejected(
    xrd_path: Path, patch: dict[str, Any], where: str, message: str
) -> None:
    spec = _deep_merge(BASE_SPEC, patch)
    errors = crdcheck.validate_schema({"spec": spec}, _spec_only(xrd_path))
    assert any(e.startswith(f"{where}:") and message in e for e in errors), errors
    # The function rejects it too, so the XRD is never the only line of defence.
    with pytest.raises(ValidationError):
        parse_spec(spec)


def _apps_without_pairwise_rules() -> dict[str, Any]:
    """The apps schema without its pairwise uniqueness rules.

    cel-python needs minutes for O(n^2) rules over hundreds of apps; the other rules
    and every keyword still apply.
    """
    apps = copy.deepcopy(_schema(_load(XRD_LEGACY))["properties"]["spec"]["properties"]["apps"])
    apps["x-kubernetes-validations"] = [
        rule for rule in apps["x-kubernetes-validations"] if "exists_one" not in rule["rule"]
    ]
    return {"type": "object", "properties": {"apps": apps}}


def _many_apps(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"name": f"app{i}", "service": "web", "pathPrefix": f"/p{i}", **extra} for i in range(count)
    ]


@pytest.mark.parametrize(
    ("apps", "message"),
    [
        # An HTTP API allows at most 300 routes, so at most 300 apps.
        pytest.param(_many_apps(301), "more than maxItems 300", id="301-apps"),
        pytest.param(_many_apps(300), None, id="300-apps"),
        # Each app with its own throttling or auth takes two routes, plus two catch-alls.
        pytest.param(
            _many_apps(150, throttling={}),
            "at most 149 apps may set auth or throttling",
            id="150-throttled",
        ),
        pytest.param(_many_apps(149, throttling={}), None, id="149-throttled"),
    ],
)
def test_route_quota(apps: list[dict[str, Any]], message: str | None) -> None:
    errors = crdcheck.validate_schema({"apps": apps}, _apps_without_pairwise_rules())
    spec = {"name": "quota", "apps": apps}
    if message is None:
        assert errors == []
        parse_spec(spec)
    else:
        assert any(e.startswith("apps:") and message in e for e in errors), errors
        with pytest.raises(ValidationError):
            parse_spec(spec)


def test_missing_name_is_rejected() -> None:
    """spec.name is required: it names every composed resource."""
    spec = {k: v for k, v in BASE_SPEC.items() if k != "name"}
    errors = crdcheck.validate_schema({"spec": spec}, _spec_only(XRD_LEGACY))
    assert errors == ["spec.name: Required value"]


@pytest.mark.parametrize("xrd_path", XRDS)
@pytest.mark.parametrize(
    "patch",
    [
        # The seed claim as it is.
        pytest.param({}, id="seed"),
        # Only the name is required.
        pytest.param({"vpc": {}, "include": [], "domain": None}, id="minimal"),
        # Bring-your-own listener and VPC link: no subnets needed.
        pytest.param(
            {
                "vpc": {"subnetIds": []},
                "apiGateway": {
                    "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                    "listener/net/shared-nlb/50dc6c495c0c9188/f2f7dc8efc522ab2",
                    "vpcLinkId": "abc123",
                },
            },
            id="byo-listener-and-vpc-link",
        ),
        # No subnets and nothing shared by the claim: the platform may still share a listener
        # and a VPC link through the function input, which the XRD cannot see; the function
        # decides (it returns a Fatal result if neither provides them).
        pytest.param({"vpc": {"subnetIds": []}}, id="no-subnets-left-to-function"),
        # A wildcard origin is allowed without credentials; explicit ones with credentials.
        pytest.param({"apiGateway": {"cors": {"allowOrigins": ["*"]}}}, id="wildcard-origin"),
        pytest.param(
            {
                "apiGateway": {
                    "cors": {
                        "allowOrigins": ["https://app.example.com", "http://localhost:3000"],
                        "allowCredentials": True,
                    },
                },
            },
            id="credentials-with-explicit-origins",
        ),
        # One prefix may serve different hosts.
        pytest.param(
            {
                "apps": [
                    {"name": "a", "service": "a", "hosts": ["a.example.com"], "pathPrefix": "/x"},
                    {"name": "b", "service": "b", "hosts": ["b.example.com"], "pathPrefix": "/x"},
                ],
            },
            id="same-path-other-host",
        ),
        # Every option at once, at its limits.
        pytest.param(
            {
                "region": "us-gov-west-1",
                "vpc": {
                    "vpcId": "vpc-0123456789abcdef0",
                    "subnetIds": [f"subnet-{i:08x}" for i in range(10)],
                },
                "apiGateway": {
                    "stageName": "prod",
                    "throttling": {"burstLimit": 5000, "rateLimit": 0.5},
                    "integrationTimeoutMs": 30000,
                    "accessLogs": {"enabled": True, "retentionDays": 3653},
                    "jwt": {"issuer": "https://idp.example.com/realms/a", "audiences": ["api"]},
                    "customDomain": False,
                },
                "apps": [
                    {"name": "web", "service": "web"},
                    {"name": "api", "service": "api", "pathPrefix": "/api", "port": 8080},
                    {"name": "v2", "service": "api", "namespace": "v2", "pathPrefix": "/api/v2"},
                    {
                        "name": "shop",
                        "service": "shop",
                        "hosts": ["shop.example.com"],
                        "destinations": [_dest("shop", 90), _dest("shop-canary", 10)],
                        "headerCanary": {"header": "x-api-version", "value": "2", "service": "v2"},
                        "retries": {"attempts": 3, "perTryTimeout": "500ms"},
                        "timeout": "10s",
                        "rewrite": "/",
                        "cors": {"allowOrigins": ["https://shop.example.com"]},
                        "circuitBreaker": {"consecutive5xxErrors": 3},
                        "auth": {"scopes": ["shop:read"]},
                        "throttling": {"burstLimit": 10, "rateLimit": 5},
                    },
                ],
                "dns": {"hostedZoneId": "Z0123456789ABCDEFGHIJ"},
                "ingressMode": "gatewayAPI",
            },
            id="everything",
        ),
    ],
)
def test_good_claim_is_accepted(xrd_path: Path, patch: dict[str, Any]) -> None:
    spec = {k: v for k, v in _deep_merge(BASE_SPEC, patch).items() if v is not None}
    assert crdcheck.validate_schema({"spec": spec}, _spec_only(xrd_path)) == []
    parse_spec(spec)


@pytest.mark.parametrize(
    "patch",
    [
        # The same prefix on the same hosts is ambiguous; comparing host lists for every
        # pair of 300 apps would exceed the API server's CEL cost limit, so only the
        # function catches it.
        pytest.param(
            {
                "apps": [
                    {"name": "a", "service": "a", "hosts": ["a.example.com"], "pathPrefix": "/x"},
                    {"name": "b", "service": "b", "hosts": ["a.example.com"], "pathPrefix": "/x"},
                ],
            },
            id="duplicate-host-and-path",
        ),
    ],
)
def test_rules_only_the_function_checks(patch: dict[str, Any]) -> None:
    spec = _deep_merge(BASE_SPEC, patch)
    assert crdcheck.validate_schema({"spec": spec}, _spec_only(XRD_LEGACY)) == []
    with pytest.raises(ValidationError):
        parse_spec(spec)


def test_name_is_immutable() -> None:
    """The name is baked into every composed resource's name; a rename would orphan them."""
    name = _schema(_load(XRD_LEGACY))["properties"]["spec"]["properties"]["name"]
    (rule,) = name["x-kubernetes-validations"]
    assert rule["rule"] == "self == oldSelf"
    environment = celpy.Environment()
    program = environment.program(environment.compile(rule["rule"]))

    def holds(old: str, new: str) -> bool:
        activation = {"self": celtypes.StringType(new), "oldSelf": celtypes.StringType(old)}
        return bool(program.evaluate(activation))

    assert holds("prod-env", "prod-env")
    assert not holds("prod-env", "staging-env")


# --------------------------------------------------------------------------- #
# Drift between function/model/spec.py, function/model/platform.py and the schemas
# --------------------------------------------------------------------------- #


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Follow $ref and unwrap `X | None`; return the node and whether it was optional."""
    optional = False
    if "anyOf" in node:
        branches = [b for b in node["anyOf"] if b.get("type") != "null"]
        optional = len(branches) < len(node["anyOf"])
        assert len(branches) == 1, node
        node = {**node, **branches[0]}
        node.pop("anyOf")
    if "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[1]], **node}
        node.pop("$ref")
    if "const" in node:
        node["enum"] = [node.pop("const")]
    return node, optional


def _keyword_problems(py: dict[str, Any], k8s: dict[str, Any], path: str) -> list[str]:
    problems = []
    where = path or "<root>"
    for key in COMPARED:
        expected = py.get(key, XRD_ONLY.get((path, key)))
        if expected is None and key in k8s:
            problems.append(f"{where}: {key} {k8s[key]!r} only in the schema")
        elif expected is not None and not _same(k8s.get(key), expected):
            problems.append(f"{where}: {key} is {k8s.get(key)!r}, spec.py says {expected!r}")
    if "default" in py:
        if py["default"] is None and "default" in k8s:
            problems.append(f"{where}: default {k8s['default']!r}, spec.py has none")
        elif py["default"] is not None and not _same(k8s.get("default"), py["default"]):
            problems.append(f"{where}: default {k8s.get('default')!r}, spec.py {py['default']!r}")
    return problems


def _field_problems(py: dict[str, Any], k8s: dict[str, Any], path: str) -> list[str]:
    where = path or "<root>"
    py_props, k8s_props = py.get("properties") or {}, k8s.get("properties") or {}
    problems = [
        f"{where}: field {name!r} missing from the schema"
        for name in sorted(py_props.keys() - k8s_props.keys())
    ]
    problems.extend(
        f"{where}: field {name!r} not in spec.py"
        for name in sorted(k8s_props.keys() - py_props.keys())
    )
    if set(py.get("required") or ()) != set(k8s.get("required") or ()):
        problems.append(f"{where}: required {k8s.get('required')} != {py.get('required')}")
    return problems


def _drift(py: dict[str, Any], k8s: dict[str, Any], defs: dict[str, Any], path: str) -> list[str]:
    """Every difference between a pydantic JSON schema node and a CRD schema node."""
    py, optional = _resolve(py, defs)
    problems = _keyword_problems(py, k8s, path)
    if optional and "default" in k8s:
        problems.append(f"{path}: optional in spec.py but defaulted in the schema")
    children: list[tuple[Any, Any, str]] = []
    if py.get("type") == "object":
        problems.extend(_field_problems(py, k8s, path))
        py_props, k8s_props = py.get("properties") or {}, k8s.get("properties") or {}
        children.extend(
            (py_props[name], k8s_props[name], f"{path}.{name}" if path else name)
            for name in sorted(py_props.keys() & k8s_props.keys())
        )
        # A map's values: pydantic puts them under its keys' pattern when the keys have one.
        values = [py.get("additionalProperties"), *(py.get("patternProperties") or {}).values()]
        children.extend(
            (value, k8s.get("additionalProperties") or {}, f"{path}{{}}")
            for value in values
            if isinstance(value, dict)
        )
    if py.get("type") == "array":
        children.append((py["items"], k8s.get("items") or {}, f"{path}[]"))
    for py_child, k8s_child, child_path in children:
        problems.extend(_drift(py_child, k8s_child, defs, child_path))
    return problems


def _input_schema() -> dict[str, Any]:
    schema = copy.deepcopy(_schema(_load(INPUT_CRD)))
    for key in ("apiVersion", "kind", "metadata"):
        schema["properties"].pop(key)
    return schema


def _model_schema(model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    for key in ("apiVersion", "kind", "metadata"):
        (schema.get("properties") or {}).pop(key, None)
    return schema, schema.get("$defs", {})


@pytest.mark.parametrize(
    ("model", "schema"),
    [
        # The claim/XR spec: every field, type, pattern, bound, enum and default of spec.py.
        pytest.param(
            EnvironmentSpec,
            lambda: _schema(_load(XRD_LEGACY))["properties"]["spec"],
            id="spec-vs-legacy-xrd",
        ),
        pytest.param(
            EnvironmentSpec,
            lambda: _schema(_load(XRD_V2))["properties"]["spec"],
            id="spec-vs-v2-xrd",
        ),
        # The function input: top-level fields (apiVersion, kind and metadata aside).
        pytest.param(FunctionInput, _input_schema, id="input-vs-input-crd"),
    ],
)
def test_no_drift_between_models_and_schemas(model: type[BaseModel], schema: Any) -> None:
    py, defs = _model_schema(model)
    assert _drift(py, schema(), defs, "") == []


@pytest.mark.parametrize(
    ("model", "schema", "probe"),
    [
        # Every default_factory of spec.py equals what API-server defaulting produces.
        pytest.param(
            EnvironmentSpec,
            lambda: _schema(_load(XRD_LEGACY))["properties"]["spec"],
            {"name": "x"},
            id="spec-name-only",
        ),
        # Nested defaults inside optional objects and list items.
        pytest.param(
            EnvironmentSpec,
            lambda: _schema(_load(XRD_LEGACY))["properties"]["spec"],
            {
                "name": "x",
                "apiGateway": {"throttling": {}, "cors": {"allowOrigins": ["*"]}},
                "apps": [{"name": "a", "service": "s"}],
            },
            id="spec-nested",
        ),
        # An empty function input means every platform default.
        pytest.param(FunctionInput, _input_schema, {}, id="input-empty"),
        # Partially given objects keep the other defaults.
        pytest.param(
            FunctionInput,
            _input_schema,
            {"charts": {}, "ingressGateway": {"namespace": "gw"}, "providerConfigs": {"aws": "a"}},
            id="input-partial",
        ),
    ],
)
def test_defaults_agree(model: type[BaseModel], schema: Any, probe: dict[str, Any]) -> None:
    expected = model.model_validate(probe).model_dump(by_alias=True, mode="json", exclude_none=True)
    for key in ("apiVersion", "kind", "metadata"):
        expected.pop(key, None)
    defaulted = _apply_defaults(copy.deepcopy(probe), schema())
    assert _same(defaulted, expected), (defaulted, expected)
