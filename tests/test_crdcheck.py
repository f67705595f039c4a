# ruff: noqa: CPY001, RUF100
# (CPY001 fires under `--select ALL`; the project config ignores it, hence RUF100 too.)
"""Tests for the offline CRD validator in ``tests/crdcheck.py``.

Each case names the real problem it proves the validator catches (or the
valid shape it must accept) against the shared upstream CRD snapshot.
"""

from __future__ import annotations

import copy
from typing import Any

import crdcheck
import pytest

Manifest = dict[str, Any]

# --------------------------------------------------------------------------- #
# Manifest builders (fresh dicts each call, so cases never share state)
# --------------------------------------------------------------------------- #


def _integration(version: str = "v1beta2", **for_provider: Any) -> Manifest:
    return {
        "apiVersion": f"apigatewayv2.aws.upbound.io/{version}",
        "kind": "Integration",
        "metadata": {"name": "env-checkout", "labels": {"app.kubernetes.io/part-of": "env"}},
        "spec": {
            "forProvider": {
                "region": "us-east-1",
                "apiIdRef": {"name": "env-api"},
                "integrationType": "HTTP_PROXY",
                "integrationMethod": "ANY",
                "connectionType": "VPC_LINK",
                "integrationUri": "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/y/z",
                "payloadFormatVersion": "1.0",
                "timeoutMilliseconds": 30000,
                **for_provider,
            },
        },
    }


def _namespaced_api(**for_provider: Any) -> Manifest:
    return {
        "apiVersion": "apigatewayv2.aws.m.upbound.io/v1beta1",
        "kind": "API",
        "metadata": {"name": "env-api", "namespace": "team-payments"},
        "spec": {
            "forProvider": {"region": "eu-west-1", "name": "env", "protocolType": "HTTP"}
            | for_provider,
        },
    }


def _listener(**for_provider: Any) -> Manifest:
    return {
        "apiVersion": "elbv2.aws.upbound.io/v1beta2",
        "kind": "LBListener",
        "metadata": {"name": "env-listener"},
        "spec": {
            "forProvider": {
                "region": "us-east-1",
                "loadBalancerArnRef": {"name": "env-nlb"},
                "port": 80,
                "protocol": "TCP",
                "defaultAction": [{"type": "forward", "targetGroupArnRef": {"name": "env-tg"}}],
            }
            | for_provider,
        },
    }


def _object(readiness: dict[str, Any] | None = None, **manifest: Any) -> Manifest:
    spec: dict[str, Any] = {
        "forProvider": {
            "manifest": {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "env-settings", "namespace": "vcluster-env"},
                "data": {"anything": "goes"},
                "notInAnySchema": {"nested": [1, "two", {"three": 3.0}]},
            }
            | manifest,
        },
    }
    if readiness is not None:
        spec["readiness"] = readiness
    return {
        "apiVersion": "kubernetes.crossplane.io/v1alpha2",
        "kind": "Object",
        "metadata": {"name": "env-settings"},
        "spec": spec,
    }


def _http_route(**rule: Any) -> Manifest:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "checkout", "namespace": "payments"},
        "spec": {
            "parentRefs": [{"name": "env-gateway", "namespace": "istio-ingress"}],
            "hostnames": ["payments.example.com"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/checkout"}}],
                    "filters": [
                        {
                            "type": "URLRewrite",
                            "urlRewrite": {
                                "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"},
                            },
                        },
                    ],
                    "backendRefs": [{"name": "checkout", "port": 8080}],
                    "timeouts": {"request": "10s", "backendRequest": "5s"},
                }
                | rule,
            ],
        },
    }


def _gateway(*extra_listeners: dict[str, Any]) -> Manifest:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "env-gateway", "namespace": "istio-ingress"},
        "spec": {
            "gatewayClassName": "istio",
            "listeners": [
                {"name": "http", "port": 80, "protocol": "HTTP"},
                {
                    "name": "https",
                    "port": 443,
                    "protocol": "HTTPS",
                    "hostname": "*.example.com",
                    "tls": {"mode": "Terminate", "certificateRefs": [{"name": "wildcard"}]},
                },
                *extra_listeners,
            ],
        },
    }


