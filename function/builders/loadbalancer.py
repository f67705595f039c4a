"""The internal network load balancer that the VPC link reaches.

NLB -> listener -> ip target group, and an AWS Load Balancer Controller
TargetGroupBinding that registers the shared ingress gateway's pods in it. Not
composed when the claim or the platform brings its own listener.
"""

from __future__ import annotations

from function.model import keys, naming, network
from function.model.context import Context, Desired, selector


def build(ctx: Context) -> list[Desired]:
    """NLB, target group, listener and binding, unless a listener ARN is given."""
    if not ctx.api_gateway or ctx.listener_arn is not None:
        return []
    names = ctx.names
    ingress = ctx.platform.ingress_gateway
    observed = ctx.observed
    lb_spec: dict[str, object] = {
        "name": names.load_balancer,
        "loadBalancerType": "network",
        "internal": True,
        "subnets": list(ctx.spec.vpc.subnet_ids),
        "enableCrossZoneLoadBalancing": True,
        "tags": ctx.tags(),
    }
    groups = network.load_balancer_group_ids(ctx)
    if groups:
        # An NLB gets security groups only at creation; later they cannot be added.
        lb_spec["securityGroups"] = groups

    # An ip target group needs the VPC id: the claim's, else the one AWS reports
    # for the load balancer created in the claim's subnets.
    vpc_id = ctx.spec.vpc.vpc_id or observed.reported_or_sent(
        (keys.LOAD_BALANCER, "vpcId"), (keys.TARGET_GROUP, "vpcId")
    )
    target_group = None
    if vpc_id is not None:
        target_group = ctx.aws(
            naming.TARGET_GROUP,
            keys.TARGET_GROUP,
            {
                "name": names.target_group,
                "port": ingress.service_port,
                "protocol": "TCP",
                "targetType": "ip",
                "vpcId": vpc_id,
                "deregistrationDelay": "30",
                "healthCheck": {
                    "enabled": True,
                    "protocol": "HTTP",
                    "port": str(ingress.health_check_port),
                    "path": ingress.health_check_path,
                    "healthyThreshold": 2,
                    "unhealthyThreshold": 2,
                    "interval": 10,
                },
                "tags": ctx.tags(),
            },
        )
    listener = ctx.aws(
        naming.LISTENER,
        keys.LISTENER,
        {
            "loadBalancerArnSelector": selector(),
            "port": ingress.service_port,
            "protocol": "TCP",
            "defaultAction": [{"type": "forward", "targetGroupArnSelector": selector()}],
            "tags": ctx.tags(),
        },
    )
    # The binding lives in Kubernetes and has no reference resolver: copy the ARN.
    target_group_arn = observed.reported_or_sent(
        (keys.TARGET_GROUP, "arn"),
        (keys.TARGET_GROUP_BINDING, "manifest", "spec", "targetGroupARN"),
    )
    binding = None
    if target_group_arn is not None and groups is not None:
        namespace, service, _ = ctx.ingress_service
        binding_spec: dict[str, object] = {
            "serviceRef": {"name": service, "port": ingress.service_port},
            "targetGroupARN": target_group_arn,
            "targetType": "ip",
        }
        if groups:
            # The controller opens the pods to the NLB: traffic and the health check.
            binding_spec["networking"] = {
                "ingress": [
                    {
                        "from": [{"securityGroup": {"groupID": group}} for group in groups],
                        "ports": [
                            {"port": port, "protocol": "TCP"} for port in network.target_ports(ctx)
                        ],
                    }
                ]
            }
        binding = ctx.k8s_object(
            keys.TARGET_GROUP_BINDING,
            {
                "apiVersion": "elbv2.k8s.aws/v1beta1",
                "kind": "TargetGroupBinding",
                "metadata": {
                    "name": names.target_group_binding,
                    "namespace": namespace,
                    "labels": ctx.labels(keys.TARGET_GROUP_BINDING),
                },
                "spec": binding_spec,
            },
        )
    load_balancer = None if groups is None else ctx.aws(naming.LB, keys.LOAD_BALANCER, lb_spec)
    return [
        Desired(keys.LOAD_BALANCER, load_balancer, waiting_for="the id of its security group"),
        Desired(keys.TARGET_GROUP, target_group, waiting_for="the VPC id of the load balancer"),
        Desired(keys.LISTENER, listener),
        Desired(
            keys.TARGET_GROUP_BINDING,
            binding,
            waiting_for="the target group ARN and the load balancer's security group id",
        ),
    ]
