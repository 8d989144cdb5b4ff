"""Java regular expressions from the service model, translated for Python's ``re``.

The service model states its string patterns in Java syntax (the service validates with Java),
including property classes that ``re`` lacks: ``\\p{ASCII}`` in ``IdempotenceToken`` and
``NextToken``, ``[\\P{M}\\p{M}]`` in ``BoundedLengthString``. This module rewrites each property
class into explicit code point ranges and compiles the result with ``re.ASCII``, because Java's
``\\w``, ``\\d`` and ``\\s`` match ASCII characters only. Patterns match the whole value, as the
service's validation does (a pattern without anchors still constrains every character).
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import unicodedata

_MAX_CODE_POINT = sys.maxunicode

# Java's POSIX character classes (US-ASCII only unless UNICODE_CHARACTER_CLASS is set).
_POSIX_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "ASCII": ((0x00, 0x7F),),
    "Lower": ((0x61, 0x7A),),
    "Upper": ((0x41, 0x5A),),
    "Alpha": ((0x41, 0x5A), (0x61, 0x7A)),
    "Digit": ((0x30, 0x39),),
    "Alnum": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)),
    "Punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "Graph": ((0x21, 0x7E),),
    "Print": ((0x20, 0x7E),),
    "Blank": ((0x09, 0x09), (0x20, 0x20)),
    "Cntrl": ((0x00, 0x1F), (0x7F, 0x7F)),
    "XDigit": ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
    "Space": ((0x09, 0x0D), (0x20, 0x20)),
}

_GENERAL_CATEGORY = re.compile(r"^(?:Is)?([CLMNPSZ][a-z]?)$")


class UnsupportedPatternError(ValueError):
    """A Java pattern uses a construct that this translator does not rewrite."""


def compile_java_pattern(pattern: str) -> re.Pattern[str]:
    """Return a compiled Python pattern equivalent to a Java pattern from the service model.

    Use ``fullmatch`` on the result: the service validates the whole value.

    Raises
    ------
    UnsupportedPatternError
        If the pattern uses a Java construct without a Python equivalent here (nested
        character classes, class intersections, unknown property names).
    re.error
        If the translated pattern does not compile.
    """
    return _compile(pattern)


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(translate_java_pattern(pattern), re.ASCII)


def translate_java_pattern(pattern: str) -> str:
    """Return the Python spelling of a Java pattern.

    ``\\p{Name}`` and ``\\P{Name}`` become explicit code point ranges (inside a character class)
    or a character class of those ranges (outside one); ``\\Q...\\E`` quoting becomes escaped
    text. Everything else is copied, as Java and Python agree on it.

    Raises
    ------
    UnsupportedPatternError
        On nested character classes, ``&&`` intersections and unknown property names.
    """
    pieces: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            if escaped in "pP":
                name, index = _read_property_name(pattern, index + 2)
                body = _ranges_to_class_body(_property_ranges(name, negated=escaped == "P"))
                pieces.append(body if in_class else f"[{body}]")
                continue
            if escaped == "Q":
                end = pattern.find("\\E", index + 2)
                end = len(pattern) if end == -1 else end
                pieces.append(re.escape(pattern[index + 2 : end]))
                index = end + 2
                continue
            pieces.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class and (char == "[" or pattern.startswith("&&", index)):
            raise UnsupportedPatternError(
                f"Pattern {pattern!r} nests character classes or intersects them at offset "
                f"{index}, which the Java-to-Python translation does not support"
            )
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        pieces.append(char)
        index += 1
    return "".join(pieces)


def _read_property_name(pattern: str, start: int) -> tuple[str, int]:
    if start < len(pattern) and pattern[start] == "{":
        end = pattern.find("}", start)
        if end == -1:
            raise UnsupportedPatternError(f"Pattern {pattern!r} has an unclosed \\p{{ at {start}")
        return pattern[start + 1 : end], end + 1
    if start < len(pattern):
        return pattern[start], start + 1
    raise UnsupportedPatternError(f"Pattern {pattern!r} ends inside a \\p property class")


def _property_ranges(name: str, *, negated: bool) -> tuple[tuple[int, int], ...]:
    ranges = _POSIX_RANGES.get(name.removeprefix("Is"))
    if ranges is None:
        category = _GENERAL_CATEGORY.match(name)
        if category is None:
            raise UnsupportedPatternError(
                f"Java property class \\p{{{name}}} is not supported: use a POSIX class "
                f"({', '.join(_POSIX_RANGES)}) or a Unicode general category such as L or Mn"
            )
        ranges = _general_category_ranges(category.group(1))
    return _complement(ranges) if negated else ranges


@functools.cache
def _general_category_ranges(category: str) -> tuple[tuple[int, int], ...]:
    """Return the code point ranges of a general category (``M``) or subcategory (``Mn``)."""
    ranges = sorted(
        code_point_range
        for name, category_ranges in _category_table().items()
        if name.startswith(category)
        for code_point_range in category_ranges
    )
    merged: list[tuple[int, int]] = []
    for first, last in ranges:
        if merged and first == merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return tuple(merged)


@functools.cache
def _category_table() -> dict[str, list[tuple[int, int]]]:
    """Return the code point ranges of every two-letter Unicode general category.

    Built from ``unicodedata`` in one pass over every code point, the first time a pattern
    needs a category; it takes a few tenths of a second.
    """
    table: dict[str, list[tuple[int, int]]] = {}
    first = 0
    categories = map(unicodedata.category, map(chr, range(_MAX_CODE_POINT + 1)))
    for category, run in itertools.groupby(categories):
        length = len(list(run))
        table.setdefault(category, []).append((first, first + length - 1))
        first += length
    return table


def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    complement: list[tuple[int, int]] = []
    next_start = 0
    for first, last in sorted(ranges):
        if first > next_start:
            complement.append((next_start, first - 1))
        next_start = max(next_start, last + 1)
    if next_start <= _MAX_CODE_POINT:
        complement.append((next_start, _MAX_CODE_POINT))
    return tuple(complement)


def _ranges_to_class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(
        _escape_code_point(first)
        if first == last
        else f"{_escape_code_point(first)}-{_escape_code_point(last)}"
        for first, last in ranges
    )


def _escape_code_point(code_point: int) -> str:
    if code_point <= 0xFFFF:
        return f"\\u{code_point:04x}"
    return f"\\U{code_point:08x}"
