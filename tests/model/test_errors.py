"""Error wording: each kind of pydantic error becomes one readable 'field: what is wrong'."""

from __future__ import annotations

import enum
import math
from typing import Annotated, Any

import pytest
from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from function.model import types
from function.model.errors import describe_error


class _Color(enum.Enum):
    RED = "red"


class _Inner(types.Strict):
    a: types.Int = 1


class _FromAttributes(types.Strict):
    """A model that may also be read from an object's attributes: pydantic's other error type."""

    model_config = ConfigDict(from_attributes=True)
    a: types.Int = 1


class _Required(types.Strict):
    a: types.Int


class _Checked(types.Strict):
    n: types.Int = 0
    m: types.Int = 0

    @model_validator(mode="after")
    def _check(self) -> _Checked:
        if self.n < 0:
            msg = "limits.burst: must not be negative"
            raise ValueError(msg)
        if self.m < 0:
            msg = "m and n disagree"
            raise ValueError(msg)
        return self


LONG_KEY = "k" * 100
NOT_SUBNET = "is not a subnet id ('subnet-' then 8 or 17 lower-case hex digits)"
CASES = [
    # (reason, type, value, message after "spec.f")
    ("a field the schema lacks is named", types.Strict, {"x": 1}, ".x: unknown field"),
    ("a missing field is named", _Required, {}, ".a: required field is missing"),
    ("a port above the range says the maximum", types.Port, 70000,
     ": 70000 is more than the maximum 65535"),
    ("a protobuf double is quoted as the integer written", Annotated[float, Field(le=5.5)], 7.0,
     ": 7 is more than the maximum 5.5"),
    ("a port below the range says the minimum", types.Port, 0, ": 0 is less than the minimum 1"),
    ("a literal lists what it accepts", types.HttpMethod, "FOO",
     ": 'FOO' is not one of 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS' or '*'"),
    ("an enum lists what it accepts", _Color, "blue", ": 'blue' is not one of 'red'"),
    ("a long string says the limit", Annotated[str, StringConstraints(max_length=3)], "abcd",
     ": 'abcd' is longer than 3 characters"),
    ("a pattern says what it means in words", types.SubnetId, "12345", f": '12345' {NOT_SUBNET}"),
    ("a pattern without a hint still refuses", Annotated[str, StringConstraints(pattern=r"^a$")],
     "b", ": 'b' is not valid"),
    ("a huge value is cut before quoting", types.SubnetId, "x" * 100,
     f": '{'x' * 80}... (100 characters)' {NOT_SUBNET}"),
    ("an 80-character value is quoted whole", types.SubnetId, "x" * 80,
     f": '{'x' * 80}' {NOT_SUBNET}"),
    ("a list is required", list[str], "x", ": must be a list"),
    ("NaN is no number", types.Float, math.nan, ": must be a finite number"),
    ("a number too large to parse", int, "9" * 5000, ": is too large"),
    ("a string is required", str, 5, ": must be a string"),
    ("a quoted number is no integer", types.Int, "8080", ": must be an integer"),
    ("text is no integer", int, "abc", ": must be an integer"),
    ("a fraction is no whole number", int, 1.5, ": must be a whole number"),
    ("text is no number", types.Float, "x", ": must be a number"),
    ("unparsable text is no number", float, "abc", ": must be a number"),
    ("'yes' is no boolean", types.Bool, "yes", ": must be true or false"),
    ("'maybe' is no boolean", bool, "maybe", ": must be true or false"),
    ("a map is an object", dict[str, str], 1, ": must be an object"),
    ("a nested model is an object", _Inner, "x", ": must be an object"),
    ("a model read from attributes is an object too", _FromAttributes, "x", ": must be an object"),
    ("an item of a list is named by index", list[types.SubnetId], ["subnet-0a1b2c3d", "x"],
     f"[1]: 'x' {NOT_SUBNET}"),
    ("a long field name is cut too", types.Strict, {LONG_KEY: 1},
     f".{'k' * 80}... (100 characters): unknown field"),
    ("a validator naming a sub-field is reported at it", _Checked, {"n": -1},
     ".limits.burst: must not be negative"),
    ("a validator's plain message keeps the field", _Checked, {"m": -1}, ": m and n disagree"),
    ("an error without wording of ours keeps pydantic's",
     Annotated[str, StringConstraints(min_length=3)], "a",
     ": String should have at least 3 characters"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "kind", "value", "message"),
    [pytest.param(*case, id=case[0][:40]) for case in CASES],
)
def test_describe_error(reason: str, kind: Any, value: Any, message: str) -> None:
    """The first error, as the field path then what is wrong, in words."""
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(kind).validate_python(value)
    assert describe_error("spec.f", refused.value) == f"spec.f{message}", reason