def _virtual_service(uri: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "checkout", "namespace": "payments"},
        "spec": {
            "hosts": ["payments.example.com"],
            "gateways": ["istio-ingress/env-gateway"],
            "http": [
                {
                    "match": [{"uri": uri}],
                    "route": [
                        {
                            "destination": {
                                "host": "checkout.payments.svc.cluster.local",
                                "port": {"number": 8080},
                            },
                        },
                    ],
                    "timeout": "10s",
                    "retries": {"attempts": 3, "perTryTimeout": "2s"},
                },
            ],
        },
    }


def _target_group_binding(port: Any) -> Manifest:
    return {
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "TargetGroupBinding",
        "metadata": {"name": "ingress", "namespace": "istio-ingress"},
        "spec": {
            "serviceRef": {"name": "istio-ingressgateway", "port": port},
            "targetGroupARN": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/y",
            "targetType": "ip",
        },
    }


def _edit(manifest: Manifest, dotted: str, value: Any = ..., *, drop: bool = False) -> Manifest:
    """Return a copy of ``manifest`` with one dotted path set, or dropped."""
    result = copy.deepcopy(manifest)
    *parents, leaf = dotted.split(".")
    target = result
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if drop:
        del target[leaf]
    else:
        target[leaf] = value
    return result


_RELEASE: Manifest = {
    "apiVersion": "helm.crossplane.io/v1beta1",
    "kind": "Release",
    "metadata": {"name": "env-vcluster"},
    "spec": {
        "forProvider": {
            "chart": {
                "name": "vcluster",
                "repository": "https://charts.loft.sh",
                "version": "0.36.1",
            },
            "namespace": "vcluster-env",
            "values": {"controlPlane": {"distro": {"k8s": {"enabled": True}}}},
        },
    },
}


# --------------------------------------------------------------------------- #
# validate(): (manifest, substrings each expected in some error, reason)
# --------------------------------------------------------------------------- #

VALID = [
    pytest.param(
        _integration(),
        "A complete v1beta2 Integration passes schema and CEL checks.",
        id="integration-v1beta2",
    ),
    pytest.param(
        _edit(
            _edit(_integration(), "spec.managementPolicies", ["Observe"]),
            "spec.forProvider.integrationType",
            drop=True,
        ),
        "The integrationType CEL rule only applies when the resource is created or updated.",
        id="integration-observe-only-needs-no-type",
    ),
    pytest.param(
        _integration("v1beta1", tlsConfig=[{"serverNameToVerify": "api.internal"}]),
        "The deprecated v1beta1 is still served and has its own schema (tlsConfig is a list).",
        id="integration-v1beta1-own-schema",
    ),
    pytest.param(
        _namespaced_api(),
        "A namespaced .m.upbound.io API with a cluster-default providerConfigRef is valid.",
        id="api-namespaced",
    ),
    pytest.param(
        _listener(),
        "An LBListener with a forward defaultAction is valid.",
        id="lblistener",
    ),
    pytest.param(
        _object(),
        "Object.forProvider.manifest preserves unknown fields, so arbitrary content is valid.",
        id="object-arbitrary-manifest",
    ),
    pytest.param(
        _object({"policy": "DeriveFromCelQuery", "celQuery": "object.status.ready == true"}),
        "DeriveFromCelQuery with a celQuery satisfies the readiness CEL rule.",
        id="object-cel-readiness",
    ),
    pytest.param(
        _object({}),
        "readiness.policy defaults to SuccessfulCreate before CEL runs, so {} is valid.",
        id="object-readiness-defaulted",
    ),
    pytest.param(
        _RELEASE,
        "A Helm Release with free-form values (preserve-unknown-fields) is valid.",
        id="helm-release",
    ),
    pytest.param(
        _http_route(),
        "An HTTPRoute with a prefix rewrite on a single PathPrefix match passes its CEL rules.",
        id="httproute",
    ),
    pytest.param(
        _gateway(),
        "A Gateway with unique listeners and a terminated HTTPS listener is valid.",
        id="gateway",
    ),
    pytest.param(
        _virtual_service({"prefix": "/checkout"}),
        "An Istio VirtualService with one URI match type is valid.",
        id="virtualservice",
    ),
    pytest.param(
        _target_group_binding("http2"),
        "serviceRef.port is int-or-string, so a named port is valid.",
        id="targetgroupbinding-named-port",
    ),
]

