"""RetrainingFrequency, LookbackWindow and PromoteMode: readable constructors, checked values."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from lookout_retraining import LookbackWindow, PromoteMode, RetrainingFrequency
from lookout_retraining_handler.rules import PropertyValidationError


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        (RetrainingFrequency.days(30), "P30D"),
        (RetrainingFrequency.days(365), "P365D"),
        (RetrainingFrequency.months(1), "P1M"),
        (RetrainingFrequency.months(12), "P12M"),
        (RetrainingFrequency.years(1), "P1Y"),
        (RetrainingFrequency.of("P3M15D"), "P3M15D"),
    ],
)
def test_retraining_frequency_constructor_renders_iso_duration(frequency, expected):
    assert frequency.value == expected
    assert str(frequency) == expected
    assert not frequency.is_unresolved


def test_retraining_frequency_number_token_passes_through_unchecked():
    app = cdk.App()
    stack = cdk.Stack(app, "Stack")
    days = cdk.CfnParameter(stack, "Days", type="Number")

    frequency = RetrainingFrequency.days(days.value_as_number)

    assert frequency.is_unresolved
    assert stack.resolve(frequency.value) == {"Fn::Join": ["", ["P", {"Ref": "Days"}, "D"]]}


def test_retraining_frequency_string_token_passes_through_unchecked():
    app = cdk.App()
    stack = cdk.Stack(app, "Stack")
    duration = cdk.CfnParameter(stack, "Duration", type="String")

    frequency = RetrainingFrequency.of(duration.value_as_string)

    assert frequency.is_unresolved
    assert stack.resolve(frequency.value) == {"Ref": "Duration"}


def test_retraining_frequency_built_directly_with_bad_value_fails_validate():
    frequency = RetrainingFrequency("P10D")

    with pytest.raises(PropertyValidationError, match=r"retraining_frequency 'P10D' is shorter"):
        frequency.validate()


DAYS_ALLOWED = "use a whole number of days from 30 to 365"
MONTHS_ALLOWED = "use a whole number of months from 1 to 12"
YEARS_ALLOWED = "use 1 (a year counts as 365 days"


@pytest.mark.parametrize(
    ("unit", "amount", "allowed"),
    [
        ("days", 29, DAYS_ALLOWED),
        ("days", 366, DAYS_ALLOWED),
        ("days", 1000, DAYS_ALLOWED),
        ("days", -30, DAYS_ALLOWED),
        ("months", 0, MONTHS_ALLOWED),
        ("months", 13, MONTHS_ALLOWED),
        ("months", 100, MONTHS_ALLOWED),
        ("years", 0, YEARS_ALLOWED),
        ("years", 2, YEARS_ALLOWED),
        ("years", 10, YEARS_ALLOWED),
    ],
)
def test_retraining_frequency_unit_out_of_range_raises_naming_the_call(unit, amount, allowed):
    with pytest.raises(PropertyValidationError) as raised:
        getattr(RetrainingFrequency, unit)(amount)

    message = str(raised.value)
    assert raised.value.property_name == "retraining_frequency"
    assert raised.value.value == amount
    assert message.startswith(
        f"retraining_frequency RetrainingFrequency.{unit}({amount}) is out of range: {allowed}"
    )
    # The caller wrote a number, not a duration: no word about ISO 8601 patterns.
    assert "ISO 8601" not in message
    assert "pattern" not in message


def test_lookback_window_members_are_the_four_allowed_windows():
    assert [window.value for window in LookbackWindow] == ["P180D", "P360D", "P540D", "P720D"]


def test_promote_mode_members_are_managed_and_manual():
    assert [mode.value for mode in PromoteMode] == ["MANAGED", "MANUAL"]
