"""Response serialization driven by the service model's output shapes.

The backend returns plain Python values; this module writes exactly the members the output
shape defines, in their JSON 1.0 wire form: timestamps as epoch seconds (a JSON number, with
milliseconds when there are any), absent values omitted. A member the shape does not define is a
bug in the emulator, reported as an error rather than sent.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import ListShape, MapShape, Shape, StructureShape

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECONDS_PER_SECOND = 1_000_000


class OutputShapeError(ValueError):
    """The backend produced a value that the output shape cannot carry."""


def serialize_output(shape: StructureShape | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the JSON-ready body of a successful response.

    Parameters
    ----------
    shape:
        The operation's output shape; ``None`` for operations without output, whose body is
        ``{}``.
    values:
        The backend's result, keyed by the shape's member names. ``None`` values are omitted.

    Raises
    ------
    OutputShapeError
        If a value has no member in the shape or the wrong type for its member.
    """
    if shape is None:
        present = [name for name, value in values.items() if value is not None]
        if present:
            raise OutputShapeError(f"Operation has no output shape, yet returned {present}")
        return {}
    return _serialize_structure(values, shape, shape.name)


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Return a response body as compact UTF-8 JSON."""
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


def epoch_seconds(moment: datetime.datetime) -> int | float:
    """Return an aware datetime as epoch seconds: an int when whole, else a float.

    The conversion goes through integer microseconds, so a value with millisecond precision
    comes back from botocore's parser as the same datetime.
    """
    if moment.tzinfo is None:
        raise OutputShapeError(f"Timestamp {moment.isoformat()} has no time zone")
    microseconds = (moment - EPOCH) // datetime.timedelta(microseconds=1)
    if microseconds % _MICROSECONDS_PER_SECOND == 0:
        return microseconds // _MICROSECONDS_PER_SECOND
    return microseconds / _MICROSECONDS_PER_SECOND


def _serialize(value: object, shape: Shape, path: str) -> object:
    type_name = shape.type_name
    if type_name == "structure":
        return _serialize_structure(value, shape, path)
    if type_name == "list":
        list_shape: ListShape = shape  # type: ignore[assignment]
        if not isinstance(value, list | tuple):
            raise OutputShapeError(f"{path} must be a list, got {type(value).__name__}")
        return [
            _serialize(item, list_shape.member, f"{path}[{index}]")
            for index, item in enumerate(value)
        ]
    if type_name == "map":
        map_shape: MapShape = shape  # type: ignore[assignment]
        if not isinstance(value, Mapping):
            raise OutputShapeError(f"{path} must be a mapping, got {type(value).__name__}")
        return {
            str(key): _serialize(item, map_shape.value, f"{path}.{key}")
            for key, item in value.items()
        }
    if type_name == "timestamp":
        return _serialize_timestamp(value, path)
    return _serialize_scalar(value, type_name, path)


def _serialize_structure(value: object, shape: Shape, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise OutputShapeError(f"{path} must be a mapping, got {type(value).__name__}")
    structure: StructureShape = shape  # type: ignore[assignment]
    members = structure.members
    serialized: dict[str, Any] = {}
    for name, member_value in value.items():
        if name not in members:
            raise OutputShapeError(f"{path} has no member {name!r} in {structure.name}")
        if member_value is None:
            continue
        serialized[name] = _serialize(member_value, members[name], f"{path}.{name}")
    return serialized


def _serialize_timestamp(value: object, path: str) -> int | float:
    if isinstance(value, datetime.datetime):
        return epoch_seconds(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise OutputShapeError(f"{path} must be a datetime or epoch seconds, got {value!r}")


_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
}


def _serialize_scalar(value: object, type_name: str, path: str) -> object:
    allowed = _SCALAR_TYPES.get(type_name)
    if allowed is None:
        raise OutputShapeError(f"{path} has shape type {type_name}, which is not supported")
    wrong_bool = isinstance(value, bool) and type_name != "boolean"
    if wrong_bool or not isinstance(value, allowed):
        raise OutputShapeError(f"{path} must be a {type_name}, got {value!r}")
    return value