INVALID = [
    pytest.param(
        _edit(_integration(), "spec.forProvider.integrationType", drop=True),
        ["spec: spec.forProvider.integrationType is a required parameter"],
        "Upjet's CEL rule (over the defaulted managementPolicies) demands integrationType.",
        id="integration-missing-type-cel",
    ),
    pytest.param(
        _integration(timeoutMilliseconds="30000"),
        ['spec.forProvider.timeoutMilliseconds: expected number, got string "30000"'],
        "A quoted number is a type error the API server rejects.",
        id="integration-timeout-as-string",
    ),
    pytest.param(
        _edit(_integration(), "spec.forProvider.region", drop=True),
        ["spec.forProvider.region: Required value"],
        "region is listed in forProvider.required.",
        id="integration-missing-region",
    ),
    pytest.param(
        _integration(tlsConfig=[{"serverNameToVerify": "api.internal"}]),
        ["spec.forProvider.tlsConfig: expected object, got array"],
        "v1beta2 changed tlsConfig from a list to an object; the v1beta1 shape must fail.",
        id="integration-v1beta1-shape-in-v1beta2",
    ),
    pytest.param(
        _integration(region=None),
        ["spec.forProvider.region: null is not allowed"],
        "A null in a non-nullable field would be dropped silently by the API server.",
        id="integration-null-region",
    ),
    pytest.param(
        _edit(_integration(), "spec.deletionPolicy", "Keep"),
        ['spec.deletionPolicy: unsupported value "Keep"'],
        "deletionPolicy is an enum of Orphan and Delete.",
        id="integration-bad-enum",
    ),
    pytest.param(
        _edit(_integration(), "spec.providerConfigRef", {}),
        ["spec.providerConfigRef.name: Required value"],
        "The providerConfigRef default applies only when the field is absent, not when empty.",
        id="integration-empty-providerconfigref",
    ),
    pytest.param(
        _edit(_integration(), "metadata.labels", {"team": 7, "Bad Key": "x"}),
        ["metadata.labels.team: value must be a string", '["Bad Key"]: invalid key name'],
        "Label values must be strings and keys must be qualified names.",
        id="metadata-bad-labels",
    ),
    pytest.param(
        _edit(_integration(), "metadata.name", "Env_Checkout"),
        ["metadata.name: 'Env_Checkout' is not a valid DNS subdomain name"],
        "Custom resource names must be DNS subdomains.",
        id="metadata-bad-name",
    ),
    pytest.param(
        _namespaced_api(protocolTyp="HTTP"),
        ["spec.forProvider.protocolTyp: unknown field 'protocolTyp'"],
        "A misspelt field would be pruned silently; the validator must reject it.",
        id="api-namespaced-misspelt-field",
    ),
    pytest.param(
        _edit(_listener(), "spec.forProvider.defaultAction", drop=True),
        ["spec: spec.forProvider.defaultAction is a required parameter"],
        "A listener without defaultAction fails upjet's CEL rule.",
        id="lblistener-without-default-action",
    ),
    pytest.param(
        _listener(port="80"),
        ['spec.forProvider.port: expected number, got string "80"'],
        "port is a number, not a string.",
        id="lblistener-port-as-string",
    ),
    pytest.param(
        _object({"policy": "DeriveFromCelQuery"}),
        ["spec.readiness: celQuery must be set if policy is DeriveFromCelQuery"],
        "The readiness CEL rule fires when DeriveFromCelQuery has no celQuery.",
        id="object-cel-readiness-without-query",
    ),
    pytest.param(
        _edit(_object(), "spec.forProvider.manifest.kind", drop=True),
        ["spec.forProvider.manifest.kind: Required value"],
        "An embedded resource still needs apiVersion and kind.",
        id="object-embedded-without-kind",
    ),
    pytest.param(
        _edit(_object(), "apiVersion", "kubernetes.crossplane.io/v1"),
        ["apiVersion: kubernetes.crossplane.io/v1 Object is not a served version"],
        "There is no v1 of provider-kubernetes' Object.",
        id="object-unknown-version",
    ),
    pytest.param(
        _edit(
            _object({"policy": "DeriveFromCelQuery", "celQuery": "true"}),
            "apiVersion",
            "kubernetes.crossplane.io/v1alpha1",
        ),
        ['spec.readiness.policy: unsupported value "DeriveFromCelQuery"'],
        "The served-but-deprecated v1alpha1 schema lacks DeriveFromCelQuery.",
        id="object-v1alpha1-own-schema",
    ),
    pytest.param(
        _edit(_integration(), "apiVersion", "apigatewayv2.aws.upbound.io/v1"),
        ["is not a served version (served: v1beta1, v1beta2)"],
        "An apiVersion naming a version the CRD does not serve is rejected.",
        id="integration-unserved-version",
    ),
    pytest.param(
        _edit(_integration(), "kind", "Integrations"),
        ["no CRD defines kind 'Integrations'"],
        "A kind no CRD defines is rejected.",
        id="unknown-kind",
    ),
    pytest.param(
        _edit(_integration(), "apiVersion", drop=True),
        ["apiVersion: Required value"],
        "A manifest without apiVersion cannot be resolved.",
        id="missing-apiversion",
    ),
    pytest.param(
        _edit(_http_route(), "spec.rules.0.filters.0.urlRewrite", drop=True),
        ["spec.rules[0].filters[0]: filter.urlRewrite must be specified for URLRewrite"],
        "HTTPRoute's CEL rule ties filter.type to the matching config field.",
        id="httproute-filter-type-without-config",
    ),
    pytest.param(
        _http_route(matches=[{"path": {"type": "PathPrefix", "value": "checkout"}}]),
        ["spec.rules[0].matches[0].path: value must be an absolute path"],
        "HTTPRoute's CEL rule requires prefix paths to start with '/'.",
        id="httproute-relative-path",
    ),
    pytest.param(
        _http_route(timeouts={"request": "5s", "backendRequest": "10s"}),
        ["spec.rules[0].timeouts: backendRequest timeout cannot be longer than request"],
        "HTTPRoute compares durations in CEL; the backend timeout may not exceed the request's.",
        id="httproute-backend-timeout-too-long",
    ),
    pytest.param(
        _gateway({"name": "http", "port": 8080, "protocol": "HTTP"}),
        ["Listener name must be unique within the Gateway", "duplicate map entry"],
        "Listener names are list-map keys and a CEL rule demands they be unique.",
        id="gateway-duplicate-listener",
    ),
    pytest.param(
        _virtual_service({"prefix": "/checkout", "exact": "/checkout"}),
        ["spec.http[0].match[0].uri: must match exactly one oneOf schema"],
        "Istio's StringMatch oneOf allows only one of exact/prefix/regex.",
        id="virtualservice-two-uri-match-types",
    ),
    pytest.param(
        _target_group_binding(port=True),
        ["spec.serviceRef.port: expected integer or string, got boolean"],
        "x-kubernetes-int-or-string rejects booleans.",
        id="targetgroupbinding-boolean-port",
    ),
]


