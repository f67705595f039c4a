"""Property-based tests: random claims, hostile observed state, random round order, floats.

Everything goes through ``fn.run`` (protobuf in, protobuf out), the path Crossplane
takes, except where a property is about the pure ``compose`` entry itself.
Hypothesis runs derandomized, so CI sees the same examples on every run.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import math
import re
from typing import TYPE_CHECKING, Any

import pytest
from conftest import SEED, as_shape, example_files, load, platform_input, served
from crossplane.function import resource
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from function.compose import compose
from function.model.immutable import IMMUTABLE
from function.model.platform import FunctionInput
from function.model.spec import (
    CROSSPLANE_SPEC_FIELDS,
    AccessLogs,
    ApiGateway,
    App,
    Cors,
    EnvironmentSpec,
    Throttling,
    Vpc,
)
from function.offline import documents
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate
from function.serving import fn
from function.serving.memo import Memo

if TYPE_CHECKING:
    from collections.abc import Callable

    from crossplane.function.proto.v1 import run_function_pb2 as fnv1
    from pydantic import BaseModel

pytestmark = pytest.mark.slow  # thousands of random claims and observed states

FATAL = fn.fnv1.SEVERITY_FATAL


def complaints(rsp: Any) -> list[Any]:
    """The results other than the EnvironmentReady event (feedback): warnings and Fatals."""
    return [r for r in rsp.results if r.severity != fn.fnv1.SEVERITY_NORMAL]


READY_TRUE = fn.fnv1.READY_TRUE
READY_FALSE = fn.fnv1.READY_FALSE
SHAPES = ("legacy", "namespaced")
JsonDict = dict[str, Any]
Observed = dict[str, JsonDict]


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


# --- The values a claim may hold (the claim schema, written out independently) ---------------

LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
HEX = "0123456789abcdef"
INCLUDES = ("grafana", "prometheus", "apiGatewaySupport")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*")
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "us-gov-west-1", "ap-south-1")
# "<name>-<16 hex>" must fit a 63-character DNS label; the namespace and elbv2 names are cut.
MAX_NAMESPACE_ENV = 45
PLATFORM_REGION = "us-east-1"  # platform_input()'s, and the shared LISTENER's
LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
    "listener/net/shared/0123456789abcdef/0123456789abcdef"
)
VPC_LINK = "abc123"

# Anchored as pydantic-core's Rust regex anchors them: '$' is the end of the text.
PATTERNS = {
    "label": r"[a-z]([-a-z0-9]*[a-z0-9])?",
    "subnet": r"subnet-[0-9a-f]{8}([0-9a-f]{9})?",
    "sg": r"sg-[0-9a-f]{8}([0-9a-f]{9})?",
    "vpc": r"vpc-[0-9a-f]{8}([0-9a-f]{9})?",
    "region": r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d",
    "domain": r"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    "listener": (
        r"arn:aws(-cn|-us-gov)?:elasticloadbalancing:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:"
        r"listener/(net|app)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}"
    ),
    "vpc-link": r"[a-z0-9]{6,12}",
    "stage": r"(\$default|[A-Za-z0-9_-]{1,128})",
    "path": r"/[-A-Za-z0-9._~/]*",
    "origin": r"(\*|https?://[-a-z0-9.*]+(:\d{1,5})?)",
    "semver": r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?",
    "https": r"https://[-a-zA-Z0-9.:/_%~]+",
    "zone": r"Z[A-Z0-9]{1,31}",
    # The function input's Kubernetes, AWS and Helm formats.
    "http-path": r"/[-A-Za-z0-9._~!$&+,;=:@%/?]*",
    "object-name": r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    "label-key": (
        r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
    ),
    "repository": r"(https?|oci)://[-A-Za-z0-9._~!$&+,;=:@%/?#]+",
    "chart": r"[A-Za-z0-9._-]+",
}
MAX_LENGTH = {
    "label": 63,
    "domain": 253,
    "path": 256,
    "region": 32,
    "listener": 256,
    "origin": 267,
    "semver": 64,
    "http-path": 1024,
    "object-name": 253,
    "label-key": 317,
    "repository": 2048,
    "chart": 250,
}

# The object at each path a mutation may add an unknown key to.
MODELS: dict[str, type[BaseModel]] = {
    "spec": EnvironmentSpec,
    "spec.vpc": Vpc,
    "spec.apiGateway": ApiGateway,
    "spec.apiGateway.cors": Cors,
    "spec.apiGateway.throttling": Throttling,
    "spec.apiGateway.accessLogs": AccessLogs,
    "spec.apps[]": App,
    "input": FunctionInput,
}


def known_keys(where: str) -> set[str]:
    """Keys the model at a path accepts: aliases and (populate_by_name) field names."""
    fields = MODELS[where].model_fields
    keys = set(fields) | {f.alias for f in fields.values() if f.alias}
    return keys | (set(CROSSPLANE_SPEC_FIELDS) if where == "spec" else set())


def unknown_keys(where: str) -> st.SearchStrategy[str]:
    """Keys the object at a path does not know."""
    taken = known_keys(where)
    return st.one_of(
        st.sampled_from(["extra", "apiVersion", "Name", "subnetIDs", "", " name", "name "]),
        st.text(max_size=24),
    ).filter(lambda key: key not in taken)


def matches(kind: str, value: object) -> bool:
    """Whether a value is a valid string of one of the schema's patterns."""
    return (
        isinstance(value, str)
        and re.fullmatch(PATTERNS[kind], value) is not None
        and len(value) <= MAX_LENGTH.get(kind, math.inf)
        and (kind != "path" or not re.search(r"//|/\.\.?(/|$)", value))
        # A label key's prefix is a DNS subdomain: at most 253 characters.
        and (kind != "label-key" or len(value.rpartition("/")[0]) <= MAX_LENGTH["object-name"])
    )


