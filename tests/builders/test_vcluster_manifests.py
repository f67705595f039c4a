"""The vCluster builder's exact manifests: every name, apiVersion, Helm value and RBAC rule.

``test_vcluster.py`` states what the pieces must achieve together (the kubeconfig Helm reads
is one the vCluster writes); these state each value a provider or chart reads, so a wrong
string, a dropped key or a swapped shape fails here, next to the reason it has that value.
"""

from __future__ import annotations

from typing import Any

import crdcheck
import pytest
from contexts import SEED_SUFFIX, claim, context

from function.builders import vcluster
from function.model import keys, naming

pytestmark = pytest.mark.usefixtures("crds_present")

SLUG = {shape: f"prod-env-{suffix}" for shape, suffix in SEED_SUFFIX.items()}
HOST = {shape: f"vcluster-{slug}" for shape, slug in SLUG.items()}
XR_NAMESPACE = "team-a"  # as_shape's namespace for a v2 XR
MONITORING = ["grafana", "prometheus"]
# The seed's include without Grafana and Prometheus: nothing runs inside the vCluster.
NO_MONITORING = ["apiGatewaySupport"]
# The role and binding that let a v2 XR's vCluster write its kubeconfig copy.
WRITER = [keys.KUBECONFIG_ROLE, keys.KUBECONFIG_ROLE_BINDING]
READ = ["get", "list", "watch"]


def _labels(shape: str, key: str) -> dict[str, str]:
    """The labels Usages and people select a composed resource of the seed XR by."""
    return {naming.LABEL_ENVIRONMENT: SLUG[shape], naming.LABEL_RESOURCE: key}


def _built(shape: str, include: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The builder's manifests for the seed XR of ``shape``, by key (seed's include if None)."""
    xr = claim(shape=shape) if include is None else claim(shape=shape, include=include)
    found: dict[str, dict[str, Any]] = {}
    for item in vcluster.build(context(xr)):
        assert item.manifest is not None, f"{item.key} is held back"
        found[item.key] = item.manifest
    return found


def _at(manifest: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (``spec.forProvider.chart``; a number indexes a list)."""
    value: Any = manifest
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