pytestmark = pytest.mark.usefixtures("crds_present")


def _assert_no_validator_gaps(errors: list[str]) -> None:
    gaps = [e for e in errors if e.startswith(crdcheck.CEL_UNSUPPORTED)]
    assert not gaps, f"validator could not evaluate a rule: {gaps}"


@pytest.mark.parametrize(("manifest", "reason"), VALID)
def test_validate_accepts(manifest: Manifest, reason: str) -> None:
    """Valid manifests produce no errors."""
    errors = crdcheck.validate(manifest)
    assert errors == [], f"{reason}\n{errors}"


@pytest.mark.parametrize(("manifest", "expected", "reason"), INVALID)
def test_validate_rejects(manifest: Manifest, expected: list[str], reason: str) -> None:
    """Each broken manifest yields an error containing every expected fragment."""
    errors = crdcheck.validate(manifest)
    _assert_no_validator_gaps(errors)
    for fragment in expected:
        assert any(fragment in error for error in errors), f"{reason}\n{fragment!r} not in {errors}"


def test_validate_does_not_mutate_input() -> None:
    """Defaulting works on a copy, so callers can reuse their manifests."""
    manifest = _integration()
    before = copy.deepcopy(manifest)
    crdcheck.validate(manifest)
    assert manifest == before


