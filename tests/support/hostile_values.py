"""Hypothesis strategies for the property-based tests: the service's rules, written afresh.

The rules here come from DESIGN.md and the service model (the service validates with Java
patterns, whose ``\\d`` is an ASCII digit), not from ``lookout_retraining_handler.rules``, so
that a test can catch the shared rules being wrong, not only the handler and the construct
disagreeing with them.
"""

from __future__ import annotations

import datetime
import re

from hypothesis import strategies as st

MODEL_NAME = re.compile(r"[0-9a-zA-Z_-]{1,200}")
FREQUENCY = re.compile(r"P(?:(\d)Y)?(?:(\d{1,2})M)?(?:(\d{1,3})D)?", re.ASCII)
LOOKBACK_WINDOWS = ("P180D", "P360D", "P540D", "P720D")
# Other scripts' digits: digits to Python's \d, not to the service's.
NON_ASCII_DURATIONS = ("P\u0663\u0660D", "P\uff13\uff10D", "P1Y\u0660D", "P\u0662M")
MALFORMED_DURATIONS = ("P1W", "PT1H", "p30d", "30 days", "P30D ", "P30D\n", "P1Y1D", "P", "")
ZONES = (
    datetime.UTC,
    datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
    datetime.timezone(datetime.timedelta(hours=-8)),
    datetime.timezone(datetime.timedelta(hours=14)),
    datetime.timezone(datetime.timedelta(hours=-12)),
)


def frequency_days(text: str) -> int | None:
    """Return the days of a duration the service's pattern accepts, else None."""
    match = FREQUENCY.fullmatch(text)
    if match is None:
        return None
    years, months, days = (int(group) if group else 0 for group in match.groups())
    return years * 365 + months * 30 + days


def frequency_is_valid(value: object) -> bool:
    """Return True for a duration of 30 to 365 days in the service's pattern."""
    days = frequency_days(value) if isinstance(value, str) else None
    return days is not None and 30 <= days <= 365


def spell(years: int, months: int, days: int, zeros: bool) -> str:
    """Write an ISO duration in years, months and days, zero parts left out or zero-padded."""
    text = "P"
    for amount, unit, width in ((years, "Y", 1), (months, "M", 2), (days, "D", 3)):
        if amount or zeros:
            text += f"{amount:0{width if zeros else 1}d}{unit}"
    return text


def valid_durations() -> st.SearchStrategy[str]:
    """Durations from 30 to 365 days: one year, or months and days."""
    months_and_days = st.integers(0, 12).flatmap(
        lambda months: st.tuples(
            st.just(0), st.just(months), st.integers(max(0, 30 - 30 * months), 365 - 30 * months)
        )
    )
    return st.tuples(st.one_of(st.just((1, 0, 0)), months_and_days), st.booleans()).map(
        lambda drawn: spell(*drawn[0], drawn[1])
    )


def invalid_durations() -> st.SearchStrategy[str]:
    """Strings that are not a duration of 30 to 365 days in the service's pattern."""
    return st.one_of(
        st.tuples(st.integers(0, 9), st.integers(0, 99), st.integers(0, 999), st.booleans())
        .map(lambda drawn: spell(*drawn))
        .filter(lambda text: not frequency_is_valid(text)),
        st.sampled_from(NON_ASCII_DURATIONS + MALFORMED_DURATIONS),
        st.text(max_size=12).filter(lambda text: not frequency_is_valid(text)),
    )


wrong_types = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
"""JSON values of every type but string (and null)."""

huge_text = st.integers(min_value=201, max_value=200_000).map(lambda n: "é" * (n % 7) + "m" * n)
odd_text = st.one_of(st.text(max_size=40), huge_text)
model_names = st.from_regex(MODEL_NAME, fullmatch=True)
invalid_model_names = st.one_of(
    odd_text.filter(lambda text: MODEL_NAME.fullmatch(text) is None),
    st.sampled_from(["pump 1", "pump-1\n", "pump/1", "pümp", "", "m" * 201]),
)