def dns_labels(min_size: int = 1, max_size: int = 20) -> st.SearchStrategy[str]:
    """Valid DNS labels of a length in the given range."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        size = draw(st.integers(min_size, max_size))
        first = draw(st.sampled_from(LOWER))
        if size == 1:
            return first
        middle = draw(st.text(LOWER + DIGITS + "-", min_size=size - 2, max_size=size - 2))
        return first + middle + draw(st.sampled_from(LOWER + DIGITS))

    return build()


def _prefixed(prefix: str, alphabet: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=max_size).map(lambda s: prefix + s)


def _aws_ids(prefix: str) -> st.SearchStrategy[str]:
    """AWS resource ids: the prefix, '-' and 8 or 17 lower-case hex digits."""
    return st.one_of(_prefixed(prefix, HEX, 8, 8), _prefixed(prefix, HEX, 17, 17))


SUBNETS = _aws_ids("subnet-")
SECURITY_GROUPS = _aws_ids("sg-")
VPC_IDS = _aws_ids("vpc-")
DOMAINS = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(dns_labels(1, 12), min_size=1, max_size=3),
    st.text(LOWER, min_size=2, max_size=6),
)
LISTENER_ARNS = st.builds(
    lambda region, account, kind, name, lb, listener: (
        f"arn:aws:elasticloadbalancing:{region}:{account}:listener/{kind}/{name}/{lb}/{listener}"
    ),
    st.sampled_from(REGIONS),
    st.text(DIGITS, min_size=12, max_size=12),
    st.sampled_from(["net", "app"]),
    dns_labels(1, 20),
    st.text(HEX, min_size=16, max_size=16),
    st.text(HEX, min_size=16, max_size=16),
)
VPC_LINK_IDS = st.text(LOWER + DIGITS, min_size=6, max_size=12)
STAGES = st.one_of(
    st.just("$default"),
    st.text(LOWER + LOWER.upper() + DIGITS + "_-", min_size=1, max_size=24),
)
ORIGINS = st.one_of(
    st.just("*"),
    st.builds(
        lambda scheme, host, port: f"{scheme}://{host}{port}",
        st.sampled_from(["http", "https"]),
        DOMAINS,
        st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
    ),
)
PATH_PREFIXES = st.one_of(
    st.just("/"),
    st.lists(
        # Normalized: proxies resolve '.' and '..' segments before matching.
        st.text(LOWER + DIGITS + "-._~", min_size=1, max_size=10).filter(
            lambda s: s not in {".", ".."}
        ),
        max_size=4,
    ).map(lambda parts: "/" + "/".join(parts)),
)
THROTTLING = st.fixed_dictionaries(
    {},
    optional={
        "burstLimit": st.integers(0, 5000),
        "rateLimit": st.one_of(st.integers(0, 10000), st.floats(0, 10000, allow_nan=False)),
    },
)
JWT = st.fixed_dictionaries(
    {
        "issuer": DOMAINS.map(lambda d: f"https://{d}/"),
        "audiences": st.lists(dns_labels(1, 16), min_size=1, max_size=3),
    },
    optional={"identitySource": st.sampled_from(["$request.header.X-Token"])},
)
SCOPE = st.text(LOWER + ":", min_size=1, max_size=12)
SCOPES = st.lists(SCOPE, max_size=2)


@st.composite
def apps(draw: st.DrawFn, *, jwt: bool) -> list[JsonDict]:
    """Apps with unique names and unique API routes; JWT auth only with an authorizer."""
    auth = st.one_of(
        st.just({"type": "NONE"}),
        *(
            [st.builds(lambda scopes: {"type": "JWT", "scopes": scopes}, SCOPES), st.just({})]
            if jwt
            else []
        ),
    )
    one = st.fixed_dictionaries(
        {"name": dns_labels(1, 20), "service": dns_labels(1, 30)},
        optional={
            "pathPrefix": PATH_PREFIXES,
            "namespace": dns_labels(1, 30),
            "port": st.integers(1, 65535),
            "auth": auth,
            "throttling": THROTTLING,
        },
    )
    return draw(
        st.lists(
            one,
            max_size=5,
            # '/a' and '/a/' are one API route: prefixes must differ without the slash.
            unique_by=(lambda a: a["name"], lambda a: a.get("pathPrefix", "/").rstrip("/")),
        )
    )


@st.composite
def cors_options(draw: st.DrawFn) -> JsonDict:
    """A valid CORS block: credentials only without the '*' origin."""
    credentials = draw(st.booleans())
    origins = draw(st.lists(ORIGINS, unique=True, max_size=3))
    if credentials:
        origins = [o for o in origins if o != "*"]
    options = {
        "allowOrigins": origins,
        "allowCredentials": credentials,
        "allowMethods": draw(st.lists(st.sampled_from(METHODS), unique=True, max_size=4)),
        "allowHeaders": draw(st.lists(st.text(LOWER + "-", min_size=1, max_size=16), max_size=3)),
        "maxAge": draw(st.integers(0, 86400)),
    }
    keep = draw(st.sets(st.sampled_from(sorted(options))))
    return {k: v for k, v in options.items() if k in keep or (k == "allowOrigins" and credentials)}


API_GATEWAY_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "stageName": STAGES,
        "cors": cors_options(),
        "throttling": THROTTLING,
        "integrationTimeoutMs": st.integers(50, 30000),
        "accessLogs": st.fixed_dictionaries(
            {},
            optional={"enabled": st.booleans(), "retentionDays": st.sampled_from(RETENTION_DAYS)},
        ),
        "listenerArn": LISTENER_ARNS,
        "vpcLinkId": VPC_LINK_IDS,
        "jwt": JWT,
        "customDomain": st.booleans(),
    },
)
SHARED = st.sampled_from(
    [
        None,
        {"listenerArn": LISTENER},
        {"vpcLinkId": VPC_LINK},
        {"listenerArn": LISTENER, "vpcLinkId": VPC_LINK},
    ]
)


@dataclasses.dataclass
class Case:
    """A composite resource and the function input to compose it with."""

    xr: JsonDict
    inp: JsonDict

    @property
    def spec(self) -> JsonDict:
        """The composite's spec (a dict in every valid case)."""
        return self.xr["spec"]


@st.composite
def valid_specs(draw: st.DrawFn, shared: JsonDict | None = None) -> JsonDict:
    """A claim spec that satisfies every rule, given the platform's shared listener/link."""
    shared = shared or {}
    include = draw(st.lists(st.sampled_from(INCLUDES), unique=True))
    api_gateway = draw(API_GATEWAY_OPTIONS)
    composes_gateway = "apiGatewaySupport" in include
    listener = "listenerArn" in api_gateway or "listenerArn" in shared
    link = "vpcLinkId" in api_gateway or "vpcLinkId" in shared
    spec: JsonDict = {"name": draw(dns_labels(1, MAX_NAMESPACE_ENV))}
    min_subnets = 1 if composes_gateway and not (listener and link) else 0
    vpc = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "vpcId": VPC_IDS,
                "securityGroupIds": st.lists(SECURITY_GROUPS, unique=True, max_size=3),
            },
        )
    )
    composes_hop = composes_gateway and not (listener and link)
    if composes_hop and not vpc.get("securityGroupIds"):
        # A composed security group needs the VPC; a shared VPC link's groups must be
        # named for the composed NLB group to let them in.
        vpc["vpcId"] = vpc.get("vpcId") or draw(VPC_IDS)
        if link and not listener:
            groups = st.lists(SECURITY_GROUPS, unique=True, min_size=1, max_size=3)
            vpc["securityGroups"] = {"vpcLink": draw(groups)}
    subnets = draw(st.lists(SUBNETS, min_size=min_subnets, max_size=10, unique=True))
    if subnets or draw(st.booleans()):
        vpc["subnetIds"] = subnets
    if vpc or draw(st.booleans()):
        spec["vpc"] = vpc
    if include or draw(st.booleans()):
        spec["include"] = include
    if api_gateway or draw(st.booleans()):
        spec["apiGateway"] = api_gateway
    optional = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "domain": DOMAINS,
                "region": st.sampled_from(REGIONS),
                "apps": apps(jwt="jwt" in api_gateway),
                "dns": st.fixed_dictionaries(
                    {}, optional={"hostedZoneId": _prefixed("Z", DIGITS + LOWER.upper(), 1, 31)}
                ),
            },
        )
    )
    # A VPC link reaches only listeners in the environment's own region.
    region = optional.get("region", PLATFORM_REGION)
    if "listenerArn" in api_gateway:
        parts = api_gateway["listenerArn"].split(":")
        api_gateway["listenerArn"] = ":".join([*parts[:3], region, *parts[4:]])
    elif "listenerArn" in shared:
        optional["region"] = PLATFORM_REGION
    return {**spec, **optional}


def _input(shared: JsonDict | None) -> JsonDict:
    inp = platform_input()
    if shared:
        inp["shared"] = dict(shared)
    return inp


@st.composite
def valid_cases(draw: st.DrawFn) -> Case:
    """A valid claim as a legacy or namespaced XR, with a valid function input."""
    shared = draw(SHARED)
    spec = draw(valid_specs(shared))
    claim = {
        "apiVersion": "platform.example.org/v1alpha1",
        "kind": "VClusterEnvironmentClaim",
        "metadata": {"name": draw(dns_labels(1, 30)), "namespace": draw(dns_labels(1, 20))},
        "spec": spec,
    }
    return Case(as_shape(claim, draw(st.sampled_from(SHAPES))), _input(shared))


EXAMPLE_CASES = [
    Case(as_shape(load(path), shape), platform_input())
    for path in example_files()
    for shape in SHAPES
]
ANY_VALID = st.one_of(st.sampled_from(EXAMPLE_CASES), valid_cases())


# --- Mutations: one field of a valid case made invalid, and the path the Fatal must name -----
# Each mutation breaks one thing and returns the dotted path the message must start with.

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
JSON_SCALARS = st.one_of(
    NON_FINITE,
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
NOT_A_STRING = st.one_of(
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(JSON_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=3),
)
NOT_AN_OBJECT = st.one_of(
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.lists(JSON_SCALARS, max_size=3),
)
NOT_A_LIST = st.one_of(
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.text(max_size=12),
    st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=3),
)
# Words pydantic's lax mode would read as booleans; the spec's scalars are strict now (see
# REGRESSIONS), and this generator keeps to values that are wrong in any mode.
_BOOL_WORDS = {"0", "1", "f", "t", "n", "y", "no", "on", "off", "yes", "true", "false"}
NOT_AN_INTEGER = st.one_of(
    NON_FINITE,
    st.text(LOWER, min_size=1, max_size=8).filter(lambda s: s not in _BOOL_WORDS),
    st.lists(st.integers(0, 9), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(0, 9), max_size=2),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
)
NOT_A_BOOLEAN = st.one_of(
    st.text(max_size=8).filter(lambda s: s.strip().lower() not in _BOOL_WORDS),
    st.integers(2, 2**53),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f not in {0.0, 1.0}),
    st.lists(st.integers(0, 1), max_size=2),
)
NEAR_MISSES = {
    "label": ["Upper", "-start", "end-", "1abc", "a_b", "", "a" * 64, "ünïcode", "a.b", "a b"],
    "subnet": [
        "12345abcde",
        "subnet-",
        "subnet-ABC",
        "subnet-67890fghij",
        "subnet-0123456789",
        " subnet-0123abcd",
        "subnet-0123abcd\n",
    ],
    "sg": ["api-access", "sg-", "sg-api-gateway-access", "sg-0123ABCD", "SG-0123abcd"],
    "vpc": ["vpc-xyz", "vpc-1234567", "vpc-0123456789abcdef01", "VPC-01234567", "vpc-0123456789"],
    "region": [
        "us-east",
        "US-EAST-1",
        "useast1",
        "us-east-1a",
        "mars-north-1 ",
        f"us-{'a' * 40}-1",
    ],
    "domain": ["Example.com", "nodot", "a..b", "-a.com", "a.c", "a.com.", "*.example.com"],
    "listener": ["arn:aws:elasticloadbalancing:us-east-1:123:listener/net/x", "listener"],
    "vpc-link": ["abc", "ABC123", "abc-123", "abcdefghijklm"],
    "stage": ["", "$latest", "has space", "a/b", "x" * 129],
    "path": ["api", "", "/a b", "/a?b", "/" + "a" * 256, "/ü", "/a//b", "/a/../b", "/."],
    "origin": [
        "example.com",
        "ftp://a.com",
        "https://A.com",
        "https://a.com/",
        "**",
        "https://" + "o" * 260,
    ],
    "semver": ["1.2", "v1.2.3", "latest", "1.2.3.4", "1.2.3-" + "a" * 59],
    "https": ["http://auth.example.com", "auth.example.com", "https://", "https://a b"],
    "zone": ["z123", "Z", "Z-12", "ZABC.", "12345"],
    "http-path": ["healthz", "", "/a b", "/a\r\nb", "/" + "a" * 1024, "/ü", '/a"b', "/<x>"],
    "object-name": ["Default", "", "a_b", "-a", "a-", "a..b", "a" * 254, "a\n"],
    "label-key": [
        "",
        "a b",
        "-a",
        "a-",
        "a/b/c",
        "Example.com/a",
        "/a",
        "a/",
        "a" * 64,
        "p" * 254 + "/a",
    ],
    "repository": [
        "charts.loft.sh",
        "file:///etc",
        "https://",
        "https://a b",
        "ftp://x",
        "https://" + "a" * 2041,
    ],
    "chart": ["", "a/b", "../x", "a b", "a" * 251, "ü"],
}


