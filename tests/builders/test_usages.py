"""The Usages builder alone: one Usage per protected edge whose ends are both composed."""

from __future__ import annotations

from typing import Any

import crdcheck
import pytest
from contexts import SEED_SUFFIX, by_key, claim, context

from function.builders import usages
from function.model import keys, naming
from function.model.edges import USAGES

# What the seed claim composes, Usages aside.
SEED_KEYS = {
    keys.NAMESPACE, keys.VCLUSTER, keys.VCLUSTER_PROVIDER_CONFIG, keys.GRAFANA, keys.PROMETHEUS,
    keys.INGRESS_GATEWAY, keys.LOAD_BALANCER, keys.TARGET_GROUP, keys.LISTENER,
    keys.TARGET_GROUP_BINDING, keys.API, keys.VPC_LINK, keys.INTEGRATION, keys.ROUTE_PROXY,
    keys.ROUTE_ROOT, keys.STAGE, keys.CERTIFICATE, keys.CERTIFICATE_VALIDATION, keys.DOMAIN_NAME,
    keys.API_MAPPING,
}  # fmt: skip
# What composed security groups add (examples/claim-apps.yaml).
GROUP_KEYS = {
    keys.VPC_LINK_SECURITY_GROUP, keys.LOAD_BALANCER_SECURITY_GROUP, keys.LOAD_BALANCER_INGRESS,
    keys.VPC_LINK_EGRESS,
}  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "kind"),
    [pytest.param("legacy", "ClusterUsage", id="legacy"), pytest.param("namespaced", "Usage",
                                                                       id="namespaced")],
)  # fmt: skip
def test_usages(shape: str, kind: str) -> None:
    """Each dependency pair gets a Usage selecting both ends by controller and resource label."""
    found = by_key(usages.build(context(claim(shape=shape)), SEED_KEYS))
    assert set(found) == {
        "usage-integration-uses-vpc-link", "usage-integration-uses-listener",
        "usage-listener-uses-nlb", "usage-listener-uses-target-group",
        "usage-target-group-binding-uses-target-group", "usage-grafana-uses-vcluster",
        "usage-prometheus-uses-vcluster", "usage-api-mapping-uses-domain-name",
        "usage-vcluster-uses-namespace", "usage-grafana-uses-namespace",
        "usage-prometheus-uses-namespace", "usage-domain-name-uses-certificate",
    }  # fmt: skip
    usage = found["usage-integration-uses-listener"].manifest
    assert usage is not None
    assert usage["kind"] == kind
    assert usage["spec"]["of"]["kind"] == "LBListener"
    assert usage["spec"]["of"]["resourceSelector"]["matchLabels"][naming.LABEL_RESOURCE] == (
        "listener"
    )
    assert usage["spec"]["by"]["kind"] == "Integration"
    assert usage["spec"]["replayDeletion"] is True


@pytest.mark.parametrize(
    ("reason", "absent", "missing"),
    [
        pytest.param("a given listener needs no protection from this XR",
                     {keys.LISTENER}, {"usage-integration-uses-listener",
                                       "usage-listener-uses-nlb",
                                       "usage-listener-uses-target-group"}, id="no-listener"),
        pytest.param("without monitoring nothing runs inside the vCluster",
                     {keys.GRAFANA, keys.PROMETHEUS}, {"usage-grafana-uses-vcluster",
                                                       "usage-prometheus-uses-vcluster",
                                                       "usage-grafana-uses-namespace",
                                                       "usage-prometheus-uses-namespace"},
                     id="no-monitoring"),
    ],
)  # fmt: skip
def test_a_usage_needs_both_ends(reason: str, absent: set[str], missing: set[str]) -> None:
    """A Usage exists only while the spec asks for both the user and what it uses."""
    every = {item.key for item in usages.build(context(), SEED_KEYS)}
    fewer = {item.key for item in usages.build(context(), SEED_KEYS - absent)}
    assert every - fewer == missing, reason


def test_every_end_has_a_kind() -> None:
    """Each end of a protected edge has a fixed kind, never one read from observed state."""
    assert {end for edge in USAGES for end in (edge.user, edge.used)} <= set(usages.KINDS)


