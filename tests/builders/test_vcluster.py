"""The vCluster builder alone: host namespace, Helm release, monitoring charts inside it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import platform_input
from contexts import SEED_SUFFIX, by_key, claim, context, for_provider

from function.builders import vcluster
from function.model import keys, naming

HOST_NAMESPACE = f"vcluster-prod-env-{SEED_SUFFIX['legacy']}"


def test_vcluster_release() -> None:
    """The vCluster release is named by external name, pinned and installed in its namespace."""
    body = by_key(vcluster.build(context()))[keys.VCLUSTER].manifest
    assert body is not None
    assert body["metadata"]["annotations"][naming.EXTERNAL_NAME] == "prod-env"
    chart = body["spec"]["forProvider"]["chart"]
    assert chart == {
        "name": "vcluster",
        "repository": "https://charts.loft.sh",
        "version": "0.36.1",
    }
    assert body["spec"]["forProvider"]["namespace"] == HOST_NAMESPACE
    assert body["spec"]["forProvider"]["skipCreateNamespace"] is True


@pytest.mark.parametrize(
    ("include", "datasource"),
    [
        pytest.param(["grafana", "prometheus"], True, id="with-prometheus"),
        pytest.param(["grafana"], False, id="grafana-alone"),
    ],
)
def test_grafana_datasource(include: list[str], datasource: bool) -> None:
    """Grafana gets a Prometheus datasource only when Prometheus is installed too."""
    desired = vcluster.build(context(claim(include=include)))
    values = for_provider(desired, keys.GRAFANA)["values"]
    assert ("datasources" in values) is datasource
    grafana = by_key(desired)[keys.GRAFANA].manifest
    assert grafana is not None
    assert grafana["spec"]["providerConfigRef"] == {"name": "prod-env-381583e839d74e93-vcluster"}


@pytest.mark.parametrize(
    ("reason", "include", "expected"),
    [
        pytest.param("the vCluster alone when nothing is included", ["apiGatewaySupport"],
                     [keys.NAMESPACE, keys.VCLUSTER], id="no-monitoring"),
        pytest.param("a chart installs through the vCluster's own ProviderConfig", ["prometheus"],
                     [keys.NAMESPACE, keys.VCLUSTER, keys.VCLUSTER_PROVIDER_CONFIG,
                      keys.PROMETHEUS], id="prometheus"),
    ],
)  # fmt: skip
def test_what_is_composed(reason: str, include: list[str], expected: list[str]) -> None:
    """Monitoring charts and their ProviderConfig only when included."""
    assert [d.key for d in vcluster.build(context(claim(include=include)))] == expected, reason


def _certificate_names(release: str, namespace: str, chart_values: dict[str, Any]) -> set[str]:
    """The DNS names vCluster 0.36 signs its serving certificate for (its pkg/server/cert)."""
    extra = chart_values.get("controlPlane", {}).get("proxy", {}).get("extraSANs", [])
    fixed = {release, f"{release}.{namespace}", "localhost", "kubernetes", "kubernetes.default"}
    return fixed | set(extra)


def test_exported_server_is_in_the_certificate() -> None:
    """The exported server is a name the vCluster certificate holds.

    Otherwise Grafana and Prometheus fail x509 (FIELD-NOTES: vCluster 0.36 serving
    certificate SANs, its pkg/server/cert).
    """
    body = by_key(vcluster.build(context()))[keys.VCLUSTER].manifest
    assert body is not None
    chart_values = body["spec"]["forProvider"]["values"]
    server = urlsplit(chart_values["exportKubeConfig"]["server"])
    assert server.scheme == "https"
    assert server.port == 443
    assert server.hostname in _certificate_names("prod-env", HOST_NAMESPACE, chart_values)


@pytest.mark.parametrize(
    ("reason", "settings", "volume", "node_exporter"),
    [
        pytest.param("a volume with no default StorageClass to bind stays Pending, and the node "
                     "exporter's hostNetwork/hostPID are refused by Pod Security baseline "
                     "(FIELD-NOTES: Prometheus must become ready; prometheus chart 27 values)",
                     None, {"enabled": False}, False, id="defaults"),
        pytest.param("a platform with a StorageClass keeps metrics on a volume of its choosing",
                     {"persistence": {"enabled": True, "size": "20Gi", "storageClassName": "gp3"}},
                     {"enabled": True, "size": "20Gi", "storageClass": "gp3"}, False,
                     id="volume"),
        pytest.param("without a class name the volume uses the cluster's default StorageClass",
                     {"persistence": {"enabled": True}}, {"enabled": True, "size": "8Gi"}, False,
                     id="volume-default-class"),
        pytest.param("a platform without pod security may run the node exporter",
                     {"nodeExporter": True}, {"enabled": False}, True, id="node-exporter"),
    ],
)  # fmt: skip
def test_prometheus_values(
    reason: str, settings: dict[str, Any] | None, volume: dict[str, Any], node_exporter: bool
) -> None:
    """Prometheus has no volume and no node exporter unless the function input asks for them."""
    function_input = platform_input()
    if settings is not None:
        function_input["prometheus"] = settings
    desired = vcluster.build(context(function_input=function_input))
    chart_values = for_provider(desired, keys.PROMETHEUS)["values"]
    assert chart_values["server"]["persistentVolume"] == volume, reason
    assert chart_values["prometheus-node-exporter"] == {"enabled": node_exporter}, reason


def _helm_reads(provider_config: dict[str, Any], release: dict[str, Any]) -> tuple[str, str]:
    """The Secret provider-helm 1.4 reads a ProviderConfig's kubeconfig from, for a Release.

    A namespaced ProviderConfig's secretRef.namespace is overwritten with the Release's
    namespace (FIELD-NOTES: provider-helm 1.4, namespaced ProviderConfig).
    """
    ref = provider_config["spec"]["credentials"]["secretRef"]
    namespaced = provider_config["apiVersion"].startswith("helm.m.")
    return (release["metadata"]["namespace"] if namespaced else ref["namespace"]), ref["name"]


def _written(release: dict[str, Any]) -> set[tuple[str, str]]:
    """The kubeconfig Secrets vCluster writes: ``vc-<name>`` beside it, and additionalSecrets."""
    for_provider = release["spec"]["forProvider"]
    export = for_provider["values"]["exportKubeConfig"]
    own = (
        for_provider["namespace"],
        f"vc-{release['metadata']['annotations'][naming.EXTERNAL_NAME]}",
    )
    return {own} | {
        (extra["namespace"], extra["name"]) for extra in export.get("additionalSecrets", [])
    }


def _granted(
    desired: dict[str, Any],
    host: str,
    namespace: str,
    name: str,
    *,
    group: str = "",
    resource: str = "secrets",
) -> set[str]:
    """Verbs composed Roles grant the vCluster's ServiceAccount (in ``host``) on one object.

    ``name`` is the object's name; ``*`` asks for verbs on every object of the resource
    (what list and watch, and create, need: RBAC matches them by no name).
    """
    manifests = [d.manifest["spec"]["forProvider"]["manifest"] for d in desired.values()
                 if d.manifest and d.manifest["kind"] == "Object"]  # fmt: skip
    roles = {(m["metadata"]["namespace"], m["metadata"]["name"]): m for m in manifests
             if m["kind"] == "Role"}  # fmt: skip
    verbs: set[str] = set()
    for binding in (m for m in manifests if m["kind"] == "RoleBinding"):
        subject = binding["subjects"][0]
        if (subject["name"], subject["namespace"]) != ("vc-prod-env", host):
            continue
        role = roles[(binding["metadata"]["namespace"], binding["roleRef"]["name"])]
        if role["metadata"]["namespace"] != namespace:
            continue
        for rule in role["rules"]:
            names = rule.get("resourceNames")
            if (
                group in rule["apiGroups"]
                and resource in rule["resources"]
                and (names is None or name in names)
            ):
                verbs |= set(rule["verbs"])
    return verbs


@pytest.mark.parametrize("shape", ["legacy", "namespaced"])
@pytest.mark.parametrize("chart", [keys.GRAFANA, keys.PROMETHEUS])
def test_helm_finds_the_kubeconfig(shape: str, chart: str) -> None:
    """The Secret provider-helm really reads for a chart is one the vCluster writes.

    provider-helm 1.4 reads a namespaced ProviderConfig's Secret in the Release's namespace
    (FIELD-NOTES), so a v2 XR needs vCluster's exportKubeConfig.additionalSecrets copy in its
    own namespace (chart 0.36 values schema), and rights to write it there: the chart's Role
    covers only the host namespace.
    """
    desired = by_key(vcluster.build(context(claim(shape=shape))))
    provider_config = desired[keys.VCLUSTER_PROVIDER_CONFIG].manifest
    release, vc = desired[chart].manifest, desired[keys.VCLUSTER].manifest
    assert provider_config is not None
    assert release is not None
    assert vc is not None
    namespace, name = _helm_reads(provider_config, release)
    assert (namespace, name) in _written(vc)
    if namespace != vc["spec"]["forProvider"]["namespace"]:
        host = vc["spec"]["forProvider"]["namespace"]
        # CreateOrPatch through vCluster's cached client (test_vcluster_reads_what_it_caches).
        assert {"get", "patch"} <= _granted(desired, host, namespace, name)
        assert {"create", "list", "watch"} <= _granted(desired, host, namespace, "*")
        extra = vc["spec"]["forProvider"]["values"]["exportKubeConfig"]["additionalSecrets"][0]
        assert extra["server"] == vc["spec"]["forProvider"]["values"]["exportKubeConfig"]["server"]


VCLUSTER_SOURCE = (
    "vCluster v0.36.1 pkg/setup/controller_context.go getLocalCacheOptions adds each "
    "exportKubeConfig.additionalSecrets namespace to the host cache's DefaultNamespaces ('we "
    "will need access to all the objects that the vcluster usually has access to otherwise "
    "the controller will not start'), and pkg/setup/managers.go waits for that cache to sync"
)
WRITER_SOURCE = (
    "vCluster v0.36.1 pkg/util/kubeconfig/kubeconfig.go WriteKubeConfig: "
    "controllerutil.CreateOrPatch through localManager.GetClient() (a cached client, "
    "pkg/setup/controller_context.go initControllerContext)"
)


COPY = "<the kubeconfig copy the chart writes>"  # the name additionalSecrets gives it


@pytest.mark.parametrize(
    ("reason", "verb", "group", "resource", "name", "allowed"),
    [
        pytest.param(WRITER_SOURCE, "create", "", "secrets", "*", True, id="create-secret"),
        pytest.param(WRITER_SOURCE, "patch", "", "secrets", COPY, True,
                     id="patch-kubeconfig"),
        pytest.param("the cached client reads the Secret from a namespace-wide informer: "
                     + VCLUSTER_SOURCE, "list", "", "secrets", "*", True, id="list-secrets"),
        pytest.param(VCLUSTER_SOURCE, "watch", "", "secrets", "*", True, id="watch-secrets"),
        pytest.param(VCLUSTER_SOURCE, "watch", "", "pods", "*", True, id="watch-pods"),
        pytest.param(VCLUSTER_SOURCE, "list", "", "services", "*", True, id="list-services"),
        pytest.param(VCLUSTER_SOURCE, "watch", "", "configmaps", "*", True,
                     id="watch-configmaps"),
        pytest.param(VCLUSTER_SOURCE, "watch", "", "endpoints", "*", True, id="watch-endpoints"),
        pytest.param(VCLUSTER_SOURCE, "watch", "", "persistentvolumeclaims", "*", True,
                     id="watch-pvcs"),
        pytest.param(VCLUSTER_SOURCE, "watch", "", "events", "*", True, id="watch-events"),
        pytest.param(VCLUSTER_SOURCE, "watch", "discovery.k8s.io", "endpointslices", "*", True,
                     id="watch-endpointslices"),
        pytest.param(VCLUSTER_SOURCE, "watch", "apps", "statefulsets", "*", True,
                     id="watch-statefulsets"),
        pytest.param("CreateOrPatch never updates: " + WRITER_SOURCE, "update", "", "secrets",
                     COPY, False, id="no-update"),
        pytest.param("nothing in vCluster deletes the copy: " + WRITER_SOURCE, "delete", "",
                     "secrets", COPY, False, id="no-delete"),
        pytest.param("it patches only its kubeconfig", "patch", "", "secrets", "other", False,
                     id="no-patch-other"),
        pytest.param("it syncs nothing into the XR's namespace", "create", "", "pods", "*",
                     False, id="no-create-pods"),
    ],
)  # fmt: skip
def test_vcluster_reads_what_it_caches(
    reason: str, verb: str, group: str, resource: str, name: str, *, allowed: bool
) -> None:
    """In the XR's namespace the vCluster reads what its host cache watches, writes one Secret.

    Before, the Role granted create, and get/update/patch/delete on the one Secret: the
    host cache's informers could list nothing there, so (by vCluster's own comment) the
    syncer would never start and the kubeconfig would never be written.
    """
    desired = by_key(vcluster.build(context(claim(shape="namespaced"))))
    vc = desired[keys.VCLUSTER].manifest
    assert vc is not None
    host = vc["spec"]["forProvider"]["namespace"]
    extra = vc["spec"]["forProvider"]["values"]["exportKubeConfig"]["additionalSecrets"][0]
    name = extra["name"] if name == COPY else name
    granted = _granted(desired, host, extra["namespace"], name, group=group, resource=resource)
    assert (verb in granted) == allowed, reason