def bad(kind: str) -> st.SearchStrategy[str]:
    """Strings that break a pattern (or its maximum length)."""
    return st.one_of(st.sampled_from(NEAR_MISSES[kind]), st.text(max_size=40)).filter(
        lambda s: not matches(kind, s)
    )


def _index_into(draw: st.DrawFn, items: list[Any], value: Any) -> int:
    index = draw(st.integers(0, len(items)))
    items.insert(index, value)
    return index


def _ag(case: Case) -> JsonDict:
    return case.spec.setdefault("apiGateway", {})


def _app(draw: st.DrawFn, case: Case) -> tuple[int, JsonDict]:
    items = case.spec.setdefault("apps", [])
    if not items:
        items.append({"name": "web", "service": "web", "pathPrefix": "/"})
    index = draw(st.integers(0, len(items) - 1))
    return index, items[index]


def _set_at(draw: st.DrawFn, case: Case, field: str, value: Any) -> str:
    """Put a value at a field path under spec ('[]' appends to a list); returns the path."""
    target: Any = case.spec
    path = "spec"
    parts = field.split(".")
    for part in parts[:-1]:
        if part == "apps[]":
            index, target = _app(draw, case)
            path += f".apps[{index}]"
        else:
            target = target.setdefault(part, {})
            path += f".{part}"
    last = parts[-1]
    if last.endswith("[]"):
        items = target.setdefault(last[:-2], [])
        return f"{path}.{last[:-2]}[{_index_into(draw, items, value)}]"
    target[last] = value
    return f"{path}.{last}"


def _without_given_listener(case: Case) -> None:
    include = case.spec.setdefault("include", [])
    if "apiGatewaySupport" not in include:
        include.append("apiGatewaySupport")
    _ag(case).pop("listenerArn", None)
    _ag(case).pop("vpcLinkId", None)
    case.inp.pop("shared", None)


def _with_gateway(case: Case) -> None:
    """Compose the API Gateway, keeping the claim valid (subnets, a short enough name)."""
    _without_given_listener(case)
    vpc = case.spec.setdefault("vpc", {})
    vpc["subnetIds"] = vpc.get("subnetIds") or ["subnet-0000000a"]
    vpc["vpcId"] = vpc.get("vpcId") or "vpc-0123abcd"  # the composed security groups' VPC


def m_spec_not_object(draw: st.DrawFn, case: Case) -> str:
    case.xr["spec"] = draw(NOT_AN_OBJECT)
    return "spec"


def m_spec_missing(draw: st.DrawFn, case: Case) -> str:
    if draw(st.booleans()):
        case.xr["spec"] = None
    else:
        del case.xr["spec"]
    return "spec"


def m_unknown_key(draw: st.DrawFn, case: Case) -> str:
    where = draw(st.sampled_from(sorted(MODELS)))
    key = draw(unknown_keys(where))
    value = draw(JSON_SCALARS)
    if where == "input":
        case.inp[key] = value
        return f"input.{key}"
    target = case.spec
    path = "spec"
    for part in where.split(".")[1:]:
        if part == "apps[]":
            index, target = _app(draw, case)
            path += f".apps[{index}]"
        else:
            target = target.setdefault(part, {})
            path += f".{part}"
    target[key] = value
    return f"{path}.{key}"


def m_name_wrong_type(draw: st.DrawFn, case: Case) -> str:
    case.spec["name"] = draw(st.one_of(st.none(), NOT_A_STRING))
    return "spec.name"


def m_name_missing(_: st.DrawFn, case: Case) -> str:
    del case.spec["name"]
    return "spec.name"


def m_name_pattern(draw: st.DrawFn, case: Case) -> str:
    case.spec["name"] = draw(bad("label"))
    return "spec.name"


def m_name_too_long_for_namespace(draw: st.DrawFn, case: Case) -> str:
    case.spec["name"] = draw(dns_labels(MAX_NAMESPACE_ENV + 1, 63))
    return "spec.name"


def m_no_subnets(draw: st.DrawFn, case: Case) -> str:
    _without_given_listener(case)
    vpc = case.spec.setdefault("vpc", {})
    if draw(st.booleans()):
        vpc["subnetIds"] = []
    else:
        vpc.pop("subnetIds", None)
    return "spec.vpc.subnetIds"


# (field path under spec, pattern kind); '[]' appends to a list, 'apps[]' picks an app.
PATTERN_FIELDS = (
    ("domain", "domain"),
    ("region", "region"),
    ("vpc.vpcId", "vpc"),
    ("vpc.subnetIds[]", "subnet"),
    ("vpc.securityGroupIds[]", "sg"),
    ("apiGateway.stageName", "stage"),
    ("apiGateway.cors.allowOrigins[]", "origin"),
    ("apiGateway.listenerArn", "listener"),
    ("apiGateway.vpcLinkId", "vpc-link"),
    ("apps[].name", "label"),
    ("apps[].service", "label"),
    ("apps[].namespace", "label"),
    ("apps[].pathPrefix", "path"),
    ("dns.hostedZoneId", "zone"),
)


def m_pattern(draw: st.DrawFn, case: Case) -> str:
    field, kind = draw(st.sampled_from(PATTERN_FIELDS))
    return _set_at(draw, case, field, draw(bad(kind)))


def m_jwt_issuer(draw: st.DrawFn, case: Case) -> str:
    _ag(case)["jwt"] = {"issuer": draw(bad("https")), "audiences": ["api"]}
    return "spec.apiGateway.jwt.issuer"


def m_jwt_audiences(draw: st.DrawFn, case: Case) -> str:
    audiences = draw(st.one_of(st.just([]), st.lists(st.just("a"), min_size=51, max_size=55)))
    _ag(case)["jwt"] = {"issuer": "https://auth.example.com/", "audiences": audiences}
    return "spec.apiGateway.jwt.audiences"


def m_jwt_missing(draw: st.DrawFn, case: Case) -> str:
    _ag(case).pop("jwt", None)
    _, app = _app(draw, case)
    app["auth"] = draw(st.sampled_from([{}, {"type": "JWT"}, {"scopes": ["read"]}]))
    return "spec.apiGateway.jwt"


def m_scopes_without_jwt(draw: st.DrawFn, case: Case) -> str:
    index, app = _app(draw, case)
    app["auth"] = {"type": "NONE", "scopes": draw(st.lists(SCOPE, min_size=1, max_size=2))}
    return f"spec.apps[{index}].auth.scopes"


def _twins(draw: st.DrawFn, case: Case, first: JsonDict, second: JsonDict) -> int:
    """Append two apps with fresh names in random order; returns the later one's index."""
    items = case.spec.setdefault("apps", [])
    names = {a["name"] for a in items}
    fresh = [n for n in (f"twin{i}" for i in range(len(names) + 2)) if n not in names]
    pair = [
        {"name": fresh[0], "service": "s", **first},
        {"name": fresh[1], "service": "s", **second},
    ]
    items.extend(pair if draw(st.booleans()) else pair[::-1])
    return len(items) - 1


