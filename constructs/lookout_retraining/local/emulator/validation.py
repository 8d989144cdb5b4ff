"""Request validation driven by the service model's input shapes.

Nothing here knows an operation: it walks botocore's shapes and checks required members, unknown
members, JSON types, length and value ranges, patterns and enums. It knows the shape types that
the inputs of the implemented operations use (structures, lists, strings, integers and
timestamps) and no other: :func:`check_inputs_supported`, run when the emulator is made, fails
on any other type or on a pattern :mod:`.patterns` cannot translate, so that an operation added
later with such a member fails loudly instead of being validated loosely. Violations are
reported the way the service's frontend reports them, all at once::

    2 validation errors detected: Value 'P10X' at 'retrainingFrequency' failed to satisfy
    constraint: Member must satisfy regular expression pattern: ^P(\\dY)?(\\d{1,2}M)?(\\d{1,3}D)?$;
    Value null at 'lookbackWindow' failed to satisfy constraint: Member must not be null
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.emulator.errors import ValidationException
from lookout_retraining.local.emulator.patterns import (
    UnsupportedPatternError,
    compile_java_pattern,
)
from lookout_retraining.local.emulator.service_model import operation_model

if TYPE_CHECKING:
    from botocore.model import ListShape, OperationModel, Shape, StructureShape

# datetime's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z in epoch seconds.
_MIN_EPOCH_SECONDS = -62135596800
_MAX_EPOCH_SECONDS = 253402300799
_ECHO_LIMIT = 100


class UnsupportedShapeError(RuntimeError):
    """An operation's input has a member that this validation cannot check."""


@dataclass(frozen=True)
class Violation:
    """One broken constraint: where, what value, and which constraint."""

    path: str
    value: object
    constraint: str

    def describe(self) -> str:
        """Return the violation as the service phrases it."""
        return (
            f"Value {_render(self.value)} at '{self.path}' failed to satisfy constraint: "
            f"{self.constraint}"
        )


def validate_request(operation: OperationModel, request: Mapping[str, Any]) -> None:
    """Check a parsed request body against the operation's input shape.

    Raises
    ------
    ValidationException
        Listing every violation, in the service's wording.
    """
    input_shape = operation.input_shape
    violations: list[Violation] = []
    if input_shape is None:
        violations.extend(
            Violation(_member_path("", name), value, "Member is not defined for this operation")
            for name, value in request.items()
        )
    else:
        _check_structure(request, input_shape, "", violations)
    if not violations:
        return
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    raise ValidationException(
        f"{count} validation {noun} detected: "
        + "; ".join(violation.describe() for violation in violations)
    )


@functools.cache
def check_inputs_supported(operation_names: frozenset[str]) -> None:
    """Check that every member of the operations' inputs can be validated; cached.

    Raises
    ------
    UnsupportedShapeError
        Naming the operation, the member and its shape, if a member has a type without a
        checker here or a pattern that cannot be translated to Python.
    """
    for operation_name in sorted(operation_names):
        check_input_supported(operation_model(operation_name))


def check_input_supported(operation: OperationModel) -> None:
    """Check that every member of one operation's input can be validated.

    Raises
    ------
    UnsupportedShapeError
        Naming the operation, the member and its shape, if a member has a type without a
        checker here or a pattern that cannot be translated to Python.
    """
    if operation.input_shape is not None:
        _check_shape_supported(operation.name, operation.input_shape, "", set())


def _check_shape_supported(operation: str, shape: Shape, path: str, seen: set[str]) -> None:
    where = f"{operation} input member '{path or '(the input)'}' (shape {shape.name})"
    if shape.type_name not in _CHECKERS:
        raise UnsupportedShapeError(
            f"{where} has type {shape.type_name}; the emulator validates "
            f"{', '.join(_CHECKERS)} only, so add a checker before implementing {operation}"
        )
    pattern = shape.metadata.get("pattern")
    if pattern is not None:
        try:
            compile_java_pattern(pattern)
        except (UnsupportedPatternError, re.error) as error:
            raise UnsupportedShapeError(
                f"{where} has a pattern the emulator cannot check: {error}"
            ) from error
    if shape.name in seen:
        return
    seen.add(shape.name)
    if shape.type_name == "structure":
        structure: StructureShape = shape  # type: ignore[assignment]
        for name, member_shape in structure.members.items():
            _check_shape_supported(operation, member_shape, _member_path(path, name), seen)
    elif shape.type_name == "list":
        list_shape: ListShape = shape  # type: ignore[assignment]
        _check_shape_supported(operation, list_shape.member, f"{path}.member", seen)


