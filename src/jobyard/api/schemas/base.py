"""Shared bases for request and answer models."""

from __future__ import annotations

from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator


class Request(BaseModel):
    """A request body: unknown fields are refused, so a typo never passes silently; and values
    must have the JSON type the schema gives (strict: no "5" for 5, no 1 for true), so what the
    schema forbids is refused rather than guessed at. Times, which JSON carries as text, are the
    one exception (see `fields.AwareDatetime`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers(cls, data: Any) -> Any:
        """JSON Schema's `integer` takes 5.0 as well as 5 (a whole number is an integer however
        it is written); strict validation alone would refuse it."""
        if not isinstance(data, dict):
            return data
        wanted = _int_fields(cls)
        if not any(_has_float(data[k]) for k in wanted if k in data):
            return data
        fields = cls.model_fields
        return {k: _as_int(v, fields[k].annotation) if k in wanted else v for k, v in data.items()}


@cache
def _int_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` whose type takes an int somewhere: the only ones worth a look."""
    return frozenset(
        name for name, field in model.model_fields.items() if _mentions_int(field.annotation)
    )


def _mentions_int(annotation: Any) -> bool:
    return annotation is int or any(_mentions_int(a) for a in get_args(annotation))


def _has_float(value: Any) -> bool:
    """Whether a float lies anywhere in `value`: mostly there is none, and nothing to convert."""
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


def _as_int(value: Any, annotation: Any) -> Any:
    """`value` with each whole float made an int wherever `annotation` takes an int (and no
    float): in lists and dictionary values too. Nested models see to their own fields."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and _takes_int_only(annotation) else value
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _as_int(value, args[0])
    if origin in (Union, UnionType):
        for arg in args:
            converted = _as_int(value, arg)
            if converted is not value:
                return converted
        return value
    if origin is list and args and isinstance(value, list):
        return [_as_int(item, args[0]) for item in value]
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return {k: _as_int(item, args[1]) for k, item in value.items()}
    return value


def _takes_int_only(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _takes_int_only(args[0])
    if origin in (Union, UnionType):
        members = [get_args(a)[0] if get_origin(a) is Annotated else a for a in args]
        return int in members and float not in members
    return False


class Answer(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorAnswer(BaseModel):
    """Every error: `{"error": {"code", "message", ...}}`."""

    error: ErrorBody