def m_trailing_slash_twin(draw: st.DrawFn, case: Case) -> str:
    index = _twins(draw, case, {"pathPrefix": "/~twin"}, {"pathPrefix": "/~twin/"})
    return f"spec.apps[{index}].pathPrefix"


def m_route_conflict(draw: st.DrawFn, case: Case) -> str:
    # Hosts tell the apps apart at the ingress, but API Gateway routes know no hosts.
    _with_gateway(case)
    first = {"pathPrefix": "/~twin", "hosts": ["a.example.com"], "throttling": {}}
    second = {"pathPrefix": "/~twin", "hosts": ["b.example.com"], "auth": {"type": "NONE"}}
    return f"spec.apps[{_twins(draw, case, first, second)}].auth"


def m_huge_string(draw: st.DrawFn, case: Case) -> str:
    field = draw(st.sampled_from(["name", *(f for f, _ in PATTERN_FIELDS)]))
    size = draw(st.sampled_from([10_000, 1_000_000, 5_000_000]))
    value = draw(st.sampled_from(["a", "é", "-"])) * size
    return _set_at(draw, case, field, value)


def m_string_wrong_type(draw: st.DrawFn, case: Case) -> str:
    field, _ = draw(st.sampled_from(PATTERN_FIELDS))
    return _set_at(draw, case, field, draw(NOT_A_STRING))


OBJECT_FIELDS = (
    "vpc",
    "apiGateway",
    "apiGateway.cors",
    "apiGateway.throttling",
    "apiGateway.accessLogs",
    "apiGateway.jwt",
    "apps[]",
    "apps[].auth",
    "apps[].throttling",
    "dns",
)
NULLABLE = {"apiGateway.throttling", "apiGateway.jwt", "apps[].auth", "apps[].throttling"}


def m_object_wrong_type(draw: st.DrawFn, case: Case) -> str:
    field = draw(st.sampled_from(OBJECT_FIELDS))
    wrong = NOT_AN_OBJECT if field in NULLABLE else st.one_of(st.none(), NOT_AN_OBJECT)
    return _set_at(draw, case, field, draw(wrong))


LIST_FIELDS = (
    "include",
    "apps",
    "vpc.subnetIds",
    "vpc.securityGroupIds",
    "apiGateway.cors.allowOrigins",
    "apiGateway.cors.allowMethods",
    "apiGateway.cors.allowHeaders",
)


def m_list_wrong_type(draw: st.DrawFn, case: Case) -> str:
    field = draw(st.sampled_from(LIST_FIELDS))
    return _set_at(draw, case, field, draw(st.one_of(st.none(), NOT_A_LIST)))


# (field, lowest valid, highest valid)
INTEGER_FIELDS = (
    ("apiGateway.cors.maxAge", 0, 86400),
    ("apiGateway.throttling.burstLimit", 0, 5000),
    ("apiGateway.integrationTimeoutMs", 50, 30000),
    ("apps[].port", 1, 65535),
    ("apps[].throttling.burstLimit", 0, 5000),
)


def m_integer_out_of_range(draw: st.DrawFn, case: Case) -> str:
    field, low, high = draw(st.sampled_from(INTEGER_FIELDS))
    value = draw(st.one_of(st.integers(-(2**63), low - 1), st.integers(high + 1, 2**63)))
    return _set_at(draw, case, field, value)


def m_integer_wrong_type(draw: st.DrawFn, case: Case) -> str:
    field, _, _ = draw(st.sampled_from(INTEGER_FIELDS))
    return _set_at(draw, case, field, draw(NOT_AN_INTEGER))


def m_rate_limit(draw: st.DrawFn, case: Case) -> str:
    value = draw(
        st.one_of(
            st.floats(max_value=-1e-9, allow_infinity=False),
            st.floats(min_value=10000.000001, allow_infinity=False),
            st.text(LOWER, min_size=1, max_size=5).filter(lambda s: s not in {"inf", "nan"}),
            st.lists(st.integers(0, 9), max_size=2),
            NON_FINITE,
        )
    )
    field = draw(st.sampled_from(["apiGateway.throttling", "apps[].throttling"]))
    return _set_at(draw, case, f"{field}.rateLimit", value)


def m_boolean_wrong_type(draw: st.DrawFn, case: Case) -> str:
    fields = ["apiGateway.cors.allowCredentials", "apiGateway.accessLogs.enabled"]
    fields.append("apiGateway.customDomain")
    return _set_at(draw, case, draw(st.sampled_from(fields)), draw(NOT_A_BOOLEAN))


def m_retention(draw: st.DrawFn, case: Case) -> str:
    days = draw(st.integers(-10, 5000).filter(lambda d: d not in RETENTION_DAYS))
    _ag(case).setdefault("accessLogs", {})["retentionDays"] = days
    return "spec.apiGateway.accessLogs.retentionDays"


def m_wildcard_with_credentials(draw: st.DrawFn, case: Case) -> str:
    cors = _ag(case).setdefault("cors", {})
    origins = [o for o in cors.get("allowOrigins", []) if o != "*"]
    _index_into(draw, origins, "*")
    cors["allowOrigins"] = origins
    cors["allowCredentials"] = True
    return "spec.apiGateway.cors.allowOrigins"


def m_too_many_subnets(draw: st.DrawFn, case: Case) -> str:
    count = draw(st.integers(11, 16))
    case.spec.setdefault("vpc", {})["subnetIds"] = [f"subnet-{i:08x}" for i in range(count)]
    return "spec.vpc.subnetIds"


def m_duplicate_subnet(draw: st.DrawFn, case: Case) -> str:
    subnets = case.spec.setdefault("vpc", {}).setdefault("subnetIds", [])
    subnets[:] = subnets[:9] or ["subnet-000000d1"]
    _index_into(draw, subnets, draw(st.sampled_from(subnets)))
    return "spec.vpc.subnetIds"


def m_duplicate_security_group(draw: st.DrawFn, case: Case) -> str:
    groups = case.spec.setdefault("vpc", {}).setdefault("securityGroupIds", [])
    groups[:] = groups or ["sg-000000d1"]
    _index_into(draw, groups, draw(st.sampled_from(groups)))
    return "spec.vpc.securityGroupIds"


def m_unknown_include(draw: st.DrawFn, case: Case) -> str:
    items = case.spec.setdefault("include", [])
    value = draw(st.one_of(st.text(max_size=12), NOT_A_STRING).filter(lambda v: v not in INCLUDES))
    return f"spec.include[{_index_into(draw, items, value)}]"


def m_duplicate_include(draw: st.DrawFn, case: Case) -> str:
    items = case.spec.setdefault("include", [])
    items[:] = items or ["grafana"]
    _index_into(draw, items, draw(st.sampled_from(items)))
    return "spec.include"


def m_bad_method(draw: st.DrawFn, case: Case) -> str:
    value = draw(st.one_of(st.text(max_size=8), NOT_A_STRING).filter(lambda v: v not in METHODS))
    return _set_at(draw, case, "apiGateway.cors.allowMethods[]", value)


def m_app_missing_field(draw: st.DrawFn, case: Case) -> str:
    index, app = _app(draw, case)
    field = draw(st.sampled_from(["name", "service"]))
    del app[field]
    return f"spec.apps[{index}].{field}"


def m_duplicate_app_name(draw: st.DrawFn, case: Case) -> str:
    _, app = _app(draw, case)
    items = case.spec["apps"]
    twin = {"name": app["name"], "service": "twin", "pathPrefix": f"/~twin{len(items)}"}
    _index_into(draw, items, twin)
    return "spec.apps[].name"


def m_duplicate_app_prefix(draw: st.DrawFn, case: Case) -> str:
    _, app = _app(draw, case)
    items = case.spec["apps"]
    names = {a["name"] for a in items}
    name = next(f"twin{i}" for i in range(len(names) + 1) if f"twin{i}" not in names)
    twin = {"name": name, "service": "twin", "pathPrefix": app.get("pathPrefix", "/")}
    if "hosts" in app:
        twin["hosts"] = app["hosts"]
    _index_into(draw, items, twin)
    return "spec.apps[].pathPrefix"


def m_too_many_apps(draw: st.DrawFn, case: Case) -> str:
    count = draw(st.integers(301, 320))
    case.spec["apps"] = [
        {"name": f"app{i}", "service": f"svc{i}", "pathPrefix": f"/p{i}"} for i in range(count)
    ]
    return "spec.apps"


