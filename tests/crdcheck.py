# ruff: noqa: CPY001, RUF100
# (CPY001 fires under `--select ALL`; the project config ignores it, hence RUF100 too.)
"""Offline validation of Kubernetes manifests against the shared CRD snapshot.

Mimics what the API server does to a custom resource on create: structural
defaulting, OpenAPI value validation and ``x-kubernetes-validations`` CEL rules.
Unknown fields are reported instead of pruned, because a field the API server
drops silently is a bug in whatever produced the manifest.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import ipaddress
import itertools
import json
import os
import re
import subprocess
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import celpy
import crdfiles
import lark
import re2  # type: ignore[import-untyped,unused-ignore]
import yaml
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, base_functions
from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]

CRDS_ENV_VAR: Final = "SHARED_CRDS_DIR"
"""Environment variable that overrides where the shared CRD snapshot lives."""

CEL_UNSUPPORTED: Final = "CEL-UNSUPPORTED:"
"""Prefix of errors that are limitations of this validator, not of the manifest."""

_ROOT: Final = "<root>"
_SKIP_DIRS: Final = frozenset({"vcluster"})
_PLAIN_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SHORT: Final = 60

# cel-go macros are expanded by its parser; cel-python treats them as calls.
_CEL_MACROS: Final = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})
# Same set the API server escapes (apiserver/pkg/cel/escaping.go).
_CEL_RESERVED: Final = frozenset(
    {
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    },
)
_CEL_ESCAPES: Final = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
_CEL_ESCAPE_RE: Final = re.compile(r"__|[-./]")
# Lookup, index and arithmetic failures are runtime errors the API server
# reports too; anything else means cel-python diverges from cel-go.
_CEL_RUNTIME_ERRORS: Final = (KeyError, IndexError, ZeroDivisionError, ValueError)
_RULE_MEMO_LIMIT: Final = 2048

_META_STRINGS: Final = frozenset(
    {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion"},
)
_META_TIMES: Final = frozenset({"creationTimestamp", "deletionTimestamp"})
_META_INTS: Final = frozenset({"generation", "deletionGracePeriodSeconds"})
_META_OTHER: Final = frozenset(
    {"labels", "annotations", "ownerReferences", "finalizers", "managedFields"},
)
_OWNER_REF_REQUIRED: Final = ("apiVersion", "kind", "name", "uid")
_DNS_LABEL: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN_RE: Final = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
_DNS_LABEL_RE: Final = re.compile(_DNS_LABEL)
_QUALIFIED_NAME_RE: Final = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN_MAX: Final = 253
_DNS_LABEL_MAX: Final = 63

_DATE_TIME_RE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})",
)
_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION_RE: Final = re.compile(r"[-+]?((\d+(\.\d*)?|\.\d+)\s*(ns|us|µs|ms|s|m|h|d|w)\s*)+|0")
_MAC_RE: Final = re.compile(r"([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}")


# --------------------------------------------------------------------------- #
# Locating and indexing CRD files
# --------------------------------------------------------------------------- #


@functools.cache
def _origin_checkout(repo: Path) -> Path | None:
    """The local checkout ``repo`` was cloned from, if its ``origin`` is a directory."""
    try:
        url = subprocess.run(
            ["git", "-C", str(repo), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    origin = Path(url.removeprefix("file://"))
    return origin.resolve() if url and origin.is_dir() else None


def crds_dir() -> Path:
    """Return the shared CRD directory (it may not exist).

    Returns:
        ``$SHARED_CRDS_DIR`` if set, else ``<repo root>/../shared/crds``; for a clone of a
        local checkout (``git clone . /tmp/x``) without one, the one beside that checkout.
    """
    override = os.environ.get(CRDS_ENV_VAR)
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parent.parent
    beside = repo.parent / "shared" / "crds"
    origin = _origin_checkout(repo) if not beside.is_dir() else None
    from_origin = origin.parent / "shared" / "crds" if origin is not None else None
    return from_origin if from_origin is not None and from_origin.is_dir() else beside


@dataclass(frozen=True, slots=True)
class _CrdFile:
    path: Path
    group: str
    kind: str
    served: tuple[str, ...]


@functools.cache
def _index(directory: Path) -> dict[tuple[str, str], _CrdFile]:
    if not directory.is_dir():
        msg = f"shared CRD directory {directory} does not exist (set ${CRDS_ENV_VAR})"
        raise FileNotFoundError(msg)
    index: dict[tuple[str, str], _CrdFile] = {}
    shared = [
        path
        for path in sorted(directory.rglob("*.yaml"))
        if not _SKIP_DIRS.intersection(path.relative_to(directory).parts)
    ]
    # The CRDs the snapshot lacks but the tests derive (crdfiles: why, and from what).
    for path in [*shared, *crdfiles.derived_files(directory)]:
        crd = _read_yaml(path)
        if not _is_crd(crd):
            continue
        entry = _CrdFile(
            path=path,
            group=crd["spec"]["group"],
            kind=crd["spec"]["names"]["kind"],
            served=tuple(v["name"] for v in crd["spec"]["versions"] if v.get("served")),
        )
        index[entry.group, entry.kind] = entry
    return index


def _read_yaml(path: Path) -> Any:
    # libyaml is ~10x faster and the Gateway API CRDs are megabytes.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506


# Bounded: the whole snapshot parsed is far bigger than the few CRDs a test uses.
_load_yaml: Final = functools.lru_cache(maxsize=32)(_read_yaml)


def _is_crd(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and doc.get("apiVersion") == "apiextensions.k8s.io/v1"
        and doc.get("kind") == "CustomResourceDefinition"
    )


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def crd_for(api_version: str, kind: str) -> dict[str, Any]:
    """Return the CRD that defines ``kind`` in the group of ``api_version``.

    The version part is not checked here; ``validate`` reports unserved versions.

    Raises:
        KeyError: No CRD in the snapshot defines this group and kind.
        FileNotFoundError: The shared CRD directory is missing.
    """
    group, _ = _split_api_version(api_version)
    entry = _index(crds_dir()).get((group, kind))
    if entry is None:
        msg = f"no CRD for group {group!r} kind {kind!r} in {crds_dir()}"
        raise KeyError(msg)
    # A copy, so callers cannot corrupt the cached schema.
    crd: dict[str, Any] = _clone(_load_yaml(entry.path))
    return crd


def known_kinds() -> set[tuple[str, str]]:
    """Return every served ``(apiVersion, kind)`` pair in the snapshot."""
    return {
        (f"{entry.group}/{version}", entry.kind)
        for entry in _index(crds_dir()).values()
        for version in entry.served
    }


# --------------------------------------------------------------------------- #
# Compiled schema tree
# --------------------------------------------------------------------------- #


@dataclass(slots=True, eq=False)
class _Rule:
    text: str
    message: str
    field_path: str
    program: celpy.Runner | None
    message_program: celpy.Runner | None
    problem: str | None
    transition: bool
    # Rule outcomes depend only on `self`, so identical subtrees share a result.
    memo: dict[str, tuple[bool, str] | None] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Node:
    type: str | None = None
    nullable: bool = False
    int_or_string: bool = False
    preserve: bool = False
    embedded: bool = False
    properties: dict[str, _Node] = field(default_factory=dict)
    additional: _Node | bool | None = None
    items: _Node | None = None
    required: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()
    needs_defaulting: bool = False
    enum: tuple[Any, ...] | None = None
    pattern: Any = None
    pattern_text: str = ""
    format: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    multiple_of: float | None = None
    min_items: int | None = None
    max_items: int | None = None
    min_properties: int | None = None
    max_properties: int | None = None
    list_type: str | None = None
    list_map_keys: tuple[str, ...] = ()
    all_of: tuple[_Node, ...] = ()
    any_of: tuple[_Node, ...] = ()
    one_of: tuple[_Node, ...] = ()
    not_: _Node | None = None
    rules: tuple[_Rule, ...] = ()


def _compile(raw: Mapping[str, Any]) -> _Node:
    properties = {key: _compile(sub) for key, sub in (raw.get("properties") or {}).items()}
    additional = raw.get("additionalProperties")
    items = raw.get("items")
    node = _Node(
        type=raw.get("type"),
        nullable=bool(raw.get("nullable")),
        int_or_string=bool(raw.get("x-kubernetes-int-or-string")),
        preserve=bool(raw.get("x-kubernetes-preserve-unknown-fields")),
        embedded=bool(raw.get("x-kubernetes-embedded-resource")),
        properties=properties,
        additional=_compile(additional) if isinstance(additional, Mapping) else additional,
        items=_compile(items) if isinstance(items, Mapping) else None,
        required=tuple(raw.get("required") or ()),
        defaults=tuple(
            (key, sub["default"])
            for key, sub in (raw.get("properties") or {}).items()
            if "default" in sub
        ),
        enum=tuple(raw["enum"]) if "enum" in raw else None,
        format=raw.get("format"),
        min_length=raw.get("minLength"),
        max_length=raw.get("maxLength"),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        exclusive_minimum=bool(raw.get("exclusiveMinimum")),
        exclusive_maximum=bool(raw.get("exclusiveMaximum")),
        multiple_of=raw.get("multipleOf"),
        min_items=raw.get("minItems"),
        max_items=raw.get("maxItems"),
        min_properties=raw.get("minProperties"),
        max_properties=raw.get("maxProperties"),
        list_type=raw.get("x-kubernetes-list-type"),
        list_map_keys=tuple(raw.get("x-kubernetes-list-map-keys") or ()),
        all_of=tuple(_compile(sub) for sub in raw.get("allOf") or ()),
        any_of=tuple(_compile(sub) for sub in raw.get("anyOf") or ()),
        one_of=tuple(_compile(sub) for sub in raw.get("oneOf") or ()),
        not_=_compile(raw["not"]) if isinstance(raw.get("not"), Mapping) else None,
        rules=tuple(_compile_rule(rule) for rule in raw.get("x-kubernetes-validations") or ()),
    )
    if "pattern" in raw:
        node.pattern_text = raw["pattern"]
        node.pattern = _regex(raw["pattern"])
    children = [*properties.values(), node.items, node.additional]
    node.needs_defaulting = bool(node.defaults) or any(
        isinstance(child, _Node) and child.needs_defaulting for child in children
    )
    return node


@functools.cache
def _regex(pattern: str) -> Any:
    # The API server uses Go's RE2 engine; Python's `re` differs on some syntax.
    try:
        return re2.compile(pattern)
    except re2.error:
        return re.compile(pattern)


@functools.cache
def _compiled_crd_version(path: Path, version: str) -> _Node:
    return _compile(_version_schema(_load_yaml(path), version))


def _version_schema(crd: Mapping[str, Any], version: str) -> Mapping[str, Any]:
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            schema: Mapping[str, Any] = entry.get("schema", {}).get("openAPIV3Schema", {})
            return schema
    msg = f"version {version} not in CRD {crd['metadata']['name']}"
    raise KeyError(msg)


# Caller-supplied schemas are cached by identity; holding the dict keeps the id valid.
_RAW_SCHEMA_CACHE: dict[int, tuple[Mapping[str, Any], _Node]] = {}
_RAW_SCHEMA_CACHE_LIMIT: Final = 256


def _compiled_raw(schema: Mapping[str, Any]) -> _Node:
    hit = _RAW_SCHEMA_CACHE.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    if len(_RAW_SCHEMA_CACHE) >= _RAW_SCHEMA_CACHE_LIMIT:
        _RAW_SCHEMA_CACHE.clear()
    node = _compile(schema)
    _RAW_SCHEMA_CACHE[id(schema)] = (schema, node)
    return node


# --------------------------------------------------------------------------- #
# CEL support
# --------------------------------------------------------------------------- #


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_CEL_NUMBERS: Final = (celtypes.IntType, celtypes.UintType, celtypes.DoubleType)
# BoolType subclasses int and takes no keyword; 1/0 avoids boolean positional args.
_CEL_TRUE: Final = celtypes.BoolType(1)
_CEL_FALSE: Final = celtypes.BoolType(0)


def _cel_number(value: Any) -> bool:
    return isinstance(value, _CEL_NUMBERS)


def _first_error(*args: Any) -> CELEvalError | None:
    return next((arg for arg in args if isinstance(arg, CELEvalError)), None)


def _propagating(op: Callable[..., Any]) -> Callable[..., Any]:
    # cel-python turns an erroneous operand into a new "no such overload"
    # TypeError, losing the original cause (usually a missing field). CEL
    # propagates the original error, which is what the API server reports.
    def call(*args: Any) -> Any:
        error = _first_error(*args)
        return error if error is not None else op(*args)

    return call


def _cross_numeric(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    # cel-go (as configured by Kubernetes) compares int, uint and double with
    # each other; cel-python raises "no such overload" instead.
    def compare(left: Any, right: Any) -> Any:
        if _cel_number(left) and _cel_number(right) and type(left) is not type(right):
            return celtypes.BoolType(op(float(left), float(right)))
        return op(left, right)

    return _propagating(compare)


def _heterogeneous_equality(*, negate: bool) -> Callable[[Any, Any], Any]:
    # cel-go treats values of different types as unequal rather than an error.
    base = base_functions["_!=_" if negate else "_==_"]

    def equals(left: Any, right: Any) -> Any:
        if _cel_number(left) and _cel_number(right):
            return celtypes.BoolType((float(left) == float(right)) != negate)
        try:
            return base(left, right)
        except TypeError:
            return celtypes.BoolType(negate)

    return _propagating(equals)


def _cel_or(left: Any, right: Any) -> Any:
    # true wins over errors, errors win over false (commutative, as in CEL).
    if (isinstance(left, celtypes.BoolType) and left) or (
        isinstance(right, celtypes.BoolType) and right
    ):
        return _CEL_TRUE
    error = _first_error(left, right)
    return error if error is not None else base_functions["_||_"](left, right)


def _cel_and(left: Any, right: Any) -> Any:
    if (isinstance(left, celtypes.BoolType) and not left) or (
        isinstance(right, celtypes.BoolType) and not right
    ):
        return _CEL_FALSE
    error = _first_error(left, right)
    return error if error is not None else base_functions["_&&_"](left, right)


def _cel_conditional(condition: Any, when_true: Any, when_false: Any) -> Any:
    if isinstance(condition, CELEvalError):
        return condition
    if not isinstance(condition, celtypes.BoolType):
        msg = f"ternary condition is {type(condition).__name__}, not bool"
        raise TypeError(msg)
    return when_true if condition else when_false


def _split(text: str, sep: str, limit: int = -1) -> celtypes.ListType:
    if limit == 0:
        return celtypes.ListType([])
    parts = text.split(sep, limit - 1) if limit > 0 else text.split(sep)
    return celtypes.ListType([celtypes.StringType(part) for part in parts])


def _join(items: Iterable[str], sep: str = "") -> celtypes.StringType:
    return celtypes.StringType(sep.join(items))


def _replace(text: str, old: str, new: str, limit: int = -1) -> celtypes.StringType:
    return celtypes.StringType(text.replace(old, new, limit))


def _substring(text: str, start: int, end: int | None = None) -> celtypes.StringType:
    stop = len(text) if end is None else int(end)
    if not 0 <= start <= stop <= len(text):
        msg = f"substring({start}, {stop}) out of range for length {len(text)}"
        raise ValueError(msg)
    return celtypes.StringType(text[start:stop])


def _index_of(haystack: Any, needle: Any, start: int = 0) -> celtypes.IntType:
    if isinstance(haystack, str):
        return celtypes.IntType(haystack.find(needle, start))
    for position, item in enumerate(haystack):
        if item == needle:
            return celtypes.IntType(position)
    return celtypes.IntType(-1)


def _last_index_of(haystack: Any, needle: Any) -> celtypes.IntType:
    if isinstance(haystack, str):
        return celtypes.IntType(haystack.rfind(needle))
    for position in range(len(haystack) - 1, -1, -1):
        if haystack[position] == needle:
            return celtypes.IntType(position)
    return celtypes.IntType(-1)


def _find(text: str, pattern: str) -> celtypes.StringType:
    match = _regex(pattern).search(text)
    return celtypes.StringType(match.group(0) if match else "")


def _find_all(text: str, pattern: str, limit: int = -1) -> celtypes.ListType:
    found = [celtypes.StringType(m.group(0)) for m in _regex(pattern).finditer(text)]
    return celtypes.ListType(found if limit < 0 else found[:limit])


def _is_sorted(items: Iterable[Any]) -> celtypes.BoolType:
    values = list(items)
    return celtypes.BoolType(all(a <= b for a, b in itertools.pairwise(values)))


def _list_min(items: Iterable[Any]) -> Any:
    values = list(items)
    if not values:
        msg = "min() called on an empty list"
        raise ValueError(msg)
    return min(values)


def _list_max(items: Iterable[Any]) -> Any:
    values = list(items)
    if not values:
        msg = "max() called on an empty list"
        raise ValueError(msg)
    return max(values)


def _list_sum(items: Iterable[Any]) -> Any:
    values = list(items)
    return sum(values[1:], values[0]) if values else celtypes.IntType(0)


class _CelURL(celtypes.StringType):
    """Result of the Kubernetes ``url()`` function; a string that remembers its parts."""

    parts: urllib.parse.SplitResult


def _parse_url(text: str) -> urllib.parse.SplitResult | None:
    # Kubernetes uses Go's url.ParseRequestURI: absolute URI or absolute path.
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return None
    if parts.scheme or text.startswith("/"):
        return parts
    return None


def _url(text: str) -> _CelURL:
    parts = _parse_url(text)
    if parts is None:
        msg = f"URL parse error: {text!r} is not an absolute URI or path"
        raise ValueError(msg)
    result = _CelURL(text)
    result.parts = parts
    return result


def _url_part(getter: Callable[[urllib.parse.SplitResult], Any]) -> Callable[[_CelURL], Any]:
    def method(value: _CelURL) -> Any:
        return getter(value.parts)

    return method


def _ip_ok(text: str) -> celtypes.BoolType:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return _CEL_FALSE
    return _CEL_TRUE


def _cidr_ok(text: str) -> celtypes.BoolType:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return _CEL_FALSE
    return celtypes.BoolType("/" in text)


_CEL_FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {
    "_?_:_": _cel_conditional,
    "_||_": _cel_or,
    "_&&_": _cel_and,
    "!_": _propagating(base_functions["!_"]),
    "-_": _propagating(base_functions["-_"]),
    "_[_]": _propagating(base_functions["_[_]"]),
    "_in_": _propagating(base_functions["_in_"]),
    **{op: _propagating(base_functions[op]) for op in ("_+_", "_-_", "_*_", "_/_", "_%_")},
    "_<_": _cross_numeric(base_functions["_<_"]),
    "_<=_": _cross_numeric(base_functions["_<=_"]),
    "_>_": _cross_numeric(base_functions["_>_"]),
    "_>=_": _cross_numeric(base_functions["_>=_"]),
    "_==_": _heterogeneous_equality(negate=False),
    "_!=_": _heterogeneous_equality(negate=True),
    "dyn": lambda value: value,
    # Kubernetes strings library (cel-go ext.Strings).
    "charAt": lambda text, i: celtypes.StringType(text[i] if i < len(text) else ""),
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "lowerAscii": lambda text: celtypes.StringType(text.lower() if text.isascii() else text),
    "upperAscii": lambda text: celtypes.StringType(text.upper() if text.isascii() else text),
    "replace": _replace,
    "split": _split,
    "substring": _substring,
    "trim": lambda text: celtypes.StringType(text.strip()),
    "join": _join,
    "reverse": lambda text: celtypes.StringType(text[::-1]),
    # Kubernetes regex and list libraries.
    "find": _find,
    "findAll": _find_all,
    "isSorted": _is_sorted,
    "sum": _list_sum,
    "min": _list_min,
    "max": _list_max,
    # Kubernetes URL library.
    "url": _url,
    "isURL": lambda text: celtypes.BoolType(_parse_url(text) is not None),
    "getScheme": _url_part(lambda p: celtypes.StringType(p.scheme)),
    "getHost": _url_part(lambda p: celtypes.StringType(p.netloc.rpartition("@")[2])),
    "getHostname": _url_part(lambda p: celtypes.StringType(p.hostname or "")),
    "getPort": _url_part(lambda p: celtypes.StringType(str(p.port) if p.port else "")),
    "getEscapedPath": _url_part(lambda p: celtypes.StringType(p.path)),
    "getQuery": _url_part(
        lambda p: celtypes.MapType(
            {
                celtypes.StringType(k): celtypes.ListType([celtypes.StringType(x) for x in v])
                for k, v in urllib.parse.parse_qs(p.query).items()
            },
        ),
    ),
    # Kubernetes IP/CIDR library (predicates only).
    "isIP": _ip_ok,
    "isCIDR": _cidr_ok,
}
_CEL_KNOWN: Final = frozenset(base_functions) | frozenset(_CEL_FUNCTIONS) | _CEL_MACROS


@functools.cache
def _cel_env() -> celpy.Environment:
    return celpy.Environment()


def _called_names(tree: lark.Tree[Any]) -> tuple[set[str], set[str]]:
    """Return (function names called, identifiers referenced) in a cel-python AST."""
    calls: set[str] = set()
    idents: set[str] = set()
    for sub in tree.iter_subtrees():
        if sub.data == "member_dot_arg":
            calls.add(str(sub.children[1]))
        elif sub.data in {"ident_arg", "dot_ident_arg"}:
            calls.add(str(sub.children[0]))
        elif sub.data == "ident":
            idents.add(str(sub.children[0]))
    return calls, idents


@functools.cache
def _cel_program(text: str) -> tuple[celpy.Runner | None, str | None, bool]:
    """Compile a rule once per distinct text.

    Returns:
        (program, problem, is_transition_rule).
    """
    env = _cel_env()
    try:
        tree = env.compile(text)
    except (CELParseError, lark.exceptions.LarkError) as exc:
        return None, f"cel-python cannot parse the rule: {exc}", False
    calls, idents = _called_names(tree)
    transition = bool({"oldSelf", "optionalOldSelf"} & idents)
    missing = sorted(calls - _CEL_KNOWN)
    if missing:
        return None, f"function(s) not implemented: {', '.join(missing)}", transition
    return env.program(tree, functions=_CEL_FUNCTIONS), None, transition


def _compile_rule(raw: Mapping[str, Any]) -> _Rule:
    text = raw["rule"]
    program, problem, transition = _cel_program(text)
    message_program = None
    if raw.get("messageExpression"):
        message_program, _, _ = _cel_program(raw["messageExpression"])
    return _Rule(
        text=text,
        message=raw.get("message") or f"failed rule: {text}",
        field_path=raw.get("fieldPath") or "",
        program=program,
        message_program=message_program,
        problem=problem,
        transition=transition,
    )


def _cel_escape(name: str) -> str | None:
    if not name or name[0].isdigit():
        return None
    if name in _CEL_RESERVED:
        return f"__{name}__"
    escaped = _CEL_ESCAPE_RE.sub(lambda m: _CEL_ESCAPES[m.group(0)], name)
    if all(ch.isalnum() or ch == "_" for ch in escaped):
        return escaped
    # Kubernetes hides such fields from CEL entirely.
    return None


def _cel_generic(value: Any) -> Any:
    if isinstance(value, dict):
        return celtypes.MapType({celtypes.StringType(k): _cel_generic(v) for k, v in value.items()})
    if isinstance(value, list):
        return celtypes.ListType([_cel_generic(v) for v in value])
    return _cel_scalar(value)


def _cel_scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    return value


def _cel_string(value: str, fmt: str | None) -> Any:
    # The API server gives formatted strings richer CEL types (common/values.go).
    try:
        if fmt == "duration":
            return celtypes.DurationType(value)
        if fmt in {"date", "date-time"}:
            return celtypes.TimestampType(value if "T" in value else f"{value}T00:00:00Z")
        if fmt == "byte":
            return celtypes.BytesType(base64.b64decode(value, validate=True))
    except (ValueError, TypeError, binascii.Error):
        pass
    return celtypes.StringType(value)


def _cel_typed_scalar(value: Any, node: _Node) -> Any:
    if node.type == "number" and _numeric(value):
        return celtypes.DoubleType(float(value))
    if node.type == "integer" and _numeric(value):
        return celtypes.IntType(int(value))
    if node.type == "string" and isinstance(value, str):
        return _cel_string(value, node.format)
    return _cel_scalar(value)


def _cel_object(value: dict[str, Any], node: _Node, memo: dict[int, Any]) -> Any:
    if isinstance(node.additional, _Node):
        return celtypes.MapType(
            {celtypes.StringType(k): _to_cel(v, node.additional, memo) for k, v in value.items()},
        )
    fields: dict[Any, Any] = {}
    keep_unknown = node.preserve or node.embedded or node.additional is True
    for key, item in value.items():
        child = node.properties.get(key)
        if child is None:
            if keep_unknown:
                fields[celtypes.StringType(key)] = _cel_generic(item)
            continue
        if item is None and not child.nullable:
            continue
        name = _cel_escape(key)
        if name is not None:
            fields[celtypes.StringType(name)] = _to_cel(item, child, memo)
    return celtypes.MapType(fields)


def _to_cel(value: Any, node: _Node | None, memo: dict[int, Any]) -> Any:
    if node is None:
        return _cel_generic(value)
    if isinstance(value, dict):
        hit = memo.get(id(value))
        if hit is None:
            hit = memo[id(value)] = _cel_object(value, node, memo)
        return hit
    if isinstance(value, list):
        hit = memo.get(id(value))
        if hit is None:
            hit = memo[id(value)] = celtypes.ListType([_to_cel(v, node.items, memo) for v in value])
        return hit
    return _cel_typed_scalar(value, node)


def _cel_self(value: Any, node: _Node, memo: dict[int, Any], *, root: bool) -> Any:
    if not (root and isinstance(value, dict)):
        return _to_cel(value, node, memo)
    # At the root the API server exposes apiVersion, kind and only
    # metadata.name/generateName, whatever the schema declares.
    body = {k: v for k, v in value.items() if k not in {"apiVersion", "kind", "metadata"}}
    converted = _cel_object(body, node, memo)
    for key in ("apiVersion", "kind"):
        if isinstance(value.get(key), str):
            converted[celtypes.StringType(key)] = celtypes.StringType(value[key])
    meta = value.get("metadata")
    if isinstance(meta, dict):
        exposed = {k: meta[k] for k in ("name", "generateName") if k in meta}
        converted[celtypes.StringType("metadata")] = _cel_generic(exposed)
    return converted


def _run_program(program: celpy.Runner, cel_self: Any) -> Any:
    try:
        return program.evaluate({"self": cel_self})
    except CELEvalError as exc:
        return exc
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        return CELEvalError(f"cel-python internal error: {exc!r}", RuntimeError, exc.args)


def _error_text(error: CELEvalError) -> str:
    text = str(error.args[0]) if error.args else repr(error)
    return text.split(" (in activation", 1)[0]


def _rule_message(rule: _Rule, cel_self: Any) -> str:
    if rule.message_program is not None:
        result = _run_program(rule.message_program, cel_self)
        if isinstance(result, str) and not isinstance(result, CELEvalError):
            return str(result)
    return rule.message


def _evaluate_rule(rule: _Rule, cel_self: Any) -> tuple[bool, str] | None:
    """Evaluate one rule.

    Returns:
        None when the rule holds, else (is_validator_limitation, detail).
        The detail carries no path, so one outcome can be reused at any path.
    """
    assert rule.program is not None
    result = _run_program(rule.program, cel_self)
    if isinstance(result, CELEvalError):
        cause = result.args[1] if len(result.args) > 1 else None
        detail = _error_text(result)
        if isinstance(cause, type) and issubclass(cause, _CEL_RUNTIME_ERRORS):
            return False, f"{_rule_message(rule, cel_self)} (rule evaluation error: {detail})"
        return True, f"cel-python failed on rule {rule.text!r}: {detail}"
    if isinstance(result, (celtypes.BoolType, bool)):
        return None if result else (False, _rule_message(rule, cel_self))
    return True, f"rule {rule.text!r} returned {type(result).__name__}, not bool"


# --------------------------------------------------------------------------- #
# Value helpers
# --------------------------------------------------------------------------- #


def _child_path(path: str, key: str) -> str:
    segment = f".{key}" if _PLAIN_KEY.fullmatch(key) else f"[{json.dumps(key)}]"
    return segment[1:] if not path and segment.startswith(".") else f"{path}{segment}"


def _where(path: str) -> str:
    return path or _ROOT


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= _SHORT else f"{text[: _SHORT - 3]}..."


def _json_type(value: Any) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }
    return names.get(type(value), type(value).__name__)


def _clone(value: Any) -> Any:
    # JSON-only deep copy; several times faster than copy.deepcopy.
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _json_equal(left: Any, right: Any) -> bool:
    # Python's True == 1 would make booleans match integer enum members.
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and bool(left == right)
    return bool(left == right)


def _integral(value: Any) -> bool:
    # JSON has one number type; 3.0 is a valid integer for the API server.
    return _numeric(value) and (isinstance(value, int) or float(value).is_integer())


_TYPE_CHECKS: Final[dict[str, Callable[[Any], bool]]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": _numeric,
    "integer": _integral,
}


def _type_ok(value: Any, node: _Node) -> bool:
    expected = node.type
    if expected is None:
        return not node.int_or_string or (
            isinstance(value, (int, str)) and not isinstance(value, bool)
        )
    check = _TYPE_CHECKS.get(expected)
    return check is None or check(value)


def _format_error(value: str, fmt: str) -> str | None:
    checker = _FORMAT_CHECKS.get(fmt)
    if checker is None or checker(value):
        return None
    return f"invalid {fmt}: {_short(value)}"


def _valid_date_time(value: str) -> bool:
    if not _DATE_TIME_RE.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return False
    return True


def _valid_date(value: str) -> bool:
    if not _DATE_RE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _valid_byte(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _parses(parser: Callable[[str], Any]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            parser(value)
        except ValueError:
            return False
        return True

    return check


_FORMAT_CHECKS: Final[dict[str, Callable[[str], bool]]] = {
    "date-time": _valid_date_time,
    "datetime": _valid_date_time,
    "date": _valid_date,
    "byte": _valid_byte,
    "ipv4": _parses(ipaddress.IPv4Address),
    "ipv6": _parses(ipaddress.IPv6Address),
    "cidr": _parses(lambda v: ipaddress.ip_network(v, strict=False)),
    "uuid": _parses(uuid.UUID),
    "duration": lambda v: bool(_DURATION_RE.fullmatch(v)),
    "mac": lambda v: bool(_MAC_RE.fullmatch(v)),
    "hostname": lambda v: (
        len(v) <= _DNS_SUBDOMAIN_MAX and bool(_DNS_SUBDOMAIN_RE.fullmatch(v.lower()))
    ),
}


def _apply_defaults(value: Any, node: _Node) -> None:
    """Fill structural defaults in place, top-down like the API server."""
    if not node.needs_defaulting:
        return
    if isinstance(value, dict):
        for key, default in node.defaults:
            if key not in value:
                value[key] = _clone(default)
        additional = node.additional if isinstance(node.additional, _Node) else None
        for key, item in value.items():
            child = node.properties.get(key, additional)
            if child is not None and item is not None:
                _apply_defaults(item, child)
    elif isinstance(value, list) and node.items is not None:
        for item in value:
            _apply_defaults(item, node.items)


# --------------------------------------------------------------------------- #
# Metadata (ObjectMeta is not described by CRD schemas)
# --------------------------------------------------------------------------- #


def _qualified_name_error(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > _DNS_SUBDOMAIN_MAX or not _DNS_SUBDOMAIN_RE.fullmatch(prefix)):
        return f"invalid key prefix {prefix!r} (must be a DNS subdomain)"
    if len(name) > _DNS_LABEL_MAX or not _QUALIFIED_NAME_RE.fullmatch(name):
        return f"invalid key name {name!r} (<=63 of [-A-Za-z0-9_.], alphanumeric at both ends)"
    return None


def _string_map_errors(value: Any, path: str, *, labels: bool) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected object of strings, got {_json_type(value)}"]
    errors: list[str] = []
    for key, item in value.items():
        where = _child_path(path, str(key))
        key_error = _qualified_name_error(str(key))
        if key_error:
            errors.append(f"{where}: {key_error}")
        if not isinstance(item, str):
            errors.append(f"{where}: value must be a string, got {_json_type(item)} {_short(item)}")
        elif (
            labels
            and item
            and (len(item) > _DNS_LABEL_MAX or not _QUALIFIED_NAME_RE.fullmatch(item))
        ):
            errors.append(f"{where}: invalid label value {item!r}")
    return errors


def _owner_ref_errors(value: Any, path: str) -> list[str]:
    if not isinstance(value, list):
        return [f"{path}: expected array, got {_json_type(value)}"]
    errors: list[str] = []
    for position, ref in enumerate(value):
        where = f"{path}[{position}]"
        if not isinstance(ref, dict):
            errors.append(f"{where}: expected object, got {_json_type(ref)}")
            continue
        errors.extend(
            f"{_child_path(where, key)}: Required value"
            for key in _OWNER_REF_REQUIRED
            if not ref.get(key)
        )
        errors.extend(
            f"{_child_path(where, key)}: expected boolean"
            for key in ("controller", "blockOwnerDeletion")
            if key in ref and not isinstance(ref[key], bool)
        )
    return errors


def _meta_scalar_ok(key: str, value: Any) -> bool:
    if key in _META_INTS:
        return _integral(value)
    # Serialised ObjectMeta often carries `creationTimestamp: null`.
    return isinstance(value, str) or (value is None and key in _META_TIMES)


def _meta_field_errors(key: str, value: Any, path: str) -> list[str]:
    where = _child_path(path, key)
    if key in _META_STRINGS | _META_TIMES | _META_INTS:
        if _meta_scalar_ok(key, value):
            return []
        expected = "integer" if key in _META_INTS else "string"
        return [f"{where}: expected {expected}, got {_json_type(value)} {_short(value)}"]
    if key in {"labels", "annotations"}:
        return _string_map_errors(value, where, labels=key == "labels")
    if key == "ownerReferences":
        return _owner_ref_errors(value, where)
    strings_only = key == "finalizers"
    if not isinstance(value, list) or (strings_only and not all(isinstance(v, str) for v in value)):
        return [f"{where}: expected array{' of strings' if strings_only else ''}"]
    return []


def _metadata_errors(meta: Any, path: str) -> list[str]:
    if not isinstance(meta, dict):
        return [f"{path}: expected object, got {_json_type(meta)}"]
    errors: list[str] = []
    for key, value in meta.items():
        if key not in _META_STRINGS | _META_TIMES | _META_INTS | _META_OTHER:
            errors.append(f"{_child_path(path, key)}: unknown ObjectMeta field {key!r}")
            continue
        errors.extend(_meta_field_errors(key, value, path))
    name = meta.get("name")
    if isinstance(name, str) and (
        len(name) > _DNS_SUBDOMAIN_MAX or not _DNS_SUBDOMAIN_RE.fullmatch(name)
    ):
        errors.append(f"{_child_path(path, 'name')}: {name!r} is not a valid DNS subdomain name")
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and (
        len(namespace) > _DNS_LABEL_MAX or not _DNS_LABEL_RE.fullmatch(namespace)
    ):
        errors.append(f"{_child_path(path, 'namespace')}: {namespace!r} is not a valid DNS label")
    return errors


def _embedded_errors(value: dict[str, Any], path: str) -> list[str]:
    # Mirrors apiextensions-apiserver's validateEmbeddedResource.
    errors: list[str] = []
    for key in ("apiVersion", "kind"):
        item = value.get(key)
        if key not in value:
            errors.append(f"{_child_path(path, key)}: Required value (embedded resource)")
        elif not isinstance(item, str) or not item:
            errors.append(f"{_child_path(path, key)}: must be a non-empty string")
    if "metadata" in value:
        errors.extend(_metadata_errors(value["metadata"], _child_path(path, "metadata")))
    return errors


# --------------------------------------------------------------------------- #
# The validator
# --------------------------------------------------------------------------- #


class _Checker:
    """One validation run; `lenient` checks allOf/anyOf/oneOf/not branches."""

    def __init__(self, *, lenient: bool = False) -> None:
        self.errors: list[str] = []
        self.lenient = lenient
        self.cel_memo: dict[int, Any] = {}

    def root(self, obj: Any, node: _Node) -> None:
        if not isinstance(obj, dict):
            self.errors.append(f"{_ROOT}: expected object, got {_json_type(obj)}")
            return
        for key in ("apiVersion", "kind"):
            if key in obj and not isinstance(obj[key], str):
                self.errors.append(f"{key}: expected string, got {_json_type(obj[key])}")
        if "metadata" in obj:
            self.errors.extend(_metadata_errors(obj["metadata"], "metadata"))
            self.metadata_schema(obj["metadata"], node.properties.get("metadata"))
        body = {k: v for k, v in obj.items() if k not in {"apiVersion", "kind", "metadata"}}
        self.required(body, node, "", skip={"apiVersion", "kind", "metadata"})
        self.fields(body, node, "")
        self.combinators(obj, node, "")
        self.rules(obj, node, "")

    def metadata_schema(self, meta: Any, node: _Node | None) -> None:
        # CRD schemas may only constrain metadata.name and metadata.generateName.
        if not isinstance(meta, dict) or node is None:
            return
        for key in ("name", "generateName"):
            child = node.properties.get(key)
            if child is not None and key in meta:
                self.value(meta[key], child, f"metadata.{key}")

    def value(self, value: Any, node: _Node, path: str) -> None:
        if value is None:
            if not node.nullable and not self.lenient:
                self.errors.append(
                    f"{_where(path)}: null is not allowed (field is not nullable; "
                    "the API server would drop it)",
                )
            return
        if not _type_ok(value, node):
            expected = node.type or "integer or string"
            self.errors.append(
                f"{_where(path)}: expected {expected}, got {_json_type(value)} {_short(value)}"
            )
            return
        if node.enum is not None and not any(_json_equal(value, member) for member in node.enum):
            allowed = ", ".join(_short(m) for m in node.enum)
            self.errors.append(
                f"{_where(path)}: unsupported value {_short(value)}; supported values: {allowed}"
            )
        if isinstance(value, str):
            self.string(value, node, path)
        elif isinstance(value, list):
            self.array(value, node, path)
        elif isinstance(value, dict):
            self.object(value, node, path)
        elif _numeric(value):
            self.number(value, node, path)
        self.combinators(value, node, path)
        self.rules(value, node, path)

    def string(self, value: str, node: _Node, path: str) -> None:
        where = _where(path)
        if node.min_length is not None and len(value) < node.min_length:
            self.errors.append(
                f"{where}: length {len(value)} is shorter than minLength {node.min_length}"
            )
        if node.max_length is not None and len(value) > node.max_length:
            self.errors.append(
                f"{where}: length {len(value)} is longer than maxLength {node.max_length}"
            )
        if node.pattern is not None and not node.pattern.search(value):
            self.errors.append(
                f"{where}: {_short(value)} does not match pattern {node.pattern_text!r}"
            )
        if node.format:
            problem = _format_error(value, node.format)
            if problem:
                self.errors.append(f"{where}: {problem}")

    def number(self, value: float, node: _Node, path: str) -> None:
        where = _where(path)
        if node.minimum is not None and (
            value < node.minimum or (node.exclusive_minimum and value == node.minimum)
        ):
            bound = "exclusive minimum" if node.exclusive_minimum else "minimum"
            self.errors.append(f"{where}: {value} is less than {bound} {node.minimum}")
        if node.maximum is not None and (
            value > node.maximum or (node.exclusive_maximum and value == node.maximum)
        ):
            bound = "exclusive maximum" if node.exclusive_maximum else "maximum"
            self.errors.append(f"{where}: {value} is greater than {bound} {node.maximum}")
        if node.multiple_of and not float(value / node.multiple_of).is_integer():
            self.errors.append(f"{where}: {value} is not a multiple of {node.multiple_of}")

    def array(self, value: list[Any], node: _Node, path: str) -> None:
        where = _where(path)
        if node.min_items is not None and len(value) < node.min_items:
            self.errors.append(
                f"{where}: has {len(value)} items, fewer than minItems {node.min_items}"
            )
        if node.max_items is not None and len(value) > node.max_items:
            self.errors.append(
                f"{where}: has {len(value)} items, more than maxItems {node.max_items}"
            )
        self.list_uniqueness(value, node, path)
        if node.items is not None:
            for position, item in enumerate(value):
                self.value(item, node.items, f"{path}[{position}]")

    def list_uniqueness(self, value: list[Any], node: _Node, path: str) -> None:
        if node.list_type not in {"set", "map"}:
            return
        seen: dict[str, int] = {}
        for position, item in enumerate(value):
            if node.list_type == "map" and isinstance(item, dict):
                key = _canonical([item.get(k) for k in node.list_map_keys])
            else:
                key = _canonical(item)
            if key in seen:
                self.errors.append(
                    f"{path}[{position}]: duplicate {node.list_type} entry (same as [{seen[key]}])",
                )
            seen.setdefault(key, position)

    def object(self, value: dict[str, Any], node: _Node, path: str) -> None:
        where = _where(path)
        if node.min_properties is not None and len(value) < node.min_properties:
            self.errors.append(
                f"{where}: has {len(value)} properties, fewer than {node.min_properties}"
            )
        if node.max_properties is not None and len(value) > node.max_properties:
            self.errors.append(
                f"{where}: has {len(value)} properties, more than {node.max_properties}"
            )
        self.required(value, node, path)
        self.fields(value, node, path)
        if node.embedded and not self.lenient:
            self.errors.extend(_embedded_errors(value, path))

    def required(
        self, value: dict[str, Any], node: _Node, path: str, skip: Iterable[str] = ()
    ) -> None:
        self.errors.extend(
            f"{_where(_child_path(path, key))}: Required value"
            for key in node.required
            if key not in value and key not in skip
        )

    def fields(self, value: dict[str, Any], node: _Node, path: str) -> None:
        additional = node.additional if isinstance(node.additional, _Node) else None
        open_ended = node.preserve or node.additional is True or self.lenient
        for key, item in value.items():
            child = node.properties.get(key, additional)
            if child is not None:
                self.value(item, child, _child_path(path, key))
            elif node.embedded and key in {"apiVersion", "kind", "metadata"}:
                continue
            elif not open_ended:
                self.errors.append(
                    f"{_child_path(path, key)}: unknown field {key!r} "
                    "(the API server would silently prune it)",
                )

    def combinators(self, value: Any, node: _Node, path: str) -> None:
        where = _where(path)
        for branch in node.all_of:
            self.errors.extend(_branch_errors(value, branch, path))
        if node.any_of and not any(not _branch_errors(value, b, path) for b in node.any_of):
            self.errors.append(f"{where}: must match at least one anyOf schema")
        if node.one_of:
            matched = sum(1 for b in node.one_of if not _branch_errors(value, b, path))
            if matched != 1:
                self.errors.append(
                    f"{where}: must match exactly one oneOf schema (matched {matched})"
                )
        if node.not_ is not None and not _branch_errors(value, node.not_, path):
            self.errors.append(f"{where}: must not match the 'not' schema")

    def rules(self, value: Any, node: _Node, path: str) -> None:
        if not node.rules or self.lenient:
            return
        cel_self = None
        canonical = None
        for rule in node.rules:
            if rule.transition:
                continue
            where = _where(path + rule.field_path if path else rule.field_path.lstrip("."))
            if rule.problem is not None:
                self.errors.append(
                    f"{CEL_UNSUPPORTED} {where}: {rule.problem} (rule: {rule.text!r})"
                )
                continue
            canonical = canonical if canonical is not None else _canonical(value)
            if canonical in rule.memo:
                outcome = rule.memo[canonical]
            else:
                if cel_self is None:
                    cel_self = _cel_self(value, node, self.cel_memo, root=not path)
                outcome = _evaluate_rule(rule, cel_self)
                if len(rule.memo) >= _RULE_MEMO_LIMIT:
                    rule.memo.clear()
                rule.memo[canonical] = outcome
            if outcome is not None:
                unsupported, detail = outcome
                prefix = f"{CEL_UNSUPPORTED} " if unsupported else ""
                self.errors.append(f"{prefix}{where}: {detail}")


def _branch_errors(value: Any, node: _Node, path: str) -> list[str]:
    checker = _Checker(lenient=True)
    checker.value(value, node, path)
    return checker.errors


def _run(obj: Any, node: _Node) -> list[str]:
    # Work on a copy: defaulting mutates, and callers reuse their manifests.
    obj = _clone(obj)
    _apply_defaults(obj, node)
    checker = _Checker()
    checker.root(obj, node)
    return checker.errors


def _find_version(
    api_version: str,
    kind: str,
    extra_crds: Iterable[Mapping[str, Any]],
) -> tuple[_Node | None, str | None]:
    group, version = _split_api_version(api_version)
    for crd in extra_crds:
        spec = crd.get("spec", {})
        if spec.get("group") == group and spec.get("names", {}).get("kind") == kind:
            served = [v["name"] for v in spec.get("versions", []) if v.get("served")]
            if version not in served:
                return None, _unserved(api_version, kind, served)
            return _compiled_raw(_version_schema(crd, version)), None
    entry = _index(crds_dir()).get((group, kind))
    if entry is None:
        problem = f"apiVersion: no CRD defines kind {kind!r} in group {group!r} (in {crds_dir()})"
        return None, problem
    if version not in entry.served:
        return None, _unserved(api_version, kind, entry.served)
    return _compiled_crd_version(entry.path, version), None


def _unserved(api_version: str, kind: str, served: Iterable[str]) -> str:
    listed = ", ".join(served) or "none"
    return f"apiVersion: {api_version} {kind} is not a served version (served: {listed})"


def validate(manifest: dict[str, Any], extra_crds: Iterable[dict[str, Any]] = ()) -> list[str]:
    """Validate a manifest the way the API server would on create.

    Args:
        manifest: The object to check; it is not modified.
        extra_crds: CRDs to consult before the shared snapshot.

    Returns:
        Human-readable errors, each starting with a JSON path; empty when valid.
    """
    if not isinstance(manifest, dict):
        return [f"{_ROOT}: expected object, got {_json_type(manifest)}"]
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or not api_version:
        return ["apiVersion: Required value"]
    if not isinstance(kind, str) or not kind:
        return ["kind: Required value"]
    node, problem = _find_version(api_version, kind, extra_crds)
    if node is None:
        return [problem or f"apiVersion: cannot resolve {api_version} {kind}"]
    return _run(manifest, node)


def validate_schema(obj: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Validate an object against a raw ``openAPIV3Schema`` (e.g. from an XRD).

    ``apiVersion``, ``kind`` and ``metadata`` are always accepted at the root,
    as the API server adds them to every CRD schema. The schema is compiled
    once per dict object, so do not mutate it between calls.

    Returns:
        Human-readable errors, each starting with a JSON path; empty when valid.
    """
    return _run(obj, _compiled_raw(schema))


