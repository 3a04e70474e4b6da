"""JSON → the typed models (models.py), driven by the dataclasses' own annotations."""
from __future__ import annotations

import dataclasses
import datetime
import functools
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(model: type[T] | Any, value: Any) -> T:
    """`value` (parsed JSON) as `model`: a dataclass of models.py, a list of them, a Literal, a
    date or instant (ISO 8601 strings), or a plain type. Keys the model does not know are ignored
    (a newer server may add fields); a missing key of an optional field is None."""
    if value is None:
        return None  # type: ignore[return-value]
    origin = typing.get_origin(model)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(model) if a is not type(None)]
        for option in options:
            try:
                return decode(option, value)
            except (TypeError, ValueError):
                continue
        return value
    if origin is list:
        (item,) = typing.get_args(model) or (Any,)
        return [decode(item, v) for v in value]  # type: ignore[return-value]
    if origin is dict or origin is typing.Literal or model is Any:
        return value
    if model is datetime.datetime:
        if not isinstance(value, str):
            raise TypeError("instant expected")
        return datetime.datetime.fromisoformat(value)  # type: ignore[return-value]
    if model is datetime.date:
        if not isinstance(value, str):
            raise TypeError("date expected")
        return datetime.date.fromisoformat(value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(model):
        if not isinstance(value, dict):
            raise TypeError(f"{model.__name__} expects an object")
        hints = _hints(model)
        return model(**{f.name: decode(hints[f.name], value.get(f.name))  # type: ignore[return-value]
                        for f in dataclasses.fields(model)})
    if model is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # type: ignore[return-value]
    return value
