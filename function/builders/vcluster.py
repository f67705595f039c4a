"""The vCluster: its host namespace, its Helm release and optional monitoring charts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.model import keys, naming
from function.model.context import Context, Desired
from function.model.spec import Include

if TYPE_CHECKING:
    from function.model.platform import Chart

MONITORING_NAMESPACE = "monitoring"


def kubeconfig_server(ctx: Context) -> str:
    """The exported kubeconfig's server: the Service, by a name its certificate holds."""
    return f"https://{ctx.names.vcluster_release}.{ctx.names.host_namespace}:443"


def kubeconfig_namespace(ctx: Context) -> str:
    """Where the Helm ProviderConfig of the charts inside the vCluster finds the kubeconfig.

    provider-helm 1.4 reads a namespaced ProviderConfig's Secret in the namespace of the
    Release that uses it, whatever the ProviderConfig says: for a v2 XR, its own namespace,
    where the vCluster writes a copy only while a chart needs it.
    """
    monitoring = ctx.spec.includes(Include.GRAFANA) or ctx.spec.includes(Include.PROMETHEUS)
    if monitoring and ctx.shape is naming.Shape.NAMESPACED and ctx.xr_namespace is not None:
        return ctx.xr_namespace
    return ctx.names.host_namespace


def kubeconfig_secret(ctx: Context) -> str:
    """The name of the kubeconfig Secret Helm reads: the chart's own, or the XR namespace's copy."""
    if kubeconfig_namespace(ctx) == ctx.names.host_namespace:
        return ctx.names.kubeconfig_secret
    return ctx.names.kubeconfig_copy


def _export(ctx: Context) -> dict[str, Any]:
    export: dict[str, Any] = {"server": kubeconfig_server(ctx)}
    if kubeconfig_namespace(ctx) != ctx.names.host_namespace:
        # The default Secret stays in the host namespace; this copy is what Helm reads.
        export["additionalSecrets"] = [
            {
                "name": kubeconfig_secret(ctx),
                "namespace": kubeconfig_namespace(ctx),
                "server": kubeconfig_server(ctx),
            }
        ]
    return export


def values(ctx: Context) -> dict[str, Any]:
    """VCluster 0.36 chart values (the 0.20+ format; the chart rejects unknown keys)."""
    return {
        "controlPlane": {
            "distro": {"k8s": {"enabled": True}},
            "statefulSet": {
                "resources": {
                    "requests": {"cpu": "200m", "memory": "512Mi"},
                    "limits": {"memory": "2Gi"},
                },
            },
        },
        # The default kubeconfig points at localhost:8443, which only works from
        # inside the pod; providers reach the vCluster through its Service, by a name
        # its serving certificate holds (``<name>.<namespace>``, not ``...svc``).
        "exportKubeConfig": _export(ctx),
        "sync": {
            "toHost": {
                # Services must be synced: the ingress routes to their host copies.
                "services": {"enabled": True},
                "ingresses": {"enabled": False},
            },
        },
    }


def _release(  # noqa: PLR0913
    ctx: Context,
    key: str,
    chart: Chart,
    *,
    release_name: str,
    namespace: str,
    chart_values: dict[str, Any],
    provider_config: dict[str, str],
) -> dict[str, Any]:
    meta = ctx.metadata(key, external_name=release_name)
    return {
        "apiVersion": naming.RELEASE.api_version(ctx.shape),
        "kind": naming.RELEASE.kind,
        "metadata": meta,
        "spec": {
            "forProvider": {
                "chart": {
                    "name": chart.name,
                    "repository": chart.repository,
                    "version": chart.version,
                },
                "namespace": namespace,
                "values": chart_values,
                # Ready only once the chart's workloads are: readiness stays honest.
                "wait": True,
                "waitTimeout": "10m",
            },
            "providerConfigRef": provider_config,
        },
    }


def _prometheus_values(ctx: Context) -> dict[str, Any]:
    """Prometheus chart values that can become ready without a default StorageClass.

    A claimed volume with no StorageClass to bind stays Pending, and the node exporter's
    hostNetwork, hostPID and hostPath are refused by Pod Security's baseline level; both
    are off unless the platform turns them on in the function input.
    """
    settings = ctx.platform.prometheus
    volume: dict[str, Any] = {"enabled": settings.persistence.enabled}
    if settings.persistence.enabled:
        volume["size"] = settings.persistence.size
        if settings.persistence.storage_class is not None:
            volume["storageClass"] = settings.persistence.storage_class
    return {
        "alertmanager": {"enabled": False},
        "prometheus-pushgateway": {"enabled": False},
        "prometheus-node-exporter": {"enabled": settings.node_exporter},
        "server": {"persistentVolume": volume},
    }


def _monitoring_values(ctx: Context, part: Include) -> dict[str, Any]:
    if part is Include.PROMETHEUS:
        return _prometheus_values(ctx)
    grafana: dict[str, Any] = {"persistence": {"enabled": False}}
    if ctx.spec.includes(Include.PROMETHEUS):
        grafana["datasources"] = {
            "datasources.yaml": {
                "apiVersion": 1,
                "datasources": [
                    {
                        "name": "Prometheus",
                        "type": "prometheus",
                        "url": f"http://prometheus-server.{MONITORING_NAMESPACE}.svc",
                        "isDefault": True,
                    }
                ],
            }
        }
    return grafana