VCLUSTER_VALUES = {
    "controlPlane": {
        "distro": {"k8s": {"enabled": True}},
        "statefulSet": {
            "resources": {
                "requests": {"cpu": "200m", "memory": "512Mi"},
                "limits": {"memory": "2Gi"},
            },
        },
    },
    "exportKubeConfig": {"server": f"https://prod-env.{HOST['legacy']}:443"},
    "sync": {"toHost": {"services": {"enabled": True}, "ingresses": {"enabled": False}}},
}
GRAFANA_DATASOURCES = {
    "datasources.yaml": {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "url": "http://prometheus-server.monitoring.svc",
                "isDefault": True,
            }
        ],
    }
}
ROLE_RULES = [
    {
        "apiGroups": [""],
        "resources": [
            "configmaps",
            "endpoints",
            "events",
            "persistentvolumeclaims",
            "pods",
            "secrets",
            "services",
        ],
        "verbs": READ,
    },
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets"],
     "verbs": READ},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": READ},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["secrets"],
     "resourceNames": [f"vc-{SLUG['namespaced']}"], "verbs": ["patch"]},
]  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "shape", "key", "path", "expected"),
    [
        # The host namespace, applied through provider-kubernetes.
        pytest.param("a legacy XR composes provider-kubernetes' cluster-scoped Object",
                     "legacy", keys.NAMESPACE, "apiVersion", "kubernetes.crossplane.io/v1alpha2",
                     id="namespace-object-legacy"),
        pytest.param("a v2 XR composes provider-kubernetes' namespaced Object",
                     "namespaced", keys.NAMESPACE, "apiVersion",
                     "kubernetes.m.crossplane.io/v1alpha1", id="namespace-object-v2"),
        pytest.param("the Object's own labels let the Usages select the namespace",
                     "legacy", keys.NAMESPACE, "metadata", {"labels": _labels("legacy",
                                                                             "namespace")},
                     id="namespace-object-metadata"),
        pytest.param("the vCluster's host namespace, named by the slug so two XRs never share it",
                     "legacy", keys.NAMESPACE, "spec.forProvider.manifest",
                     {"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": HOST["legacy"],
                                   "labels": _labels("legacy", "namespace")}},
                     id="namespace"),
        pytest.param("a v2 XR's Object names the platform's ClusterProviderConfig by kind",
                     "namespaced", keys.NAMESPACE, "spec.providerConfigRef",
                     {"kind": "ClusterProviderConfig", "name": "default"},
                     id="namespace-provider-config-v2"),
        # The vCluster's Helm release.
        pytest.param("a legacy XR composes provider-helm's cluster-scoped Release",
                     "legacy", keys.VCLUSTER, "apiVersion", "helm.crossplane.io/v1beta1",
                     id="release-legacy"),
        pytest.param("a v2 XR composes provider-helm's namespaced Release",
                     "namespaced", keys.VCLUSTER, "apiVersion", "helm.m.crossplane.io/v1beta1",
                     id="release-v2"),
        pytest.param("provider-helm's kind is Release", "legacy", keys.VCLUSTER, "kind",
                     "Release", id="release-kind"),
        pytest.param("the external name is the Helm release name, which names the vCluster",
                     "legacy", keys.VCLUSTER, "metadata",
                     {"labels": _labels("legacy", "vcluster"),
                      "annotations": {naming.EXTERNAL_NAME: "prod-env"}},
                     id="release-metadata-legacy"),
        pytest.param("a v2 XR's Release lives in the XR's namespace",
                     "namespaced", keys.VCLUSTER, "metadata",
                     {"labels": _labels("namespaced", "vcluster"),
                      "annotations": {naming.EXTERNAL_NAME: "prod-env"},
                      "namespace": XR_NAMESPACE},
                     id="release-metadata-v2"),
        pytest.param("readiness stays honest only if Helm waits for the chart's workloads",
                     "legacy", keys.VCLUSTER, "spec.forProvider.wait", True, id="release-wait"),
        pytest.param("a vCluster takes minutes to start; Helm gives up after ten",
                     "legacy", keys.VCLUSTER, "spec.forProvider.waitTimeout", "10m",
                     id="release-wait-timeout"),
        pytest.param("the platform's Helm ProviderConfig installs into the host cluster",
                     "legacy", keys.VCLUSTER, "spec.providerConfigRef", {"name": "default"},
                     id="release-provider-config-legacy"),
        pytest.param("a v2 XR's Release names the platform's ClusterProviderConfig by kind",
                     "namespaced", keys.VCLUSTER, "spec.providerConfigRef",
                     {"kind": "ClusterProviderConfig", "name": "default"},
                     id="release-provider-config-v2"),
        pytest.param("the chart's 0.20+ values: k8s distro, bounded resources, services synced "
                     "for the ingress, the kubeconfig exported to the Service's name",
                     "legacy", keys.VCLUSTER, "spec.forProvider.values", VCLUSTER_VALUES,
                     id="vcluster-values"),
        pytest.param("a v2 XR with monitoring gets a kubeconfig copy in its own namespace, where "
                     "provider-helm 1.4 reads it",
                     "namespaced", keys.VCLUSTER, "spec.forProvider.values.exportKubeConfig",
                     {"server": f"https://prod-env.{HOST['namespaced']}:443",
                      "additionalSecrets": [{"name": f"vc-{SLUG['namespaced']}",
                                             "namespace": XR_NAMESPACE,
                                             "server": f"https://prod-env.{HOST['namespaced']}"
                                                       ":443"}]},
                     id="vcluster-export-v2"),
        # The ProviderConfig that installs charts inside the vCluster.
        pytest.param("a legacy XR's ProviderConfig is cluster-scoped and reads the chart's own "
                     "kubeconfig Secret in the host namespace",
                     "legacy", keys.VCLUSTER_PROVIDER_CONFIG, "",
                     {"apiVersion": "helm.crossplane.io/v1beta1", "kind": "ProviderConfig",
                      "metadata": {"name": f"{SLUG['legacy']}-vcluster",
                                   "labels": _labels("legacy", "vcluster-provider-config")},
                      "spec": {"credentials": {"source": "Secret", "secretRef": {
                          "namespace": HOST["legacy"], "name": "vc-prod-env",
                          "key": "config"}}}},
                     id="provider-config-legacy"),
        pytest.param("a v2 XR's ProviderConfig is namespaced and reads the copy in the XR's "
                     "namespace", "namespaced", keys.VCLUSTER_PROVIDER_CONFIG, "",
                     {"apiVersion": "helm.m.crossplane.io/v1beta1", "kind": "ProviderConfig",
                      "metadata": {"name": f"{SLUG['namespaced']}-vcluster",
                                   "labels": _labels("namespaced", "vcluster-provider-config"),
                                   "namespace": XR_NAMESPACE},
                      "spec": {"credentials": {"source": "Secret", "secretRef": {
                          "namespace": XR_NAMESPACE, "name": f"vc-{SLUG['namespaced']}",
                          "key": "config"}}}},
                     id="provider-config-v2"),
        # Grafana and Prometheus inside the vCluster.
        pytest.param("a chart's release is named after its key, inside the vCluster",
                     "legacy", keys.GRAFANA, "metadata",
                     {"labels": _labels("legacy", "grafana"),
                      "annotations": {naming.EXTERNAL_NAME: "grafana"}},
                     id="grafana-metadata"),
        pytest.param("the charts go to the vCluster's monitoring namespace",
                     "legacy", keys.PROMETHEUS, "spec.forProvider.namespace", "monitoring",
                     id="prometheus-namespace"),
        pytest.param("the platform pins the Grafana chart", "legacy", keys.GRAFANA,
                     "spec.forProvider.chart",
                     {"name": "grafana", "repository": "https://grafana.github.io/helm-charts",
                      "version": "8.8.2"}, id="grafana-chart"),
        pytest.param("the platform pins the Prometheus chart", "legacy", keys.PROMETHEUS,
                     "spec.forProvider.chart",
                     {"name": "prometheus",
                      "repository": "https://prometheus-community.github.io/helm-charts",
                      "version": "27.3.0"}, id="prometheus-chart"),
        pytest.param("Helm waits for Grafana too: its readiness is the chart's",
                     "legacy", keys.GRAFANA, "spec.forProvider.wait", True, id="grafana-wait"),
        pytest.param("no volume, and Prometheus as the default datasource at its Service in the "
                     "monitoring namespace",
                     "legacy", keys.GRAFANA, "spec.forProvider.values",
                     {"persistence": {"enabled": False}, "datasources": GRAFANA_DATASOURCES},
                     id="grafana-values"),
        pytest.param("Prometheus needs no alertmanager or pushgateway to be ready",
                     "legacy", keys.PROMETHEUS, "spec.forProvider.values",
                     {"alertmanager": {"enabled": False},
                      "prometheus-pushgateway": {"enabled": False},
                      "prometheus-node-exporter": {"enabled": False},
                      "server": {"persistentVolume": {"enabled": False}}},
                     id="prometheus-values"),
        pytest.param("a v2 XR's chart names its own namespaced ProviderConfig by kind",
                     "namespaced", keys.PROMETHEUS, "spec.providerConfigRef",
                     {"kind": "ProviderConfig", "name": f"{SLUG['namespaced']}-vcluster"},
                     id="prometheus-provider-config-v2"),
        pytest.param("a legacy XR's chart names the cluster-scoped ProviderConfig",
                     "legacy", keys.PROMETHEUS, "spec.providerConfigRef",
                     {"name": f"{SLUG['legacy']}-vcluster"}, id="prometheus-provider-config"),
        # The Role and RoleBinding for the kubeconfig copy (v2 XRs only).
        pytest.param("the Role's Object is selected by its own resource label",
                     "namespaced", keys.KUBECONFIG_ROLE, "metadata",
                     {"labels": _labels("namespaced", "kubeconfig-role"),
                      "namespace": XR_NAMESPACE},
                     id="role-object-metadata"),
        pytest.param("the RoleBinding's Object is selected by its own resource label",
                     "namespaced", keys.KUBECONFIG_ROLE_BINDING, "metadata",
                     {"labels": _labels("namespaced", "kubeconfig-role-binding"),
                      "namespace": XR_NAMESPACE},
                     id="binding-object-metadata"),
        pytest.param("the Role grants, in the XR's namespace, reads on what the host cache "
                     "watches, create on Secrets and patch on the copy only",
                     "namespaced", keys.KUBECONFIG_ROLE, "spec.forProvider.manifest",
                     {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                      "metadata": {"name": f"{SLUG['namespaced']}-vcluster-kubeconfig",
                                   "namespace": XR_NAMESPACE,
                                   "labels": _labels("namespaced", "kubeconfig-role")},
                      "rules": ROLE_RULES},
                     id="role"),
        pytest.param("the RoleBinding gives the Role to the vCluster's ServiceAccount in the host "
                     "namespace (the chart's vc-<name>)",
                     "namespaced", keys.KUBECONFIG_ROLE_BINDING, "spec.forProvider.manifest",
                     {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                      "metadata": {"name": f"{SLUG['namespaced']}-vcluster-kubeconfig",
                                   "namespace": XR_NAMESPACE,
                                   "labels": _labels("namespaced", "kubeconfig-role-binding")},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": f"{SLUG['namespaced']}-vcluster-kubeconfig"},
                      "subjects": [{"kind": "ServiceAccount", "name": "vc-prod-env",
                                    "namespace": HOST["namespaced"]}]},
                     id="role-binding"),
    ],
)  # fmt: skip
def test_exact_values(reason: str, shape: str, key: str, path: str, expected: Any) -> None:
    """Each value a provider, the chart or the API server reads is the one it needs."""
    manifest = _built(shape)[key]
    assert (_at(manifest, path) if path else manifest) == expected, reason


