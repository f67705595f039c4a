"""Error wording: every refusal is one Fatal result that names the field and says why."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from function.model.types import PATTERN_HINTS

if TYPE_CHECKING:
    from pydantic import ValidationError


class InvalidError(ValueError):
    """A claim or input that cannot be composed; the message names the field."""


MAX_QUOTED = 80
_VALUE_ERROR = re.compile(r"^(Value|Assertion) error, ")
# Model validators name the sub-field they reject as "field: message".
_SUB_FIELD = re.compile(
    r"^([A-Za-z][A-Za-z0-9\[\]]*(\.[A-Za-z][A-Za-z0-9\[\]]*)*): (.*)$", re.DOTALL
)


def describe_error(prefix: str, error: ValidationError) -> str:
    """Turn the first validation error into 'field.path: what is wrong'.

    Only the first error is reported: one Fatal result that names one field is
    easier to act on than a wall of pydantic output, and fixing it reveals the next.
    """
    first = error.errors(include_url=False)[0]
    loc = list(first["loc"])
    # A map's key is refused at (..., map, key, "[key]"): name the map, then the key.
    of_key = loc[-1:] == ["[key]"]
    path = prefix
    for part in loc[:-2] if of_key else loc:
        path += f"[{part}]" if isinstance(part, int) else f".{short(str(part))}"
    return f"{path}{_explain(first, 'key ' if of_key else '')}"


def short(value: Any) -> Any:  # noqa: ANN401
    """A value as a person wrote it, short enough to quote (a 5 MB string would drown it)."""
    if isinstance(value, float) and value.is_integer():
        # protobuf Struct carries every number as a double.
        return int(value)
    if isinstance(value, str) and len(value) > MAX_QUOTED:
        return f"{value[:MAX_QUOTED]}... ({len(value)} characters)"
    return value


def _explain(error: Any, what: str) -> str:  # noqa: ANN401
    """The readable part of one pydantic error, prefixed with ': ' or a sub-field.

    ``what`` says what was refused when it is not the field's value (a map's key).
    """
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    message = _VALUE_ERROR.sub("", error["msg"])
    if kind == "value_error" and (sub := _SUB_FIELD.match(message)):
        return f".{sub.group(1)}: {sub.group(3)}"
    hint = PATTERN_HINTS.get(str(ctx.get("pattern")), "valid")
    given = ctx.get("actual_length")
    if given is None and isinstance(value, (dict, list)):
        given = len(value)  # pydantic leaves it out for maps
    value = short(value)
    readable = {
        "extra_forbidden": "unknown field",
        "missing": "required field is missing",
        "string_pattern_mismatch": f"{what}{value!r} is not {hint}",
        "less_than_equal": f"{value!r} is more than the maximum {ctx.get('le')}",
        "greater_than_equal": f"{value!r} is less than the minimum {ctx.get('ge')}",
        "literal_error": f"{value!r} is not one of {ctx.get('expected')}",
        "enum": f"{value!r} is not one of {ctx.get('expected')}",
        "string_too_long": (f"{what}{value!r} is longer than {ctx.get('max_length')} characters"),
        "too_long": f"{given} given; at most {ctx.get('max_length')}",
        "list_type": "must be a list",
        "finite_number": "must be a finite number",
        "int_parsing_size": "is too large",
        "string_type": "must be a string",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
    }
    return f": {readable.get(kind, message)}"