# Label names for a selector that is too long rather than malformed.
LABEL_NAMES = st.text(LOWER + DIGITS, min_size=1, max_size=10)
# Function input fields: (path under input, strategy of invalid values).
API_VERSION_SUFFIX = "fn.platform.example.org/v1beta1"
CONFIG_KINDS = {"ClusterProviderConfig", "ProviderConfig"}
INPUT_FIELDS = (
    ("kind", st.text(max_size=10).filter(lambda s: s != "Input")),
    ("apiVersion", st.text(max_size=60).filter(lambda s: not s.endswith(API_VERSION_SUFFIX))),
    ("region", bad("region")),
    ("stageName", bad("stage")),
    ("pollSeconds", st.one_of(st.integers(-(2**63), 0), st.integers(601, 2**63), NOT_AN_INTEGER)),
    ("integrationTimeoutMs", st.one_of(st.integers(-(2**63), 49), st.integers(30001, 2**63))),
    ("shared.listenerArn", bad("listener")),
    ("shared.vpcLinkId", bad("vpc-link")),
    ("ingressGateway.namespace", bad("label")),
    ("ingressGateway.servicePort", st.one_of(st.integers(-(2**63), 0), st.integers(65536, 2**63))),
    ("charts.vcluster.version", bad("semver")),
    ("providerConfigs.kind", st.text(max_size=20).filter(lambda s: s not in CONFIG_KINDS)),
    ("providerConfigs", NOT_AN_OBJECT),
    ("ingressGateway.selector", NOT_AN_OBJECT),
    (
        "ingressGateway.selector",
        st.dictionaries(bad("label-key"), st.just("x"), min_size=1, max_size=2),
    ),
    (
        "ingressGateway.selector",
        st.dictionaries(LABEL_NAMES, st.just("x"), min_size=17, max_size=20),
    ),
    ("ingressGateway.healthCheckPath", bad("http-path")),
    ("providerConfigs.aws", bad("object-name")),
    ("charts.vcluster.repository", bad("repository")),
    ("charts.grafana.name", bad("chart")),
    ("dns.hostedZoneId", bad("zone")),
)


def m_input(draw: st.DrawFn, case: Case) -> str:
    field, values = draw(st.sampled_from(INPUT_FIELDS))
    target = case.inp
    parts = field.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = draw(values)
    return f"input.{field}"


MUTATIONS = (
    # hypothesis leans towards the first choice: the broadest mutations come first.
    m_pattern, m_string_wrong_type, m_unknown_key, m_integer_out_of_range, m_input,
    m_object_wrong_type, m_list_wrong_type, m_integer_wrong_type, m_rate_limit,
    m_boolean_wrong_type, m_huge_string, m_name_wrong_type, m_name_missing, m_name_pattern,
    m_name_too_long_for_namespace, m_no_subnets, m_jwt_issuer,
    m_jwt_audiences, m_jwt_missing, m_scopes_without_jwt, m_route_conflict,
    m_trailing_slash_twin, m_retention, m_wildcard_with_credentials, m_too_many_subnets,
    m_duplicate_subnet, m_duplicate_security_group, m_unknown_include, m_duplicate_include,
    m_bad_method, m_app_missing_field, m_duplicate_app_name, m_duplicate_app_prefix,
    m_too_many_apps, m_spec_not_object, m_spec_missing,
)  # fmt: skip


@st.composite
def invalid_cases(draw: st.DrawFn) -> tuple[Case, str, str]:
    """A valid case with exactly one thing broken, and the path its Fatal must name."""
    case = copy.deepcopy(draw(ANY_VALID))
    mutation = draw(st.sampled_from(MUTATIONS))
    path = mutation(draw, case)
    return case, path, mutation.__name__


# --- Running the function ---------------------------------------------------------------------


def run(case: Case, observed: Observed | None = None) -> fnv1.RunFunctionResponse:
    """One call of the function through protobuf."""
    return fn.run(documents.request(case.xr, observed or {}, case.inp))


def _wire(rsp: fnv1.RunFunctionResponse) -> bytes:
    return rsp.SerializeToString(deterministic=True)


def _ready_values(rsp: fnv1.RunFunctionResponse) -> dict[str, int]:
    return {key: rsp.desired.resources[key].ready for key in rsp.desired.resources}


# A dotted field path: names, list indexes, or '[]' for "some item of the list".
FIELD_PATH = re.compile(r"^(spec|input)(\.[A-Za-z][A-Za-z0-9]*|\[\d+\]|\[\])*: \S")
MAX_MESSAGE = 1000


@_settings(1500)
@given(invalid_cases())
def test_invalid_claim_gives_one_fatal_naming_the_field(invalid: tuple[Case, str, str]) -> None:
    """Any claim or input broken in one field is refused with one Fatal that names that field."""
    case, path, mutation = invalid
    event(mutation)
    rsp = run(case)
    assert [r.severity for r in rsp.results] == [FATAL], mutation
    message = rsp.results[0].message
    assert message.startswith(f"{path}: "), (mutation, message[:300])
    if mutation != "m_unknown_key":
        assert FIELD_PATH.match(message), message[:300]
        assert len(message) <= MAX_MESSAGE, message[:300]
    assert not rsp.desired.resources


@_settings(600)
@given(ANY_VALID)
def test_valid_claim_gives_no_result(case: Case) -> None:
    """A valid claim gives no Fatal or warning, and every resource it starts has a readiness."""
    rsp = run(case)
    assert complaints(rsp) == []
    assert "namespace" in rsp.desired.resources
    assert set(_ready_values(rsp).values()) == {READY_FALSE}
    assert rsp.desired.composite.ready == READY_FALSE


# --- Observed state: converged, then perturbed ------------------------------------------------


def _key(case: Case) -> tuple[str, str]:
    return json.dumps(case.xr, sort_keys=True), json.dumps(case.inp, sort_keys=True)


@dataclasses.dataclass(frozen=True)
class Converged:
    """A normal simulation's end: final desired state, observed state, status, rounds."""

    desired: Observed
    observed: Observed
    status: JsonDict
    rounds: int


@functools.cache
def _converged_json(xr_json: str, inp_json: str) -> str:
    xr, inp = json.loads(xr_json), json.loads(inp_json)
    result = simulate(xr, inp)
    assert result.fatal is None, result.fatal
    assert result.converged, result.final_status.get("pending")
    assert result.dropped == []
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    return json.dumps([last.desired, observed, last.status, len(result.rounds)])


def converged(case: Case) -> Converged:
    """How the normal simulation of a case ends (a fresh copy: callers may change it)."""
    return Converged(*json.loads(_converged_json(*_key(case))))


