"""Every example's network path is open both ways through every security group it composes.

provider-upjet-aws v2.6.0 builds its ``SecurityGroup`` on Terraform's ``aws_security_group``
(``config/cluster/ec2/config.go``), and terraform-provider-aws revokes AWS's default
allow-all egress rule right after creating a group (``internal/service/ec2/
vpc_security_group.go``, ``resourceSecurityGroupCreate``: "AWS defaults all Security Groups
to have an ALLOW ALL egress rule. Here we revoke that rule"). So a composed group lets
nothing out that no rule allows, and a connection needs the sender's egress and the
receiver's ingress. Health checks obey the NLB group's outbound rules too (NLB user guide,
"Update the security groups for your Network Load Balancer").

This reads the converged composed resources as AWS would hold them (ids as the fake provider
reports them), not the builders' intentions: for each composed group on the VPC link, an
egress rule to each of the NLB's groups on the listener port; for each composed group on the
NLB, an ingress rule from each of the VPC link's groups on that port and egress rules on the
pods' ports and the health-check port. Each example runs as given and with its security
groups taken away (so that every hop it composes gets a composed group), in both XR shapes.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING, Any

import pytest
from conftest import as_shape, example_files, load, platform_input

from function.offline.simulate import simulate

if TYPE_CHECKING:
    from pathlib import Path

REASON = (
    "Terraform's aws_security_group (which provider-upjet-aws v2.6.0 builds on) revokes AWS's "
    "default allow-all egress rule, so a composed group needs an egress rule for each "
    "connection it opens (terraform-provider-aws internal/service/ec2/vpc_security_group.go)"
)
VPC = "vpc-0123456789abcdef0"
VARIANTS = ("as-given", "composed-groups")
CASES = [
    pytest.param(path, shape, variant, id=f"{path.stem}-{shape}-{variant}")
    for path in example_files()
    for shape in ("legacy", "namespaced")
    for variant in VARIANTS
]


def _variant(xr: dict[str, Any], variant: str) -> dict[str, Any]:
    """The XR, or a copy that brings no security group (and names a VPC to compose them in)."""
    if variant == "as-given":
        return xr
    changed = copy.deepcopy(xr)
    vpc = changed["spec"].setdefault("vpc", {})
    vpc.pop("securityGroupIds", None)
    vpc.pop("securityGroups", None)
    vpc.setdefault("vpcId", VPC)
    return changed


@cache
def _converged(path: Path, shape: str, variant: str) -> dict[str, dict[str, Any]]:
    result = simulate(_variant(as_shape(load(path), shape), variant), platform_input())
    assert result.fatal is None
    assert result.converged
    return result.rounds[-1].observed_before


def _of_kind(observed: dict[str, dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [body for body in observed.values() if body["kind"] == kind]


def _spec(body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = body["spec"]["forProvider"]
    return found


def _rules(observed: dict[str, dict[str, Any]], kind: str) -> set[tuple[str, str, int, int]]:
    """(group, the other end, from port, to port) of every TCP rule of a kind."""
    found = set()
    for body in _of_kind(observed, kind):
        spec = _spec(body)
        assert spec["ipProtocol"] == "tcp", body
        other = (
            spec.get("referencedSecurityGroupId") or spec.get("cidrIpv4") or spec.get("cidrIpv6")
        )
        found.add((spec["securityGroupId"], other, spec["fromPort"], spec["toPort"]))
    return found


def _allows(
    rules: set[tuple[str, str, int, int]], group: str, other: str | None, port: int
) -> bool:
    """Whether a rule of ``group`` covers ``port`` with ``other`` (any other end for None)."""
    return any(
        own == group and (other is None or peer == other) and low <= port <= high
        for own, peer, low, high in rules
    )


@pytest.mark.parametrize(("path", "shape", "variant"), CASES)
def test_every_composed_group_has_both_directions(path: Path, shape: str, variant: str) -> None:
    """VPC link group -> NLB group on the listener port; NLB group -> pods, traffic and health.

    A composed group on the VPC link may reach the NLB; one on the NLB may be reached from
    the VPC link and may reach the pods, on the pods' port and on the health-check port.
    """
    observed = _converged(path, shape, variant)
    composed = {body["status"]["atProvider"]["id"] for body in _of_kind(observed, "SecurityGroup")}
    ingress = _rules(observed, "SecurityGroupIngressRule")
    egress = _rules(observed, "SecurityGroupEgressRule")
    links = _of_kind(observed, "VPCLink")
    link_groups = [g for link in links for g in _spec(link).get("securityGroupIds", [])]
    balancers = _of_kind(observed, "LB")
    nlb_groups = [g for lb in balancers for g in _spec(lb).get("securityGroups", [])]
    listener_port = platform_input()["ingressGateway"]["servicePort"]
    bindings = [
        _spec(body)["manifest"]
        for body in _of_kind(observed, "Object")
        if _spec(body)["manifest"]["kind"] == "TargetGroupBinding"
    ]
    pod_ports = {
        port["port"]
        for binding in bindings
        for rule in binding["spec"].get("networking", {}).get("ingress", [])
        for port in rule["ports"]
    }
    health_ports = {
        int(_spec(group)["healthCheck"]["port"]) for group in _of_kind(observed, "LBTargetGroup")
    }
    # The NLB's groups, or (a shared or group-less NLB) any destination; likewise sources.
    missing = [
        f"VPC link group {group}: no egress to {other} on {listener_port}"
        for group in sorted(composed & set(link_groups))
        for other in nlb_groups or [None]
        if not _allows(egress, group, other, listener_port)
    ]
    missing += [
        f"NLB group {group}: no ingress from {other} on {listener_port}"
        for group in sorted(composed & set(nlb_groups))
        for other in link_groups or [None]
        if not _allows(ingress, group, other, listener_port)
    ]
    missing += [
        f"NLB group {group}: no egress on {port}"
        for group in sorted(composed & set(nlb_groups))
        for port in sorted(pod_ports | health_ports)
        if not _allows(egress, group, None, port)
    ]
    assert missing == [], REASON
    if variant == "composed-groups" and links and balancers:
        # Both hops composed here: the check above looked at two composed groups.
        assert len(composed) == len(set(link_groups) | set(nlb_groups)) == 2
        assert pod_ports
        assert health_ports
