"""The internal network load balancer that the VPC link reaches.

NLB -> listener -> ip target group, and an AWS Load Balancer Controller
TargetGroupBinding that registers the shared ingress gateway's pods in it. Not
composed when the claim or the platform brings its own listener.
"""

from __future__ import annotations

from function.model import keys, naming
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
    if ctx.spec.vpc.security_group_ids:
        # An NLB gets security groups only at creation; later they cannot be added.
        lb_spec["securityGroups"] = list(ctx.spec.vpc.security_group_ids)

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
    if target_group_arn is not None:
        binding = ctx.k8s_object(
            keys.TARGET_GROUP_BINDING,
            {
                "apiVersion": "elbv2.k8s.aws/v1beta1",
                "kind": "TargetGroupBinding",
                "metadata": {
                    "name": names.target_group_binding,
                    "namespace": ingress.namespace,
                    "labels": ctx.labels(keys.TARGET_GROUP_BINDING),
                },
                "spec": {
                    "serviceRef": {"name": ingress.service_name, "port": ingress.service_port},
                    "targetGroupARN": target_group_arn,
                    "targetType": "ip",
                },
            },
        )
    return [
        Desired(keys.LOAD_BALANCER, ctx.aws(naming.LB, keys.LOAD_BALANCER, lb_spec)),
        Desired(keys.TARGET_GROUP, target_group, waiting_for="the VPC id of the load balancer"),
        Desired(keys.LISTENER, listener),
        Desired(keys.TARGET_GROUP_BINDING, binding, waiting_for="the target group ARN"),
    ]