def test_extra_crds_take_precedence() -> None:
    """A CRD passed in extra_crds is used for its group and kind."""
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.org"},
        "spec": {
            "group": "example.org",
            "names": {"kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer", "maximum": 3}},
                                },
                            },
                        },
                    },
                },
            ],
        },
    }
    widget = {"apiVersion": "example.org/v1", "kind": "Widget", "spec": {"size": 4}}
    assert crdcheck.validate(widget, [crd]) == ["spec.size: 4 is greater than maximum 3"]


# --------------------------------------------------------------------------- #
# validate_schema(): an XRD-style raw openAPIV3Schema
# --------------------------------------------------------------------------- #

_XRD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["region"],
            "properties": {
                "region": {"type": "string", "pattern": "^[a-z]{2}-[a-z]+-[0-9]$"},
                "replicas": {"type": "integer", "minimum": 1, "default": 1},
                "tags": {
                    "type": "object",
                    "maxProperties": 2,
                    "additionalProperties": {"type": "string"},
                },
                "apps": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "maxLength": 20},
                            "port": {"type": "integer", "default": 80},
                        },
                        "x-kubernetes-validations": [
                            {
                                "rule": "self.port != 22",
                                "messageExpression": "'app ' + self.name + ' may not use port 22'",
                            },
                        ],
                    },
                },
                "immutable": {
                    "type": "string",
                    "x-kubernetes-validations": [{"rule": "self == oldSelf"}],
                },
            },
            "x-kubernetes-validations": [
                {
                    "rule": "self.replicas <= 3 || self.region.startsWith('us-')",
                    "message": "more than 3 replicas only in us regions",
                },
            ],
        },
    },
}


def _xr(**spec: Any) -> Manifest:
    return {
        "apiVersion": "platform.example.org/v1alpha1",
        "kind": "Environment",
        "metadata": {"name": "staging", "namespace": "team-a"},
        "spec": {"region": "eu-west-1"} | spec,
    }


