"""The XR's status, field by field, against what the observed resources report."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from conftest import SEED, converged_observed, load, platform_input

from function.compose import compose
from function.model import keys

Observed = dict[str, dict[str, Any]]
Change = Callable[[Observed], None]
SHARED_LINK = "a1b2c3"


def _seed(**spec: Any) -> dict[str, Any]:
    xr = load(SEED)
    xr["spec"].update(copy.deepcopy(spec))
    return xr


def _status(observed: Observed, **spec: Any) -> dict[str, Any]:
    return compose(_seed(**spec), observed, platform_input()).status


def _reported(observed: Observed, key: str, field: str) -> Any:
    return observed[key]["status"]["atProvider"][field]


def _not_ready(key: str) -> Change:
    def change(observed: Observed) -> None:
        observed[key]["status"]["conditions"] = [{"type": "Ready", "status": "False"}]

    return change


def _certificate(status: str) -> Change:
    def change(observed: Observed) -> None:
        observed[keys.CERTIFICATE]["status"]["atProvider"]["status"] = status

    return change


def test_converged_seed_status() -> None:
    """Once converged, status names the vCluster and every API Gateway id AWS reported."""
    observed = converged_observed(_seed())
    status = _status(observed)
    release = observed[keys.VCLUSTER]
    assert status["vcluster"] == {
        "name": release["metadata"]["annotations"]["crossplane.io/external-name"],
        "namespace": release["spec"]["forProvider"]["namespace"],
        "ready": True,
    }
    assert status["apiGateway"] == {
        "enabled": True,
        "stage": "prod",
        "id": _reported(observed, keys.API, "id"),
        "endpoint": "https://api.mycompany.com",
        "vpcLinkId": _reported(observed, keys.VPC_LINK, "id"),
        "listenerArn": _reported(observed, keys.LISTENER, "arn"),
    }
    assert status["ready"] is True
    assert status["pending"] == []


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        # The vCluster's own readiness, not the environment's, is what status.vcluster says.
        pytest.param(_not_ready(keys.VCLUSTER), ("vcluster", "ready"), False,
                     id="vcluster-not-ready"),
        # Before AWS reports an id there is none to show: the field is left out, not null.
        pytest.param(lambda o: o.pop(keys.API), ("apiGateway", "id"), None, id="api-not-observed"),
        pytest.param(
            lambda o: o.pop(keys.VPC_LINK), ("apiGateway", "vpcLinkId"), None,
            id="vpc-link-not-observed",
        ),
    ],
)  # fmt: skip
def test_status_follows_observed(change: Change, field: tuple[str, str], expected: Any) -> None:
    """Each status field follows the one observed resource it reports on."""
    observed = converged_observed(_seed())
    change(observed)
    section, name = field
    assert _status(observed)[section].get(name) == expected


def test_shared_vpc_link_is_reported_as_given() -> None:
    """A claim that brings its VPC link reports that id, not one observed under our key."""
    observed = converged_observed(_seed())
    status = _status(observed, apiGateway={"vpcLinkId": SHARED_LINK})
    assert status["apiGateway"]["vpcLinkId"] == SHARED_LINK


def test_no_api_gateway_status() -> None:
    """Without API Gateway support its status says only that it is off."""
    status = _status({}, include=["grafana"])
    assert status["apiGateway"] == {"enabled": False}
    assert status["customDomain"] == {"enabled": False}


@pytest.mark.parametrize(
    ("changes", "asks_user"),
    [
        # Neither ACM nor the validation says issued: the user must still create the record.
        pytest.param([_certificate("PENDING_VALIDATION"), _not_ready(keys.CERTIFICATE_VALIDATION)],
                     True, id="pending-and-validation-not-ready"),
        # ACM's ISSUED alone is enough, whatever the validation resource says.
        pytest.param([_certificate("ISSUED"), _not_ready(keys.CERTIFICATE_VALIDATION)], False,
                     id="issued-validation-not-ready"),
        # A ready validation alone is enough, even before ACM's status is refreshed.
        pytest.param([_certificate("PENDING_VALIDATION")], False,
                     id="validation-ready-certificate-pending"),
    ],
)  # fmt: skip
def test_user_is_asked_for_the_record_until_issued(changes: list[Change], asks_user: bool) -> None:
    """Without a hosted zone, pending names the record until the certificate is issued."""
    observed = converged_observed(_seed())
    for change in changes:
        change(observed)
    asks = [line for line in _status(observed)["pending"] if line.startswith("certificate:")]
    assert bool(asks) is asks_user, asks