def _dig(obj: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _has_text(obj: Any, *path: str) -> bool:
    value = _dig(obj, *path)
    return isinstance(value, str) and value != ""


def _record_in(options: Any, domain: Any) -> bool:
    return isinstance(options, list) and any(
        isinstance(o, dict)
        and o.get("domainName") == domain
        and all(_has_text(o, f) for f in ("resourceRecordName", "resourceRecordType"))
        and _has_text(o, "resourceRecordValue")
        for o in options
    )


# Security group rules copy their group's id (and, between the VPC link's and the NLB's
# composed groups, the other group's id): a rule key's stem -> (own group, the other group
# when the key names no destination of its own).
RULE_STEMS = (
    ("security-group-vpc-link-egress", "security-group-vpc-link", "security-group-nlb"),
    ("security-group-nlb-ingress", "security-group-nlb", "security-group-vpc-link"),
    ("security-group-nlb-egress", "security-group-nlb", None),
)


def _rule_groups(key: str) -> tuple[str, str | None] | None:
    """A rule key's own group and the other group it copies an id from; None if no rule."""
    for stem, group, peer in RULE_STEMS:
        if key == stem or key.startswith(f"{stem}-"):
            return group, peer if key == stem else None
    return None


def _rule_renderable(groups: tuple[str, str | None], key: str, has: Callable[..., bool]) -> bool:
    """A rule can be rendered while each group id it copies is reported or was sent."""
    group, peer = groups
    own = ("spec", "forProvider")
    return (has(group, "status", "atProvider", "id") or has(key, *own, "securityGroupId")) and (
        peer is None
        or has(peer, "status", "atProvider", "id")
        or has(key, *own, "referencedSecurityGroupId")
    )


# Hops that copy their composed group's id: hop key, where it holds its groups, its group.
HOPS = (
    ("vpc-link", "securityGroupIds", "security-group-vpc-link"),
    ("nlb", "securityGroups", "security-group-nlb"),
)


def _hop_outcome(hop: str, field: str, group: str, observed: Observed) -> str:
    """Whether a hop with a composed group can be rendered: "ok", "lost" or "refused".

    It needs its group's id: reported, else the groups it was sent. Those serve an NLB
    until it swaps them; a VPC link's groups never change, so they serve it only as the
    one group sent while the group or a rule of it is observed, else keeping them would
    be a change AWS refuses (the immutable-change Fatal). Malformed sent groups tell
    nothing. A hop created without groups (none sent, neither its group nor a rule of it
    observed) needs none.
    """
    sent = _dig(observed.get(hop), "spec", "forProvider", field)
    kept = group in observed or any(
        (groups := _rule_groups(key)) is not None and groups[0] == group for key in observed
    )
    if (hop in observed and not sent and not kept) or _has_text(
        observed.get(group), "status", "atProvider", "id"
    ):
        return "ok"
    if not (isinstance(sent, list) and sent and all(_has_text({"v": v}, "v") for v in sent)):
        return "lost"
    return "ok" if hop == "nlb" or (kept and len(sent) == 1) else "refused"


def renderable(case: Case, observed: Observed) -> dict[str, bool]:
    """For each resource that copies a value from observed state: can it be rendered?

    Each such value comes from the claim, from where AWS reports it on another
    resource, or from the resource's own observed spec (what was sent before). The
    keys are in builder order, the order the Fatal message names them in. The certificate
    validation is never lost: once observed it is kept as made until the record has an FQDN.
    """
    spec, inp = case.spec, case.inp

    def has(key: str, *path: str) -> bool:
        return _has_text(observed.get(key), *path)

    own = ("spec", "forProvider")
    record = _dig(observed.get("certificate-validation-record"), *own) or {}
    config = _dig(observed.get("domain-name"), "status", "atProvider", "domainNameConfiguration")
    config = config if isinstance(config, dict) else {}
    alias = ("domain-alias-record", *own, "alias")
    return {
        **{hop: _hop_outcome(hop, field, group, observed) != "lost" for hop, field, group in HOPS},
        **{
            key: _rule_renderable(groups, key, has)
            for key in sorted(observed)
            if (groups := _rule_groups(key)) is not None
        },
        "target-group": bool(_dig(spec, "vpc", "vpcId"))
        or has("nlb", "status", "atProvider", "vpcId")
        or has("target-group", *own, "vpcId"),
        "target-group-binding": has("target-group", "status", "atProvider", "arn")
        or has("target-group-binding", *own, "manifest", "spec", "targetGroupARN"),
        "integration": bool(_dig(spec, "apiGateway", "listenerArn"))
        or bool(_dig(inp, "shared", "listenerArn"))
        or has("listener", "status", "atProvider", "arn")
        or has("integration", *own, "integrationUri"),
        "certificate-validation-record": _record_in(
            _dig(observed.get("certificate"), "status", "atProvider", "domainValidationOptions"),
            spec.get("domain"),
        )
        or (
            _has_text(record, "name")
            and _has_text(record, "type")
            and isinstance(record.get("records"), list)
            and bool(record["records"])
            and _has_text({"v": record["records"][0]}, "v")
        ),
        "domain-alias-record": (_has_text(config, "targetDomainName") or has(*alias, "name"))
        and (_has_text(config, "hostedZoneId") or has(*alias, "zoneId")),
    }


def expected_lost(case: Case, observed: Observed, composed: set[str]) -> list[str]:
    """Observed resources the function cannot re-render: the documented Fatal.

    A resource is lost only when it exists, the claim still composes it, and every
    source of a value it copies is gone (see ``renderable``).
    """
    return [
        key
        for key, ok in renderable(case, observed).items()
        if not ok
        and key in composed
        and key in observed
        # A hop copies a group's id only where the claim has it compose one.
        and not any(hop == key and group not in composed for hop, _, group in HOPS)
    ]


def expected_refusal(observed: Observed, composed: set[str]) -> bool:
    """Whether keeping the VPC link's groups is the documented immutable-change Fatal."""
    hop, field, group = HOPS[0]
    return (
        {hop, group} <= composed
        and hop in observed
        and _hop_outcome(hop, field, group, observed) == "refused"
    )


WRONG_VALUES = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(""),
    st.lists(st.integers(0, 9), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(0, 9), max_size=2),
)
# The readiness rule as a table, not as code: what each conditions value a perturbation writes
# means for a resource of a kind that has a Ready condition (README § Readiness).
READINESS_TABLE: tuple[tuple[Any, bool, str], ...] = (
    ([{"type": "Ready", "status": "True"}], True, "Ready=True is ready"),
    ([{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}], True,
     "Ready=True counts wherever it is in the list"),
    ([{"type": "Ready", "status": "False", "reason": "Creating"}], False, "Ready=False is not"),
    ([{"type": "Ready", "status": "Unknown"}], False, "Unknown means not known yet: not ready"),
    ([{"type": "Ready", "status": "true"}], False, "statuses are case-sensitive"),
    ([{"type": "Ready", "status": True}], False, "a boolean is not the string True"),
    ([{"type": "Synced", "status": "True"}], False, "Synced is not Ready"),
    ([], False, "no condition at all"),
    (["Ready", 3, None], False, "items that are not conditions"),
    ({"type": "Ready", "status": "True"}, False, "one condition, not a list of them"),
    ("Ready", False, "not a list"),
    (None, False, "null"),
)  # fmt: skip
# Kinds that carry no Ready condition: ready as soon as they exist, whatever their status says.
READY_ONCE_PRESENT = {"ProviderConfig": "provider configs", "Secret": "plain Kubernetes data"}
SPEC_PATHS = (
    ("spec", "forProvider", "integrationUri"),
    ("spec", "forProvider", "vpcId"),
    ("spec", "forProvider", "accessLogSettings"),
    ("spec", "forProvider", "accessLogSettings", "destinationArn"),
    ("spec", "forProvider", "manifest", "spec", "targetGroupARN"),
    ("spec", "forProvider", "manifest"),
    ("spec", "forProvider"),
    ("spec",),
)
AT_PROVIDER_FIELDS = ("id", "arn", "vpcId", "dnsName", "invokeUrl", "apiEndpoint", "state")
OLD_KEYS = (
    "old-route", "route-default", "lb", "vpclink", "api-stage", "nlb-listener", "integration-v1",
    "grafana", "prometheus", "vcluster-provider-config", "access-log-group", "ingress-routes",
    "nlb", "target-group", "listener", "target-group-binding", "vpc-link", "integration",
    "route-proxy", "route-root", "stage", "api",
)  # fmt: skip
PERTURBATIONS = (
    "delete", "readiness", "at-provider-field", "at-provider-type", "spec-field", "metadata",
    "empty", "unknown", "old-version", "unsourced",
)  # fmt: skip
# A resource that copies a value: where AWS reports it, and where the resource keeps it.
COPIED_VALUES = {
    "target-group": (
        ("nlb", "status", "atProvider", "vpcId"),
        ("target-group", "spec", "forProvider", "vpcId"),
    ),
    "target-group-binding": (
        ("target-group", "status", "atProvider", "arn"),
        ("target-group-binding", "spec", "forProvider", "manifest", "spec", "targetGroupARN"),
    ),
    "integration": (
        ("listener", "status", "atProvider", "arn"),
        ("integration", "spec", "forProvider", "integrationUri"),
    ),
    "stage": (
        ("access-log-group", "status", "atProvider", "arn"),
        ("stage", "spec", "forProvider", "accessLogSettings", "destinationArn"),
    ),
    "certificate-validation-record": (
        ("certificate", "status", "atProvider", "domainValidationOptions"),
        ("certificate-validation-record", "spec", "forProvider", "records"),
    ),
    "certificate-validation": (
        ("certificate-validation-record", "status", "atProvider", "fqdn"),
        ("certificate-validation", "spec", "forProvider", "validationRecordFqdns"),
    ),
    "domain-alias-record": (
        ("domain-name", "status", "atProvider", "domainNameConfiguration"),
        ("domain-alias-record", "spec", "forProvider", "alias"),
    ),
}


def _replace_or_delete(data: st.DataObject, parent: Any, key: str) -> None:
    if not isinstance(parent, dict):
        return
    if data.draw(st.booleans(), label="delete"):
        parent.pop(key, None)
    else:
        parent[key] = data.draw(WRONG_VALUES, label="value")


def _status(body: JsonDict) -> JsonDict:
    status = body.get("status")
    if not isinstance(status, dict):
        status = body["status"] = {}
    return status


def _add(data: st.DataObject, what: str, observed: Observed, composed: set[str]) -> str:
    if what == "unknown":
        key = data.draw(st.text(min_size=1, max_size=20), label="key")
    else:
        key = data.draw(st.sampled_from(OLD_KEYS), label="key")
    if key in composed:
        return "none"
    bodies = [{}, {"kind": "Bucket"}, *(copy.deepcopy(b) for b in observed.values())]
    observed[key] = data.draw(st.sampled_from(bodies), label="body")
    return f"{what} {key}"


def _metadata(data: st.DataObject, body: JsonDict) -> None:
    metadata = body.setdefault("metadata", {})
    field = data.draw(st.sampled_from(["name", "labels", "annotations", "uid", "namespace"]))
    if not isinstance(metadata, dict) or data.draw(st.booleans(), label="whole"):
        body["metadata"] = data.draw(WRONG_VALUES, label="metadata")
    else:
        _replace_or_delete(data, metadata, field)


