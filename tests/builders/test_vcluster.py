"""The vCluster builder alone: host namespace, Helm release, monitoring charts inside it."""

from __future__ import annotations

import pytest
from contexts import by_key, claim, context, for_provider

from function.builders import vcluster
from function.model import keys, naming


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
    assert body["spec"]["forProvider"]["namespace"] == "vcluster-prod-env-381583e8"
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
    assert grafana["spec"]["providerConfigRef"] == {"name": "prod-env-381583e8-vcluster"}


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