def _check(value: object, shape: Shape, path: str, violations: list[Violation]) -> None:
    checker = _CHECKERS.get(shape.type_name)
    if checker is None:
        # check_inputs_supported refuses such an operation when the emulator is made.
        raise UnsupportedShapeError(
            f"Input member '{path}' (shape {shape.name}) has type {shape.type_name}, which the "
            "emulator does not validate"
        )
    checker(value, shape, path, violations)


def _check_structure(value: object, shape: Shape, path: str, violations: list[Violation]) -> None:
    if not isinstance(value, Mapping):
        violations.append(Violation(path, value, "Member must be a structure (a JSON object)"))
        return
    structure: StructureShape = shape  # type: ignore[assignment]
    members = structure.members
    for name in value:
        if name not in members:
            violations.append(
                Violation(
                    _member_path(path, str(name)),
                    value[name],
                    f"Member is not defined in {structure.name}; its members are "
                    f"{', '.join(members)}",
                )
            )
    for name in structure.required_members:
        # The service treats an explicit JSON null like an absent member.
        if value.get(name) is None:
            violations.append(Violation(_member_path(path, name), None, "Member must not be null"))
    for name, member_shape in members.items():
        member_value = value.get(name)
        if member_value is not None:
            _check(member_value, member_shape, _member_path(path, name), violations)


def _check_list(value: object, shape: Shape, path: str, violations: list[Violation]) -> None:
    if not isinstance(value, list):
        violations.append(Violation(path, value, "Member must be a list (a JSON array)"))
        return
    _check_length(len(value), value, shape, path, violations)
    list_shape: ListShape = shape  # type: ignore[assignment]
    for position, item in enumerate(value, start=1):
        item_path = f"{path}.{position}.member"
        if item is None:
            violations.append(Violation(item_path, None, "Member must not be null"))
            continue
        _check(item, list_shape.member, item_path, violations)


def _check_string(value: object, shape: Shape, path: str, violations: list[Violation]) -> None:
    if not isinstance(value, str):
        violations.append(Violation(path, value, "Member must be a string"))
        return
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        violations.append(
            Violation(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        )
    _check_length(len(value), value, shape, path, violations)
    pattern = shape.metadata.get("pattern")
    if pattern is not None and not compile_java_pattern(pattern).fullmatch(value):
        violations.append(
            Violation(path, value, f"Member must satisfy regular expression pattern: {pattern}")
        )


def _check_integer(value: object, shape: Shape, path: str, violations: list[Violation]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        violations.append(Violation(path, value, "Member must be an integer"))
        return
    _check_value_range(value, shape, path, violations)


def _check_timestamp(value: object, shape: Shape, path: str, violations: list[Violation]) -> None:
    # The JSON 1.0 protocol sends timestamps as epoch seconds, a JSON number.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        violations.append(
            Violation(path, value, "Member must be a timestamp in epoch seconds (a JSON number)")
        )
        return
    if not _MIN_EPOCH_SECONDS <= value <= _MAX_EPOCH_SECONDS:
        violations.append(
            Violation(
                path,
                value,
                f"Member must be a timestamp between {_MIN_EPOCH_SECONDS} and "
                f"{_MAX_EPOCH_SECONDS} epoch seconds (years 1 to 9999)",
            )
        )


def _check_length(
    length: int, value: object, shape: Shape, path: str, violations: list[Violation]
) -> None:
    minimum = shape.metadata.get("min")
    maximum = shape.metadata.get("max")
    if minimum is not None and length < minimum:
        violations.append(
            Violation(path, value, f"Member must have length greater than or equal to {minimum}")
        )
    if maximum is not None and length > maximum:
        violations.append(
            Violation(path, value, f"Member must have length less than or equal to {maximum}")
        )


def _check_value_range(value: float, shape: Shape, path: str, violations: list[Violation]) -> None:
    minimum = shape.metadata.get("min")
    maximum = shape.metadata.get("max")
    if minimum is not None and value < minimum:
        violations.append(
            Violation(path, value, f"Member must have value greater than or equal to {minimum}")
        )
    if maximum is not None and value > maximum:
        violations.append(
            Violation(path, value, f"Member must have value less than or equal to {maximum}")
        )


# The types that the inputs of the implemented operations use, and no others.
_CHECKERS = {
    "structure": _check_structure,
    "list": _check_list,
    "string": _check_string,
    "integer": _check_integer,
    "timestamp": _check_timestamp,
}


def _member_path(parent: str, member_name: str) -> str:
    # The service names members in lower camel case: ModelName -> modelName.
    name = member_name[:1].lower() + member_name[1:]
    return f"{parent}.{name}" if parent else name


def _render(value: object) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > _ECHO_LIMIT:
        text = f"{text[:60]}...{text[-20:]} ({len(text)} characters)"
    return f"'{text}'"