def _change(
    data: st.DataObject, what: str, observed: Observed, key: str, ready: dict[str, bool]
) -> None:
    """Change ``observed[key]``, and what ``ready`` expects of it, as ``what`` says."""
    body = observed[key]
    match what:
        case "delete":
            del observed[key]
            ready[key] = False
        case "readiness":
            row = data.draw(st.sampled_from(READINESS_TABLE), label="conditions")
            conditions, ready[key], _ = row
            _status(body)["conditions"] = copy.deepcopy(conditions)
            if data.draw(st.booleans(), label="drop-conditions"):
                _status(body).pop("conditions")
                ready[key] = False
            ready[key] = ready[key] or body.get("kind") in READY_ONCE_PRESENT
        case "at-provider-field":
            at_provider = _status(body).setdefault("atProvider", {})
            if isinstance(at_provider, dict):
                names = sorted({*at_provider, *AT_PROVIDER_FIELDS})
                _replace_or_delete(data, at_provider, data.draw(st.sampled_from(names)))
        case "at-provider-type":
            _replace_or_delete(data, _status(body), "atProvider")
        case "spec-field":
            path = data.draw(st.sampled_from(SPEC_PATHS), label="path")
            _replace_or_delete(data, _dig(body, *path[:-1]) if path[:-1] else body, path[-1])
        case "metadata":
            _metadata(data, body)
        case "empty":
            # Without its apiVersion it is not the object composed under this key.
            observed[key] = data.draw(st.sampled_from([{}, {"kind": body.get("kind")}]))
            ready[key] = False


def _unsource(data: st.DataObject, observed: Observed) -> str:
    """Break both sources of a value a resource copies (the documented Fatal, if it exists)."""
    key = data.draw(st.sampled_from(sorted(COPIED_VALUES)), label="copier")
    for path in COPIED_VALUES[key]:
        _replace_or_delete(data, _dig(observed, *path[:-1]), path[-1])
    return f"unsourced {key}"


def perturb(
    data: st.DataObject, observed: Observed, composed: set[str], ready: dict[str, bool]
) -> str:
    """Apply one random perturbation to observed state in place; returns what it did.

    ``ready`` is kept as the expected readiness of each resource, from the table, not the code.
    """
    what = data.draw(st.sampled_from(PERTURBATIONS), label="perturbation")
    if what in {"unknown", "old-version"}:
        return _add(data, what, observed, composed)
    if what == "unsourced":
        return _unsource(data, observed)
    if not observed:
        return "none"
    key = data.draw(st.sampled_from(sorted(observed)), label="key")
    _change(data, what, observed, key, ready)
    return f"{what} {key}"


def _reversed(value: Any) -> Any:
    """The same JSON value with every object's keys inserted in reverse order."""
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def _of_type(observed: JsonDict | None, sent: JsonDict) -> bool:
    """Whether an observed object has the apiVersion and kind of the one sent."""
    return observed is not None and all(observed.get(f) == sent[f] for f in ("apiVersion", "kind"))


def _pending_keys(status: JsonDict) -> set[str]:
    return {entry.split(": ", 1)[0] for entry in status["pending"]}


@_settings(700)
@given(ANY_VALID, st.data())
def test_perturbed_observed_state(case: Case, data: st.DataObject) -> None:
    """Under any observed state nothing still asked for is dropped, and answers are stable."""
    normal = converged(case)
    observed, composed = normal.observed, set(normal.desired)
    # Converged: every composed resource is ready until a perturbation says otherwise.
    expected_ready = dict.fromkeys(composed, True)
    steps = [
        perturb(data, observed, composed, expected_ready)
        for _ in range(data.draw(st.integers(1, 8)))
    ]
    req = documents.request(case.xr, observed, case.inp)
    rsp = fn.run(req)

    # Deterministic: the same request, a copy of it, and the same state inserted in another
    # order all give the same bytes.
    assert _wire(fn.run(copy.deepcopy(req))) == _wire(rsp), steps
    shuffled = documents.request(_reversed(case.xr), _reversed(observed), _reversed(case.inp))
    assert _wire(fn.run(shuffled)) == _wire(rsp), steps

    if expected_refusal(observed, composed):
        event("Fatal: the VPC link's groups would change")
        assert [r.severity for r in rsp.results] == [FATAL], steps
        fatal = str(documents.fatal_of(rsp))
        assert fatal.startswith(
            "spec.vpc.securityGroups.vpcLink: would change vpc-link securityGroupIds from "
        ), (fatal, steps)
        assert not rsp.desired.resources
        return
    lost = expected_lost(case, observed, composed)
    event("Fatal: cannot re-render" if lost else "composed")
    if lost:
        assert [r.severity for r in rsp.results] == [FATAL], (lost, steps)
        # The order they are named in is the builders' (test_every_lost_resource_is_named).
        fatal = str(documents.fatal_of(rsp))
        head, _, tail = fatal.partition(": ")
        assert head.startswith("cannot re-render observed resources "), fatal
        named = head.removeprefix("cannot re-render observed resources ").split(", ")
        assert sorted(named) == sorted(lost), (fatal, lost, steps)
        assert tail == "a value they need disappeared from observed state", fatal
        assert not rsp.desired.resources
        return
    assert complaints(rsp) == [], steps
    desired = set(rsp.desired.resources)
    assert composed & set(observed) - desired == set(), steps
    assert desired <= composed, steps
    ready = _ready_values(rsp)
    assert set(ready.values()) <= {READY_TRUE, READY_FALSE}
    assert rsp.desired.composite.ready in {READY_TRUE, READY_FALSE}
    # Ready only when the observed object is of the type composed under its key, and ready.
    sent = documents.desired_of(rsp)
    assert ready == {
        k: READY_TRUE if _of_type(observed.get(k), sent[k]) and expected_ready[k] else READY_FALSE
        for k in desired
    }  # fmt: skip
    status = documents.status_of(rsp)
    not_ready = {k for k, v in ready.items() if v == READY_FALSE}
    # Pending names every held and every not-ready resource (and, for a custom domain
    # without a hosted zone, the DNS record the user must create).
    assert (composed - desired) | not_ready <= _pending_keys(status) <= composed, steps
    assert (rsp.desired.composite.ready == READY_TRUE) == (not status["pending"])

    # Status never flips: feeding the answer back as the XR's status changes nothing.
    # Another XR status is another request, so another tag: keep the first one's.
    again = fn.run(
        documents.request({**case.xr, "status": status}, observed, case.inp, tag=req.meta.tag)
    )
    assert _wire(again) == _wire(rsp), steps


XR_NOISE = ("status", "labels", "annotations", "resourceVersion")


def _xr_noise(data: st.DataObject, xr: JsonDict) -> str:
    """Change a part of the XR that Crossplane writes and compose never reads."""
    what = data.draw(st.sampled_from(XR_NOISE), label="xr noise")
    value = data.draw(st.one_of(WRONG_VALUES, st.dictionaries(st.text(LOWER), st.text(LOWER))))
    if what == "status":
        xr["status"] = value
    else:
        xr["metadata"][what] = value
    return f"xr {what}"


def _as_the_api_server_writes(body: Any, uid: str) -> Any:
    """A copy with the uid and resourceVersion the API server gives: new content, new version."""
    copied = copy.deepcopy(body)
    metadata = copied.get("metadata") if isinstance(copied, dict) else None
    if isinstance(metadata, dict):
        metadata.pop("resourceVersion", None)
        text = json.dumps(copied, sort_keys=True, default=repr)
        version = hashlib.sha256(text.encode()).hexdigest()[:12]
        metadata.update(uid=uid, resourceVersion=version)
    return copied


@_settings(300)
@given(ANY_VALID, st.data())
def test_memo_gives_what_composing_gives(case: Case, data: st.DataObject) -> None:
    """Through one memo, every answer in a run of changing requests is what composing gives.

    Half the runs stamp the XR and the observed objects as the API server does (uid, and a
    new resourceVersion for new content), so the memo's trust in them is put to the test.
    """
    normal = converged(case)
    observed, composed = normal.observed, set(normal.desired)
    xr = copy.deepcopy(case.xr)
    memo = Memo(1 << 24)
    stamped = data.draw(st.booleans(), label="stamped")
    steps = []
    for _ in range(data.draw(st.integers(2, 6))):
        match data.draw(st.sampled_from(["observed", "xr", "nothing"]), label="change"):
            case "observed":
                steps.append(perturb(data, observed, composed, {}))
            case "xr":
                steps.append(_xr_noise(data, xr))
            case _:
                steps.append("nothing")
        if stamped:
            sent = {k: _as_the_api_server_writes(body, f"uid-{k}") for k, body in observed.items()}
            req = documents.request(_as_the_api_server_writes(xr, "uid-xr"), sent, case.inp)
        else:
            req = documents.request(xr, observed, case.inp)
        assert served(req, memo) == _wire(fn.run(req)), steps
    event(f"memo hits: {min(memo.hits, 3)}")


# --- Claims edited on a live environment ------------------------------------------------------