def build(ctx: Context) -> list[Desired]:
    """The vCluster and, when included, Grafana and Prometheus inside it."""
    names = ctx.names
    namespace = ctx.k8s_object(
        keys.NAMESPACE,
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": names.host_namespace, "labels": ctx.labels(keys.NAMESPACE)},
        },
    )
    vcluster = _release(
        ctx,
        keys.VCLUSTER,
        ctx.platform.charts.vcluster,
        release_name=names.vcluster_release,
        namespace=names.host_namespace,
        chart_values=values(ctx),
        provider_config=ctx.provider_config_ref(ctx.platform.provider_configs.helm),
    )
    vcluster["spec"]["forProvider"]["skipCreateNamespace"] = True
    desired = [
        Desired(keys.NAMESPACE, namespace),
        Desired(keys.VCLUSTER, vcluster),
    ]
    monitoring = [
        (key, part, chart)
        for key, part, chart in (
            (keys.GRAFANA, Include.GRAFANA, ctx.platform.charts.grafana),
            (keys.PROMETHEUS, Include.PROMETHEUS, ctx.platform.charts.prometheus),
        )
        if ctx.spec.includes(part)
    ]
    if not monitoring:
        return desired
    if kubeconfig_namespace(ctx) != names.host_namespace:
        desired.extend(_kubeconfig_writer(ctx))
    desired.append(Desired(keys.VCLUSTER_PROVIDER_CONFIG, _provider_config(ctx)))
    in_vcluster = ctx.provider_config_ref(names.vcluster_provider_config, composed=True)
    desired.extend(
        Desired(
            key,
            _release(
                ctx,
                key,
                chart,
                release_name=key,
                namespace=MONITORING_NAMESPACE,
                chart_values=_monitoring_values(ctx, part),
                provider_config=in_vcluster,
            ),
        )
        for key, part, chart in monitoring
    )
    return desired


def _provider_config(ctx: Context) -> dict[str, Any]:
    """A Helm ProviderConfig that installs into the vCluster with its exported kubeconfig."""
    names = ctx.names
    metadata: dict[str, Any] = {
        "name": names.vcluster_provider_config,
        "labels": ctx.labels(keys.VCLUSTER_PROVIDER_CONFIG),
    }
    if ctx.xr_namespace is not None and ctx.shape is naming.Shape.NAMESPACED:
        metadata["namespace"] = ctx.xr_namespace
    return {
        "apiVersion": naming.HELM_PROVIDER_CONFIG.api_version(ctx.shape),
        "kind": naming.HELM_PROVIDER_CONFIG.kind,
        "metadata": metadata,
        "spec": {
            "credentials": {
                "source": "Secret",
                "secretRef": {
                    "namespace": kubeconfig_namespace(ctx),
                    "name": kubeconfig_secret(ctx),
                    "key": "config",
                },
            },
        },
    }


# What the vCluster's syncer watches in every namespace of its host cache, for the values
# this function sets: the namespaced kinds its chart's Role lets it read in the host
# namespace (vCluster 0.36.1 chart/templates/role.yaml, without private nodes; endpoints
# and endpointSlices synced; no ingresses, Gateway API or leases).
HOST_CACHE_READS = (
    (
        "",
        (
            "configmaps",
            "endpoints",
            "events",
            "persistentvolumeclaims",
            "pods",
            "secrets",
            "services",
        ),
    ),
    ("apps", ("deployments", "replicasets", "statefulsets")),
    ("discovery.k8s.io", ("endpointslices",)),
    ("events.k8s.io", ("events",)),
)
READ = ["get", "list", "watch"]


def _kubeconfig_writer(ctx: Context) -> list[Desired]:
    """A Role and RoleBinding letting the vCluster write its kubeconfig into the XR's namespace.

    The chart grants its ServiceAccount rights in the host namespace only. vCluster 0.36.1
    adds each ``additionalSecrets`` namespace to its host cache (``getLocalCacheOptions`` in
    ``pkg/setup/controller_context.go``: "we will need access to all the objects that the
    vcluster usually has access to otherwise the controller will not start"), so every
    informer of that cache lists and watches there too, and the syncer waits for them all
    to sync before it starts (``pkg/setup/managers.go``). It writes the Secret through that
    cached client (``localManager.GetClient()``) with ``controllerutil.CreateOrPatch``
    (``pkg/util/kubeconfig/kubeconfig.go``): read from the cache, then create or patch. So:
    read (get, list, watch) on what the cache watches, ``create`` on Secrets (it cannot be
    limited to one name) and ``patch`` on the kubeconfig Secret only; no update, no delete.
    """
    names = ctx.names
    namespace = kubeconfig_namespace(ctx)
    metadata = {"name": names.kubeconfig_writer, "namespace": namespace}
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {**metadata, "labels": ctx.labels(keys.KUBECONFIG_ROLE)},
        "rules": [
            *(
                {"apiGroups": [group], "resources": list(resources), "verbs": READ}
                for group, resources in HOST_CACHE_READS
            ),
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": [kubeconfig_secret(ctx)],
                "verbs": ["patch"],
            },
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {**metadata, "labels": ctx.labels(keys.KUBECONFIG_ROLE_BINDING)},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": names.kubeconfig_writer,
        },
        "subjects": [
            {
                "kind": "ServiceAccount",
                "name": names.vcluster_service_account,
                "namespace": names.host_namespace,
            }
        ],
    }
    return [
        Desired(keys.KUBECONFIG_ROLE, ctx.k8s_object(keys.KUBECONFIG_ROLE, role)),
        Desired(
            keys.KUBECONFIG_ROLE_BINDING, ctx.k8s_object(keys.KUBECONFIG_ROLE_BINDING, binding)
        ),
    ]