def _walk(node: _Node) -> Iterable[_Node]:
    yield node
    children = [*node.properties.values(), node.items, node.additional, node.not_]
    for child in [*children, *node.all_of, *node.any_of, *node.one_of]:
        if isinstance(child, _Node):
            yield from _walk(child)


def unsupported_cel_rules() -> list[str]:
    """List the snapshot's CEL rules this validator cannot evaluate.

    Returns:
        One ``file@version: rule: problem`` line per rule; empty when all are supported.
    """
    found: set[str] = set()
    for entry in _index(crds_dir()).values():
        for version in _load_yaml(entry.path)["spec"]["versions"]:
            root = _compiled_crd_version(entry.path, version["name"])
            found.update(
                f"{entry.path.name}@{version['name']}: {rule.text!r}: {rule.problem}"
                for node in _walk(root)
                for rule in node.rules
                if rule.problem is not None
            )
    return sorted(found)


@functools.cache
def _helm_validator(directory: Path) -> Draft202012Validator:
    schema_path = directory / "vcluster" / "values.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def validate_helm_values(values: dict[str, Any]) -> list[str]:
    """Validate vcluster Helm values against the chart's ``values.schema.json``.

    Returns:
        Human-readable errors, each starting with a JSON path; empty when valid.
    """
    validator = _helm_validator(crds_dir())
    errors: list[str] = []
    for error in sorted(
        validator.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        path = ""
        for part in error.absolute_path:
            path = f"{path}[{part}]" if isinstance(part, int) else _child_path(path, str(part))
        errors.append(f"{_where(path)}: {error.message}")
    return errors
