"""Two tenants on one listener and VPC link, drawn at random: neither reaches the other.

Both share the platform's listener, VPC link and ingress gateway, and may even
share ``spec.name``. For every pair: the tenant header values differ, every
ingress route of one requires its own value and sends only to Services in its own
host namespace, and, behind a JWT authorizer, the API route AWS picks for any
path of an app that did not opt out requires a token.
"""

from __future__ import annotations

from typing import Any

import pytest
from apps import SHARED
from conftest import SEED, as_shape, load, platform_input
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from function import compose
from function.model import naming
from function.model.errors import InvalidError
from function.model.observed import Observed

pytestmark = pytest.mark.slow  # hundreds of random tenant pairs

JsonDict = dict[str, Any]
JWT = {"issuer": "https://auth.example.com/", "audiences": ["api"]}
SEGMENTS = st.sampled_from(["a", "api", "admin", "web", "v2", "x"])
PREFIXES = st.lists(SEGMENTS, max_size=3).map(lambda parts: "/" + "/".join(parts))
HOSTS = st.lists(st.sampled_from(["a.example.com", "b.example.com"]), max_size=1)
AUTH = st.sampled_from([None, {"type": "NONE"}, {"type": "JWT"}])
EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# A host no app names: only apps without hosts serve it.
ANY_HOST = "elsewhere.example.com"


@st.composite
def app_lists(draw: st.DrawFn) -> list[JsonDict]:
    """Apps with unique names and unique (hosts, prefix) pairs."""
    apps: list[JsonDict] = []
    taken: set[tuple[tuple[str, ...], str]] = set()
    for index in range(draw(st.integers(0, 5))):
        prefix, hosts = draw(PREFIXES), draw(HOSTS)
        if (tuple(hosts), prefix.rstrip("/") or "/") in taken:
            continue
        taken.add((tuple(hosts), prefix.rstrip("/") or "/"))
        app: JsonDict = {"name": f"app{index}", "service": f"svc{index}", "pathPrefix": prefix}
        if hosts:
            app["hosts"] = hosts
        if (auth := draw(AUTH)) is not None:
            app["auth"] = auth
        apps.append(app)
    return apps


@st.composite
def tenants(draw: st.DrawFn) -> JsonDict:
    """A seed-based XR of either shape with a random name, identity, apps and mode."""
    shape = draw(st.sampled_from(["legacy", "namespaced"]))
    xr = as_shape(load(SEED), shape)
    xr["metadata"]["name"] = draw(st.sampled_from(["env-abcde", "env-fghij", "other"]))
    if shape == "namespaced":
        xr["metadata"]["namespace"] = draw(st.sampled_from(["team-a", "team-b"]))
    spec = xr["spec"]
    spec["name"] = draw(st.sampled_from(["shop", "shop-2"]))  # often the other tenant's too
    spec["apps"] = draw(app_lists())
    spec["ingressMode"] = draw(st.sampled_from(["istio", "gatewayAPI"]))
    if draw(st.booleans()):
        spec["apiGateway"] = {**spec.get("apiGateway", {}), "jwt": JWT}
    return xr


def _composed(xr: JsonDict) -> list[JsonDict]:
    """Every manifest the tenant asks for, held back or not; none for a refused claim."""
    inp = {**platform_input(), "shared": SHARED}
    try:
        ctx = compose.context(xr, Observed({}), inp)
        return [item.manifest for item in compose.desired(ctx) if item.manifest is not None]
    except InvalidError:
        return []


def _inner(manifests: list[JsonDict], *kinds: str) -> list[JsonDict]:
    return [
        m["spec"]["forProvider"]["manifest"]
        for m in manifests
        if m["kind"] == "Object" and m["spec"]["forProvider"]["manifest"]["kind"] in kinds
    ]


def _tenant_value(manifests: list[JsonDict]) -> str:
    (integration,) = [m for m in manifests if m["kind"] == "Integration"]
    value: str = integration["spec"]["forProvider"]["requestParameters"][
        f"overwrite:header.{naming.TENANT_HEADER}"
    ]
    return value