@pytest.mark.parametrize(
    ("reason", "shape", "include", "expected"),
    [
        pytest.param("nothing runs inside the vCluster, so no ProviderConfig or copy",
                     "namespaced", NO_MONITORING, [keys.NAMESPACE, keys.VCLUSTER],
                     id="v2-no-monitoring"),
        pytest.param("a legacy XR's charts read the Secret beside the vCluster: no Role needed",
                     "legacy", MONITORING, [keys.NAMESPACE, keys.VCLUSTER,
                                            keys.VCLUSTER_PROVIDER_CONFIG, keys.GRAFANA,
                                            keys.PROMETHEUS], id="legacy-monitoring"),
        pytest.param("Grafana alone needs the copy in a v2 XR's namespace, and the rights to "
                     "write it", "namespaced", ["grafana"],
                     [keys.NAMESPACE, keys.VCLUSTER, *WRITER, keys.VCLUSTER_PROVIDER_CONFIG,
                      keys.GRAFANA], id="v2-grafana"),
        pytest.param("Prometheus alone needs them too", "namespaced", ["prometheus"],
                     [keys.NAMESPACE, keys.VCLUSTER, *WRITER, keys.VCLUSTER_PROVIDER_CONFIG,
                      keys.PROMETHEUS], id="v2-prometheus"),
    ],
)  # fmt: skip
def test_what_is_composed(reason: str, shape: str, include: list[str], expected: list[str]) -> None:
    """The kubeconfig writer comes only with a chart in a v2 XR; charts only when included."""
    assert list(_built(shape, include)) == expected, reason


