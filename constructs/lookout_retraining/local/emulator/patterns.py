"""Java regular expressions from the service model, translated for Python's ``re``.

The service model states its string patterns in Java syntax (the service validates with Java).
The inputs of the operations the emulator implements use one construct that ``re`` lacks:
``\\p{ASCII}``, in ``IdempotenceToken`` and ``NextToken``. This module rewrites it into an
explicit code point range and compiles the result with ``re.ASCII``, because Java's ``\\w``,
``\\d`` and ``\\s`` match ASCII characters only. Any other property class (``\\p{L}``,
``\\P{M}``, ``\\p{Alpha}``...), ``\\Q...\\E`` quoting, nested classes and class intersections
raise :class:`UnsupportedPatternError`: the emulator checks its operations' patterns when it
is made, so an operation that needs more fails then, rather than validating loosely. Patterns
match the whole value, as the service's validation does (a pattern without anchors still
constrains every character).
"""

from __future__ import annotations

import functools
import re

# Java's \p{ASCII}, written as the body of a character class.
_ASCII_CLASS_BODY = "\\x00-\\x7f"


class UnsupportedPatternError(ValueError):
    """A Java pattern uses a construct that this translator does not rewrite."""


def compile_java_pattern(pattern: str) -> re.Pattern[str]:
    """Return a compiled Python pattern equivalent to a Java pattern from the service model.

    Use ``fullmatch`` on the result: the service validates the whole value.

    Raises
    ------
    UnsupportedPatternError
        If the pattern uses a Java construct without a Python equivalent here (a property
        class other than ``\\p{ASCII}``, ``\\Q...\\E`` quoting, nested character classes or
        class intersections).
    re.error
        If the translated pattern does not compile.
    """
    return _compile(pattern)


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(translate_java_pattern(pattern), re.ASCII)


def translate_java_pattern(pattern: str) -> str:
    """Return the Python spelling of a Java pattern.

    ``\\p{ASCII}`` becomes the range ``\\x00-\\x7f`` (inside a character class) or a character
    class of that range (outside one). Everything else is copied, as Java and Python agree on
    it.

    Raises
    ------
    UnsupportedPatternError
        On any other property class, ``\\Q...\\E`` quoting, nested character classes and
        ``&&`` intersections.
    """
    pieces: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            if pattern.startswith("p{ASCII}", index + 1):
                pieces.append(_ASCII_CLASS_BODY if in_class else f"[{_ASCII_CLASS_BODY}]")
                index += len("\\p{ASCII}")
                continue
            if escaped in "pPQ":
                raise UnsupportedPatternError(
                    f"Pattern {pattern!r} uses \\{escaped} at offset {index}; the Java-to-Python "
                    "translation supports the property class \\p{ASCII} only"
                )
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