@pytest.mark.parametrize(
    ("reason", "user", "used", "kinds"),
    [
        pytest.param("the host namespace holds the vCluster: it goes only after the vCluster "
                     "(FIELD-NOTES: the host namespace must be deleted last)",
                     keys.VCLUSTER, keys.NAMESPACE, ("Release", "Object"), id="vcluster"),
        pytest.param("Helm uninstalls Grafana with the kubeconfig in the host namespace "
                     "(FIELD-NOTES: the host namespace must be deleted last)",
                     keys.GRAFANA, keys.NAMESPACE, ("Release", "Object"), id="grafana"),
        pytest.param("Helm uninstalls Prometheus with the kubeconfig in the host namespace "
                     "(FIELD-NOTES: the host namespace must be deleted last)",
                     keys.PROMETHEUS, keys.NAMESPACE, ("Release", "Object"), id="prometheus"),
        pytest.param("ACM refuses to delete a certificate a domain name still uses "
                     "(FIELD-NOTES: deletion order)",
                     keys.DOMAIN_NAME, keys.CERTIFICATE, ("DomainName", "Certificate"),
                     id="certificate"),
        pytest.param("EC2 refuses to delete a group another group's rule names "
                     "(DependencyViolation; Terraform's aws_security_group delete retries on it): "
                     "the NLB's ingress rule names the VPC link's group",
                     keys.LOAD_BALANCER_INGRESS, keys.VPC_LINK_SECURITY_GROUP,
                     ("SecurityGroupIngressRule", "SecurityGroup"), id="ingress-rule"),
        pytest.param("EC2 refuses to delete a group another group's rule names "
                     "(DependencyViolation): the VPC link's egress rule names the NLB's group",
                     keys.VPC_LINK_EGRESS, keys.LOAD_BALANCER_SECURITY_GROUP,
                     ("SecurityGroupEgressRule", "SecurityGroup"), id="egress-rule"),
    ],
)  # fmt: skip
def test_deleted_last(reason: str, user: str, used: str, kinds: tuple[str, str]) -> None:
    """A Usage keeps what others need until they are gone, selecting each end by its label."""
    for shape in ("legacy", "namespaced"):
        found = by_key(usages.build(context(claim(shape=shape)), SEED_KEYS | GROUP_KEYS))
        usage = found[keys.usage(user, used)].manifest
        assert usage is not None, reason
        ends = (usage["spec"]["by"], usage["spec"]["of"])
        assert tuple(end["kind"] for end in ends) == kinds, reason
        labels = tuple(
            end["resourceSelector"]["matchLabels"][naming.LABEL_RESOURCE] for end in ends
        )
        assert labels == (user, used), reason


def _selector(shape: str, key: str) -> dict[str, Any]:
    """How a Usage end selects the seed XR's resource ``key``: its own, by both labels."""
    return {
        "matchControllerRef": True,
        "matchLabels": {
            naming.LABEL_RESOURCE: key,
            naming.LABEL_ENVIRONMENT: f"prod-env-{SEED_SUFFIX[shape]}",
        },
    }