@pytest.mark.parametrize(
    ("reason", "shape", "include", "namespace", "secret"),
    [
        pytest.param("a legacy XR's Helm reads the chart's own Secret in the host namespace",
                     "legacy", MONITORING, HOST["legacy"], "vc-prod-env", id="legacy"),
        pytest.param("without a chart nothing reads a copy, so none is made",
                     "namespaced", NO_MONITORING, HOST["namespaced"], "vc-prod-env",
                     id="v2-no-monitoring"),
        pytest.param("Grafana alone is read through the copy in the XR's namespace",
                     "namespaced", ["grafana"], XR_NAMESPACE, f"vc-{SLUG['namespaced']}",
                     id="v2-grafana"),
        pytest.param("Prometheus alone is read through the copy too",
                     "namespaced", ["prometheus"], XR_NAMESPACE, f"vc-{SLUG['namespaced']}",
                     id="v2-prometheus"),
    ],
)  # fmt: skip
def test_kubeconfig_helm_reads(
    reason: str, shape: str, include: list[str], namespace: str, secret: str
) -> None:
    """Where Helm finds the kubeconfig: the host namespace, or the copy in a v2 XR's own."""
    ctx = context(claim(shape=shape, include=include))
    assert vcluster.kubeconfig_namespace(ctx) == namespace, reason
    assert vcluster.kubeconfig_secret(ctx) == secret, reason


@pytest.mark.parametrize(
    ("reason", "include"),
    [
        pytest.param("the seed's charts and all they bring", None, id="seed"),
        pytest.param("Grafana alone, without a Prometheus datasource", ["grafana"],
                     id="grafana"),
        pytest.param("the vCluster alone", NO_MONITORING, id="no-monitoring"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("shape", ["legacy", "namespaced"])
def test_valid_for_the_real_crds_and_chart(
    reason: str, include: list[str] | None, shape: str
) -> None:
    """Every manifest passes the providers' CRDs, and the vCluster's values the chart's schema."""
    built = _built(shape, include)
    problems = {key: crdcheck.validate(body) for key, body in built.items()}
    assert {key: found for key, found in problems.items() if found} == {}, reason
    values = built[keys.VCLUSTER]["spec"]["forProvider"]["values"]
    assert crdcheck.validate_helm_values(values) == [], reason


def test_grafana_alone_has_no_datasource() -> None:
    """Without Prometheus Grafana gets only its volume setting: no datasource to a missing URL."""
    values = _built("legacy", ["grafana"])[keys.GRAFANA]["spec"]["forProvider"]["values"]
    assert values == {"persistence": {"enabled": False}}
