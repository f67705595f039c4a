"""Reading a request into a Context: what is refused before any builder runs, and the XR's shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import SEED, load, platform_input

from function.compose import context
from function.model.errors import InvalidError
from function.model.naming import Shape
from function.model.observed import Observed

ACCOUNT = "123456789012"
LINK = "a1b2c3"


def _listener(region: str) -> str:
    return (
        f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:"
        "listener/net/shared/0123456789abcdef/0123456789abcdef"
    )


def _xr(namespace: Any = None, **spec: Any) -> dict[str, Any]:
    xr = load(SEED)
    xr["spec"].update(copy.deepcopy(spec))
    if namespace is not None:
        xr["metadata"]["namespace"] = namespace
    return xr


def _shared(**shared: str) -> dict[str, Any]:
    return {**platform_input(), "shared": shared}


NO_SUBNETS = {"vpc": {"subnetIds": [], "securityGroupIds": ["sg-0c1d2e3f4a5b60710"]}}


@pytest.mark.parametrize(
    ("xr", "function_input", "message"),
    [
        # The input is read before anything else: a list is no input at all.
        pytest.param(_xr(), [1], "input: must be an object", id="input-not-an-object"),
        # A namespace is a DNS label: 63 characters at most, as Kubernetes allows.
        pytest.param(_xr("n" * 64), None, "metadata.namespace: 64 characters long; at most 63",
                     id="namespace-too-long"),
        # Without subnets only a given listener and VPC link make API Gateway possible.
        pytest.param(_xr(**NO_SUBNETS, apiGateway={"listenerArn": _listener("us-east-1")}), None,
                     "spec.vpc.subnetIds: apiGatewaySupport needs at least one subnet for the "
                     "VPC link", id="no-subnets-no-vpc-link"),
        pytest.param(_xr(**NO_SUBNETS, apiGateway={"vpcLinkId": LINK}), None,
                     "spec.vpc.subnetIds: apiGatewaySupport needs at least one subnet for the "
                     "load balancer", id="no-subnets-no-listener"),
        # A listener in another region is refused naming where it was given: the platform's.
        pytest.param(_xr(), _shared(listenerArn=_listener("eu-west-1"), vpcLinkId=LINK),
                     "input.shared.listenerArn: the listener is in eu-west-1 and the environment "
                     "in us-east-1; a VPC link reaches only listeners in its own region",
                     id="shared-listener-other-region"),
        pytest.param(_xr(apiGateway={"listenerArn": _listener("eu-west-1"), "vpcLinkId": LINK}),
                     None,
                     "spec.apiGateway.listenerArn: the listener is in eu-west-1 and the "
                     "environment in us-east-1; a VPC link reaches only listeners in its own "
                     "region", id="claim-listener-other-region"),
    ],
)  # fmt: skip
def test_refused(xr: dict[str, Any], function_input: Any, message: str) -> None:
    """Each request a Context cannot be made of is refused with the field and the reason."""
    with pytest.raises(InvalidError) as refused:
        context(xr, Observed({}), platform_input() if function_input is None else function_input)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("xr", "function_input"),
    [
        pytest.param(_xr("n" * 63), None, id="namespace-of-63"),
        # Both given: nothing is composed that needs a subnet.
        pytest.param(_xr(**NO_SUBNETS, apiGateway={"listenerArn": _listener("us-east-1"),
                                                   "vpcLinkId": LINK}), None,
                     id="no-subnets-both-given"),
    ],
)  # fmt: skip
def test_accepted(xr: dict[str, Any], function_input: Any) -> None:
    """The limits themselves are allowed."""
    context(xr, Observed({}), platform_input() if function_input is None else function_input)


@pytest.mark.parametrize(
    ("namespace", "shape", "xr_namespace"),
    [
        pytest.param("team-a", Shape.NAMESPACED, "team-a", id="namespaced"),
        # An empty or absent namespace is a cluster-scoped (legacy) XR.
        pytest.param(None, Shape.LEGACY, None, id="cluster-scoped"),
        pytest.param("", Shape.LEGACY, None, id="empty-namespace"),
        # Only text is a namespace; anything else is read as none.
        pytest.param(5, Shape.LEGACY, None, id="namespace-not-text"),
    ],
)
def test_shape(namespace: object, shape: Shape, xr_namespace: str | None) -> None:
    """The XR's namespace decides its shape and where namespaced resources go."""
    xr = _xr()
    xr["metadata"].pop("namespace", None)
    if namespace is not None:
        xr["metadata"]["namespace"] = namespace
    ctx = context(xr, Observed({}), platform_input())
    assert ctx.shape is shape
    assert ctx.xr_namespace == xr_namespace