@pytest.mark.parametrize(
    ("reason", "shape", "expected"),
    [
        pytest.param("a legacy XR's resources are cluster-scoped: a ClusterUsage, selecting "
                     "the legacy apiVersions", "legacy",
                     {"apiVersion": "protection.crossplane.io/v1beta1", "kind": "ClusterUsage",
                      "metadata": {"labels": {
                          naming.LABEL_ENVIRONMENT: f"prod-env-{SEED_SUFFIX['legacy']}",
                          naming.LABEL_RESOURCE: "usage-vcluster-uses-namespace"}},
                      "spec": {
                          "of": {"apiVersion": "kubernetes.crossplane.io/v1alpha2",
                                 "kind": "Object",
                                 "resourceSelector": _selector("legacy", keys.NAMESPACE)},
                          "by": {"apiVersion": "helm.crossplane.io/v1beta1", "kind": "Release",
                                 "resourceSelector": _selector("legacy", keys.VCLUSTER)},
                          "replayDeletion": True}},
                     id="legacy"),
        pytest.param("a v2 XR's Usage lives in its namespace and selects the .m. apiVersions",
                     "namespaced",
                     {"apiVersion": "protection.crossplane.io/v1beta1", "kind": "Usage",
                      "metadata": {"labels": {
                          naming.LABEL_ENVIRONMENT: f"prod-env-{SEED_SUFFIX['namespaced']}",
                          naming.LABEL_RESOURCE: "usage-vcluster-uses-namespace"},
                          "namespace": "team-a"},
                      "spec": {
                          "of": {"apiVersion": "kubernetes.m.crossplane.io/v1alpha1",
                                 "kind": "Object",
                                 "resourceSelector": _selector("namespaced", keys.NAMESPACE)},
                          "by": {"apiVersion": "helm.m.crossplane.io/v1beta1", "kind": "Release",
                                 "resourceSelector": _selector("namespaced", keys.VCLUSTER)},
                          "replayDeletion": True}},
                     id="namespaced"),
    ],
)  # fmt: skip
def test_usage_manifest(reason: str, shape: str, expected: dict[str, Any]) -> None:
    """The whole Usage: its kind, both ends by apiVersion, kind and this XR's labels."""
    found = by_key(usages.build(context(claim(shape=shape)), SEED_KEYS))
    usage = found[keys.usage(keys.VCLUSTER, keys.NAMESPACE)].manifest
    assert usage == expected, reason
    assert crdcheck.validate(usage) == [], reason


# The apiVersions a v2 XR composes its ends with.
APIGW = "apigatewayv2.aws.m.upbound.io/v1beta1"
ELB = "elbv2.aws.m.upbound.io/v1beta1"
EC2 = "ec2.aws.m.upbound.io/v1beta1"
OBJECT = "kubernetes.m.crossplane.io/v1alpha1"
RELEASE = "helm.m.crossplane.io/v1beta1"


@pytest.mark.parametrize(
    ("reason", "key", "end"),
    [
        pytest.param(f"a v2 XR composes its {key} as a {kind}", key, (api_version, kind), id=key)
        for key, api_version, kind in (
            (keys.INTEGRATION, APIGW, "Integration"), (keys.VPC_LINK, APIGW, "VPCLink"),
            (keys.API_MAPPING, APIGW, "APIMapping"), (keys.DOMAIN_NAME, APIGW, "DomainName"),
            (keys.LISTENER, ELB, "LBListener"), (keys.LOAD_BALANCER, ELB, "LB"),
            (keys.TARGET_GROUP, ELB, "LBTargetGroup"),
            (keys.TARGET_GROUP_BINDING, OBJECT, "Object"), (keys.NAMESPACE, OBJECT, "Object"),
            (keys.VPC_LINK_SECURITY_GROUP, EC2, "SecurityGroup"),
            (keys.LOAD_BALANCER_SECURITY_GROUP, EC2, "SecurityGroup"),
            (keys.LOAD_BALANCER_INGRESS, EC2, "SecurityGroupIngressRule"),
            (keys.VPC_LINK_EGRESS, EC2, "SecurityGroupEgressRule"),
            (keys.CERTIFICATE, "acm.aws.m.upbound.io/v1beta1", "Certificate"),
            (keys.VCLUSTER, RELEASE, "Release"), (keys.GRAFANA, RELEASE, "Release"),
            (keys.PROMETHEUS, RELEASE, "Release"),
        )
    ],
)  # fmt: skip
def test_end_kinds(reason: str, key: str, end: tuple[str, str]) -> None:
    """Every end a Usage names is selected by the apiVersion and kind its builder composes."""
    ends = [
        found
        for item in usages.build(context(claim(shape="namespaced")), SEED_KEYS | GROUP_KEYS)
        if item.manifest is not None
        for found in (item.manifest["spec"]["by"], item.manifest["spec"]["of"])
        if found["resourceSelector"]["matchLabels"][naming.LABEL_RESOURCE] == key
    ]
    assert ends, reason
    assert {(found["apiVersion"], found["kind"]) for found in ends} == {end}, reason