def _routes(manifest: JsonDict) -> list[tuple[list[str], list[str]]]:
    """Each rule of a VirtualService or HTTPRoute: tenant values it requires, backend hosts."""
    if manifest["kind"] == "VirtualService":
        return [
            ([m["headers"][naming.TENANT_HEADER]["exact"] for m in rule["match"]],
             [r["destination"]["host"] for r in rule["route"]])
            for rule in manifest["spec"]["http"]
        ]  # fmt: skip
    namespace = manifest["metadata"]["namespace"]
    return [
        ([h["value"] for m in rule["matches"] for h in m["headers"]
          if h["name"] == naming.TENANT_HEADER],
         [f"{b['name']}.{namespace}.svc.cluster.local" for b in rule["backendRefs"]])
        for rule in manifest["spec"]["rules"]
    ]  # fmt: skip


def _api_route(route_keys: dict[str, str], path: str) -> str:
    """The authorization of the route API Gateway picks for ``GET path``: exact, else greedy."""
    if f"ANY {path}" in route_keys:
        return route_keys[f"ANY {path}"]
    greedy = [
        key.removeprefix("ANY ").removesuffix("/{proxy+}")
        for key in route_keys
        if key.startswith("ANY ") and key.endswith("/{proxy+}")
    ]
    best = max((base for base in greedy if path.startswith(base + "/")), key=len)
    return route_keys[f"ANY {best}/{{proxy+}}"]


def _owner(apps: list[JsonDict], path: str, host: str) -> JsonDict | None:
    """The app the ingress sends ``path`` on ``host`` to: host-bound first, longest prefix."""
    serving = [
        app for app in apps
        if (not app.get("hosts") or host in app["hosts"])
        and (path + "/").startswith(app["pathPrefix"].rstrip("/") + "/")
    ]  # fmt: skip
    ranked = sorted(serving, key=lambda a: (not a.get("hosts"), -len(a["pathPrefix"].rstrip("/"))))
    return ranked[0] if ranked else None


@EXAMPLES
@given(tenants(), tenants())
def test_tenants_never_reach_each_other(first: JsonDict, second: JsonDict) -> None:
    """No route of one tenant matches the other's header or reaches the other's Services."""
    assume(first["metadata"] != second["metadata"])  # two XRs, not one twice
    composed = [_composed(first), _composed(second)]
    assume(all(composed))
    values = [_tenant_value(m) for m in composed]
    assert values[0] != values[1]
    for mine, value in zip(composed, values, strict=True):
        (namespace,) = _inner(mine, "Namespace")
        suffix = f".{namespace['metadata']['name']}.svc.cluster.local"
        for manifest in _inner(mine, "VirtualService", "HTTPRoute"):
            for required, backends in _routes(manifest):
                assert required, "every rule requires the tenant header"
                assert set(required) == {value}
                assert all(host.endswith(suffix) for host in backends)


@EXAMPLES
@given(tenants())
def test_no_path_of_a_protected_app_is_public(xr: JsonDict) -> None:
    """Behind a JWT authorizer, each path the ingress sends to a non-opted-out app needs a token."""
    assume("jwt" in xr["spec"].get("apiGateway", {}))
    manifests = _composed(xr)
    assume(manifests)
    route_keys = {
        m["spec"]["forProvider"]["routeKey"]: m["spec"]["forProvider"]["authorizationType"]
        for m in manifests
        if m["kind"] == "Route"
    }
    apps = xr["spec"]["apps"]
    for app in apps:
        if app.get("auth", {}).get("type") == "NONE":
            continue
        host = app["hosts"][0] if app.get("hosts") else ANY_HOST
        base = app["pathPrefix"].rstrip("/")
        for path in (base or "/", f"{base}/deep/x"):
            if _owner(apps, path, host) is app:
                assert _api_route(route_keys, path) == "JWT", (app["name"], path, route_keys)
