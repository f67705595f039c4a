"""What the spec's models decide for the builders, beyond validation.

Which paths an app's routes cover, and which apps answer CORS preflights. Invalid specs
and their messages are in tests/data/bad-inputs.yaml.
"""

from __future__ import annotations

from typing import Any

import pytest

from function.model.spec import App, parse_spec

JWT = {"issuer": "https://issuer.example.com", "audiences": ["api"]}


def _app(path_prefix: str, **fields: Any) -> App:
    """An app of the orders service at ``path_prefix``."""
    return App.model_validate({"name": "orders", "service": "orders", "pathPrefix": path_prefix,
                               **fields})  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "mine", "theirs", "covers"),
    [
        pytest.param("'/{proxy+}' under the root matches every path", "/", "/orders", True,
                     id="root-covers-all"),
        pytest.param("the same prefix is the same routes", "/api", "/api", True,
                     id="same-prefix"),
        pytest.param("a trailing slash names the same prefix", "/api/", "/api", True,
                     id="own-trailing-slash"),
        pytest.param("a trailing slash on the other names the same prefix", "/api", "/api/", True,
                     id="their-trailing-slash"),
        pytest.param("a path below the prefix is matched by '<prefix>/{proxy+}'", "/api",
                     "/api/v1", True, id="below"),
        pytest.param("a longer name is no path below the prefix", "/api", "/apix", False,
                     id="longer-name"),
        pytest.param("a prefix ending in X is not the shorter one: only '/' is stripped", "/apiX",
                     "/api/v1", False, id="mine-ends-in-x"),
        pytest.param("the other's X is part of its name, not a separator", "/api", "/apiX",
                     False, id="theirs-ends-in-x"),
        pytest.param("a path above the prefix is not matched", "/api/v1", "/api", False,
                     id="above"),
        pytest.param("the root is above every prefix", "/api", "/", False, id="root-above"),
    ],
)  # fmt: skip
def test_covers(reason: str, mine: str, theirs: str, *, covers: bool) -> None:
    """An app's API routes match another app's paths when its prefix is theirs or above."""
    assert _app(mine).covers(_app(theirs)) is covers, reason


CORS = {"allowOrigins": ["https://app.example.com"]}


@pytest.mark.parametrize(
    ("reason", "app", "jwt", "preflight"),
    [
        pytest.param("no CORS, no preflight to answer", {"auth": {"type": "JWT"}}, True, False,
                     id="no-cors"),
        pytest.param("behind its own JWT auth a preflight (no token) needs a public route",
                     {"cors": CORS, "auth": {"type": "JWT"}}, True, True, id="own-jwt"),
        pytest.param("a public app's preflight reaches it without a route of its own",
                     {"cors": CORS, "auth": {"type": "NONE"}}, True, False, id="public"),
        pytest.param("without auth of its own it is behind the API's JWT authorizer",
                     {"cors": CORS}, True, True, id="api-jwt"),
        pytest.param("without any JWT authorizer every request passes", {"cors": CORS}, False,
                     False, id="no-jwt"),
    ],
)  # fmt: skip
def test_needs_preflight(reason: str, app: dict[str, Any], *, jwt: bool, preflight: bool) -> None:
    """An app with CORS behind JWT auth needs public OPTIONS routes for its preflights."""
    raw: dict[str, Any] = {"name": "orders", "apps": [{"name": "orders", "service": "orders",
                                                       **app}]}  # fmt: skip
    if jwt:
        raw["apiGateway"] = {"jwt": JWT}
    spec = parse_spec(raw)
    assert spec.needs_preflight(spec.apps[0]) is preflight, reason