def settle(
    case: Case, observed: Observed, wanted: set[str], bound: int
) -> tuple[Observed, JsonDict, int]:
    """Run function and fake provider from an observed state until desired state is stable."""
    provider = FakeProvider(case.xr["metadata"]["name"])
    composite = dict(case.xr)
    previous: Observed | None = None
    for number in range(1, bound + 1):
        rsp = fn.run(documents.request(composite, observed, case.inp))
        assert documents.fatal_of(rsp) is None, (number, documents.fatal_of(rsp))
        desired = documents.desired_of(rsp)
        status = documents.status_of(rsp)
        assert set(observed) & wanted <= set(desired), number
        if status["ready"] and desired == previous and set(desired) <= set(observed):
            return desired, status, number
        previous = desired
        observed = provider.apply(desired, observed)
        composite = {**composite, "status": status}
    pytest.fail(f"no stable desired state after {bound} rounds: {status['pending']}")


@_settings(100)
@given(ANY_VALID, st.data())
def test_edited_claim_converges_like_a_fresh_one(case: Case, data: st.DataObject) -> None:
    """A claim edited on a live environment never fails and ends where a fresh claim would."""
    observed = converged(case).observed
    shared = case.inp.get("shared")
    spec = data.draw(valid_specs(shared), label="edited spec")
    if "claimRef" in case.spec:
        spec["claimRef"] = case.spec["claimRef"]
    edited = Case({**case.xr, "spec": spec}, case.inp)
    fresh = converged(edited)
    rsp = run(edited, observed)
    refused = [r.message for r in complaints(rsp)]
    if refused:
        # Issue 10 item 10: an edit AWS could only apply by replacing a resource is refused,
        # naming the field, and nothing changes.
        assert len(refused) == 1, refused
        assert any(refused[0].startswith(f"{rule.source}: would change") for rule in IMMUTABLE)
        assert [r.severity for r in rsp.results] == [FATAL]
        return
    assert set(observed) & set(fresh.desired) <= set(rsp.desired.resources)
    desired, status, _ = settle(edited, observed, set(fresh.desired), bound=20)
    assert desired == fresh.desired
    assert status == fresh.status


# --- Random round order -----------------------------------------------------------------------

FAIRNESS = 3  # every desired resource is reconciled at least once every 3 rounds
MAX_FLAPPING_ROUNDS = 10


def _not_ready(body: JsonDict, data: st.DataObject) -> JsonDict:
    changed = copy.deepcopy(body)
    condition = data.draw(st.sampled_from(["False", "Unknown", None]), label="ready")
    changed["status"]["conditions"] = (
        [] if condition is None else [{"type": "Ready", "status": condition}]
    )
    return changed


@_settings(250)
@given(ANY_VALID, st.data())
def test_random_round_order_converges_to_the_same_state(case: Case, data: st.DataObject) -> None:
    """Resources reconciled in random order and flapping still converge to the normal result."""
    normal = converged(case)
    provider = FakeProvider(case.xr["metadata"]["name"])
    observed: Observed = {}
    composite = dict(case.xr)
    last_applied: dict[str, int] = {}
    # First some rounds where resources may also flap to not ready, then only random order.
    flapping = data.draw(st.integers(0, MAX_FLAPPING_ROUNDS), label="flapping rounds")
    # Each round of the normal run may take FAIRNESS rounds once nothing flaps any more.
    bound = flapping + FAIRNESS * normal.rounds
    for number in range(1, bound + 1):
        rsp = fn.run(documents.request(composite, observed, case.inp))
        assert documents.fatal_of(rsp) is None, (number, documents.fatal_of(rsp))
        desired = documents.desired_of(rsp)
        status = documents.status_of(rsp)
        assert set(observed) <= set(desired), number
        if status["ready"] and set(desired) <= set(observed):
            assert desired == normal.desired
            assert status == normal.status
            event(f"{number - normal.rounds:+d} rounds compared with the normal run")
            return
        actions = ("apply", "skip", "not-ready") if number <= flapping else ("apply", "skip")
        chosen = {
            key: "apply"
            if number - last_applied.get(key, 0) >= FAIRNESS
            else data.draw(st.sampled_from(actions), label=f"round {number} {key}")
            for key in sorted(desired)
        }
        applied = provider.apply(
            {k: desired[k] for k, a in chosen.items() if a != "skip"}, observed
        )
        following: Observed = {}
        for key, action in chosen.items():
            if action == "apply":
                last_applied[key] = number
                following[key] = applied[key]
            elif action == "not-ready" and "status" in applied[key]:
                following[key] = _not_ready(applied[key], data)
            elif action == "not-ready":
                following[key] = applied[key]
            elif key in observed:
                following[key] = observed[key]
        observed = following
        composite = {**composite, "status": status}
    pytest.fail(f"not converged in {bound} rounds: {status['pending']}")


# --- Numbers: protobuf Structs carry every number as a double ---------------------------------


def floats(value: Any) -> Any:
    """The same JSON value with every integer turned into a float of the same value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [floats(v) for v in value]
    return value


def _typed(outcome: Any) -> str:
    # json.dumps tells 80 from 80.0, so a float leaking into a manifest is caught. What was
    # read of observed state is left out: it is floats on one side by construction; so is
    # what each step built, which the resources hold already.
    return json.dumps(
        dataclasses.asdict(dataclasses.replace(outcome, answers={}, parsed=None, built=None)),
        sort_keys=True,
    )


@_settings(400)
@given(ANY_VALID, st.booleans())
def test_integral_floats_compose_like_integers(case: Case, live: bool) -> None:
    """Ports, timeouts and retention given as integral floats compose exactly like integers."""
    observed = converged(case).observed if live else {}
    as_ints = compose(case.xr, observed, case.inp)
    as_floats = compose(floats(case.xr), floats(observed), floats(case.inp))
    assert as_ints.fatal is None
    assert _typed(as_floats) == _typed(as_ints)
    # And the protobuf path, which only ever sees floats, answers what compose answers.
    rsp = run(case, observed)
    assert documents.desired_of(rsp) == {
        k: resource.struct_to_dict(resource.dict_to_struct(v))
        for k, v in sorted(as_ints.resources.items())
    }


# --- Bugs these properties found, fixed; each reproducer keeps them fixed ---------------------


def _seed() -> Case:
    return Case(as_shape(load(SEED), "legacy"), platform_input())


def _bug_enable_access_logs() -> None:
    case = _seed()
    observed = converged(case).observed
    case.spec["apiGateway"] = {"accessLogs": {"enabled": True}}
    rsp = run(case, observed)
    assert documents.fatal_of(rsp) is None
    assert "stage" in rsp.desired.resources


def _bug_usage_dropped() -> None:
    case = _seed()
    observed = converged(case).observed
    del observed["target-group"]
    del observed["nlb"]["status"]["atProvider"]["vpcId"]
    rsp = run(case, observed)
    assert "usage-listener-uses-target-group" in rsp.desired.resources


def _fatal_of(spec_patch: JsonDict) -> str | None:
    case = _seed()
    case.spec.update(spec_patch)
    return documents.fatal_of(run(case))


def _bug_snake_case_key() -> None:
    assert _fatal_of({"api_gateway": {"stageName": "x"}}) == "spec.api_gateway: unknown field"


def _bug_boolean_port() -> None:
    apps = [{"name": "web", "service": "web", "port": True}]
    assert _fatal_of({"apps": apps}) == "spec.apps[0].port: must be an integer"


def _bug_numeric_string_port() -> None:
    apps = [{"name": "web", "service": "web", "port": "8080"}]
    assert _fatal_of({"apps": apps}) == "spec.apps[0].port: must be an integer"


def _bug_unicode_digit_region() -> None:
    assert (_fatal_of({"region": "us-east-\u0661"}) or "").startswith("spec.region: ")


def _bug_huge_unknown_key() -> None:
    message = _fatal_of({"k" * 1_000_000: 1}) or ""
    assert message.startswith("spec.kkk")
    assert len(message) <= MAX_MESSAGE


REGRESSIONS = {
    "enable-access-logs-on-live-stage": _bug_enable_access_logs,
    "usage-dropped-while-an-end-is-held": _bug_usage_dropped,
    "snake-case-key-accepted": _bug_snake_case_key,
    "boolean-port-accepted": _bug_boolean_port,
    "numeric-string-port-accepted": _bug_numeric_string_port,
    "unicode-digit-region-accepted": _bug_unicode_digit_region,
    "huge-unknown-key-unbounded-message": _bug_huge_unknown_key,
}


@pytest.mark.parametrize(
    "reproduce",
    [pytest.param(check, id=name) for name, check in REGRESSIONS.items()],
)
def test_fixed_bug_stays_fixed(reproduce: Callable[[], None]) -> None:
    """Each bug the properties once found states the correct behaviour, which now holds."""
    reproduce()