@pytest.mark.parametrize(
    ("obj", "expected", "reason"),
    [
        pytest.param(
            _xr(apps=[{"name": "web"}], tags={"team": "a"}, immutable="x"),
            [],
            "Defaults (replicas, port) fill in before CEL; transition rules are skipped.",
            id="valid",
        ),
        pytest.param(
            _edit(_xr(), "spec.region", drop=True),
            ["spec.region: Required value"],
            "region is required by the XRD.",
            id="missing-region",
        ),
        pytest.param(
            _xr(region="Europe"),
            ['spec.region: "Europe" does not match pattern'],
            "region must match the XRD pattern.",
            id="bad-pattern",
        ),
        pytest.param(
            _xr(replica=2),
            ["spec.replica: unknown field 'replica'"],
            "An unknown XR field would be pruned silently.",
            id="unknown-field",
        ),
        pytest.param(
            _xr(replicas=5),
            ["spec: more than 3 replicas only in us regions"],
            "The XRD's CEL rule fires outside us regions.",
            id="cel-rule",
        ),
        pytest.param(
            _xr(apps=[{"name": "web", "port": 22}]),
            ["spec.apps[0]: app web may not use port 22"],
            "messageExpression is evaluated for the error text.",
            id="cel-message-expression",
        ),
        pytest.param(
            _xr(apps=[{"name": "web"}, {"name": "web", "port": 81}]),
            ["spec.apps[1]: duplicate map entry (same as [0])"],
            "List-map keys must be unique.",
            id="duplicate-list-map-key",
        ),
        pytest.param(
            _xr(tags={"a": "1", "b": "2", "c": 3}),
            ["spec.tags: has 3 properties, more than 2", "spec.tags.c: expected string"],
            "additionalProperties values are validated and maxProperties enforced.",
            id="map-values-and-size",
        ),
    ],
)
def test_validate_schema(obj: Manifest, expected: list[str], reason: str) -> None:
    """Claims and XRs are checked against a raw XRD schema with the same engine."""
    errors = crdcheck.validate_schema(obj, _XRD_SCHEMA)
    _assert_no_validator_gaps(errors)
    if not expected:
        assert errors == [], f"{reason}\n{errors}"
    for fragment in expected:
        assert any(fragment in error for error in errors), f"{reason}\n{fragment!r} not in {errors}"


def test_unsupported_cel_is_reported_not_passed() -> None:
    """A rule the validator cannot evaluate is an explicit CEL-UNSUPPORTED error."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"ip": {"type": "string"}},
                "x-kubernetes-validations": [{"rule": "ip(self.ip).family() == 4"}],
            },
        },
    }
    errors = crdcheck.validate_schema({"spec": {"ip": "10.0.0.1"}}, schema)
    assert len(errors) == 1
    assert errors[0].startswith(f"{crdcheck.CEL_UNSUPPORTED} spec: ")


def test_every_snapshot_cel_rule_is_supported() -> None:
    """Every x-kubernetes-validations rule in the snapshot compiles and is supported."""
    assert crdcheck.unsupported_cel_rules() == []


# --------------------------------------------------------------------------- #
# Helm values and lookup helpers
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("values", "expected", "reason"),
    [
        pytest.param(
            {"controlPlane": {"distro": {"k8s": {"enabled": True}}}},
            [],
            "Enabling the k8s distro is a valid vcluster values document.",
            id="k8s-distro",
        ),
        pytest.param(
            {"notAKey": 1},
            ["<root>: Additional properties are not allowed ('notAKey' was unexpected)"],
            "The root of values.schema.json has additionalProperties: false.",
            id="unknown-top-level-key",
        ),
        pytest.param(
            {"sync": {"toHost": {"ingresses": {"enabled": "yes"}}}},
            ["sync.toHost.ingresses.enabled: 'yes' is not of type 'boolean'"],
            "Helm would not coerce 'yes' to a boolean; the chart schema rejects it.",
            id="string-for-boolean",
        ),
    ],
)
def test_validate_helm_values(values: dict[str, Any], expected: list[str], reason: str) -> None:
    """The chart's values.schema.json checks vcluster values and reports paths."""
    errors = crdcheck.validate_helm_values(values)
    assert errors == expected, reason


def test_crd_for_and_known_kinds() -> None:
    """Lookups resolve by group and kind, and list only served versions."""
    crd = crdcheck.crd_for("apigatewayv2.aws.upbound.io/v1beta2", "Integration")
    assert crd["spec"]["names"]["kind"] == "Integration"
    kinds = crdcheck.known_kinds()
    assert ("apigatewayv2.aws.upbound.io/v1beta2", "Integration") in kinds
    assert ("apigatewayv2.aws.m.upbound.io/v1beta1", "API") in kinds
    assert ("apigatewayv2.aws.upbound.io/v1", "Integration") not in kinds
    with pytest.raises(KeyError):
        crdcheck.crd_for("example.org/v1", "Nothing")
