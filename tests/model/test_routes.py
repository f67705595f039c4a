"""Route planning: the apps as one ordered, mode-neutral list of routes."""

from __future__ import annotations

from typing import Any

import pytest
from apps import API, SLUG, xr
from contexts import context

from function.model import naming
from function.model.errors import InvalidError
from function.model.routes import Backend, plan


@pytest.mark.parametrize(
    ("reason", "apps", "expected"),
    [
        pytest.param("the longest prefix first, so '/api/v2' wins over '/api'",
                     [{**API, "name": "a", "pathPrefix": "/api"},
                      {**API, "name": "b", "pathPrefix": "/api/v2"}], ["b", "a"], id="prefix"),
        pytest.param("the longest prefix before hosts: Gateway API ranks the path before header "
                     "matches, and hosts are header matches now (issue 10 item 8)",
                     [{**API, "name": "a", "pathPrefix": "/api/long"},
                      {**API, "name": "b", "pathPrefix": "/", "hosts": ["b.example.com"]}],
                     ["a", "b"], id="hosts"),
        pytest.param("on one prefix host-bound apps first (more header matches win)",
                     [{**API, "name": "a", "pathPrefix": "/"},
                      {**API, "name": "b", "pathPrefix": "/", "hosts": ["b.example.com"]}],
                     ["b", "a"], id="hosts-same-prefix"),
        pytest.param("a header canary just before its app",
                     [{**API, "headerCanary": {"header": "x-v", "value": "2", "service": "v2"}}],
                     ["api-canary", "api"], id="canary"),
    ],
)  # fmt: skip
def test_order(reason: str, apps: list[dict[str, Any]], expected: list[str]) -> None:
    """Routes come in the order both ingress modes must match them."""
    assert [route.name for route in plan(context(xr(apps)))] == expected, reason


def test_every_route_requires_the_tenant_header_first() -> None:
    """The tenant header comes first in every route, the canary's header after it."""
    canary = {"header": "x-v", "value": "2", "service": "v2"}
    routes = plan(context(xr([{**API, "headerCanary": canary}])))
    assert [route.headers for route in routes] == [
        ((naming.TENANT_HEADER, SLUG), ("x-v", "2")),
        ((naming.TENANT_HEADER, SLUG),),
    ]
    assert routes[0].backends == (Backend("v2", "backend", 8080),)


def test_planning_refuses_what_no_route_can_express() -> None:
    """An unnormalized path would never match: planning refuses it, naming the field."""
    with pytest.raises(InvalidError, match=r"^spec\.apps\[0\]\.pathPrefix: '/a//b' is not"):
        plan(context(xr([{**API, "pathPrefix": "/a//b"}])))


@pytest.mark.parametrize(
    ("reason", "prefixes", "refused"),
    [
        pytest.param("Gateway API ignores a trailing '/': one route, two owners",
                     ["/api/", "/api"], True, id="trailing-slash"),
        pytest.param("only '/' is stripped: '/apiX' is a route of its own",
                     ["/apiX", "/api"], False, id="other-last-character"),
    ],
)  # fmt: skip
def test_overlapping_prefixes(reason: str, prefixes: list[str], refused: bool) -> None:
    """Two apps may not own one route; prefixes that only look alike are two routes."""
    apps = [{**API, "name": f"a{i}", "pathPrefix": p} for i, p in enumerate(prefixes)]
    if refused:
        with pytest.raises(InvalidError, match=r"^spec\.apps\[1\]\.pathPrefix: .* already routed"):
            plan(context(xr(apps)))
    else:
        assert len(plan(context(xr(apps)))) == len(prefixes), reason
