"""The shared validation rules, checked directly on the values both sides feed them."""

from __future__ import annotations

import datetime

import pytest

from lookout_retraining_handler import rules


@pytest.mark.parametrize(
    ("frequency", "days"),
    [
        ("P30D", 30),
        ("P1M", 30),
        ("P2M", 60),
        ("P3M15D", 105),
        ("P150D", 150),
        ("P12M", 360),
        ("P1Y", 365),
        ("P11M35D", 365),
    ],
)
def test_retraining_frequency_days_within_range_counts_months_as_30_days(
    frequency: str, days: int
) -> None:
    assert rules.retraining_frequency_days(frequency) == days


@pytest.mark.parametrize(
    ("frequency", "fragment"),
    [
        ("P29D", "shorter than the minimum of 30 days"),
        ("P", "shorter than the minimum of 30 days"),
        ("P1Y1D", "longer than the maximum of one year"),
        ("P13M", "longer than the maximum of one year"),
        ("PT720H", "is not an ISO 8601 duration"),
        ("P4W", "is not an ISO 8601 duration"),
        ("P30D\n", "is not an ISO 8601 duration"),
        ("p30d", "is not an ISO 8601 duration"),
    ],
)
def test_retraining_frequency_days_outside_rules_names_property_and_value(
    frequency: str, fragment: str
) -> None:
    with pytest.raises(rules.PropertyValidationError) as raised:
        rules.retraining_frequency_days(frequency)

    assert raised.value.property_name == "RetrainingFrequency"
    assert fragment in str(raised.value)
    assert repr(frequency) in str(raised.value)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-01-05", datetime.date(2026, 1, 5)),
        ("2026-01-05T23:30:00Z", datetime.date(2026, 1, 5)),
        ("2026-01-05T23:30:00-02:00", datetime.date(2026, 1, 6)),
        ("2026-01-06T01:00:00+05:00", datetime.date(2026, 1, 5)),
    ],
)
def test_parse_retraining_start_date_calendar_forms_give_utc_day(
    text: str, day: datetime.date
) -> None:
    assert rules.parse_retraining_start_date(text) == day


@pytest.mark.parametrize(
    "text",
    [
        "2026-W01-1",
        "2026-001",
        "2026-W01-1T10:00:00Z",
        "2026-01-05T10:00:00",
        "20260105",
        "2026-01-05\n",
        "2026-02-30",
        "tomorrow",
        "",
    ],
)
def test_parse_retraining_start_date_other_forms_are_refused(text: str) -> None:
    with pytest.raises(rules.PropertyValidationError) as raised:
        rules.parse_retraining_start_date(text)

    assert raised.value.property_name == "RetrainingStartDate"
    assert "YYYY-MM-DD" in str(raised.value)


def test_utc_day_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        rules.utc_day(datetime.datetime(2026, 1, 5, 12, 0))


@pytest.mark.parametrize("name", ["pump-1", "A_b-9", "x" * 200])
def test_validate_model_name_allowed_characters_pass(name: str) -> None:
    assert rules.validate_model_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 201, "pump 1", "pump/1", "pump\n", "pümp"])
def test_validate_model_name_other_characters_are_refused(name: str) -> None:
    with pytest.raises(rules.PropertyValidationError, match="ModelName"):
        rules.validate_model_name(name)


@pytest.mark.parametrize("token", ["", "x" * 257, "jeton-é"])
def test_validate_client_token_outside_1_to_256_ascii_is_refused(token: str) -> None:
    with pytest.raises(rules.PropertyValidationError, match="ClientToken"):
        rules.validate_client_token(token)


def test_parse_resource_properties_cloudformation_keys_are_not_unknown() -> None:
    properties = rules.parse_resource_properties(
        {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "ServiceTimeout": "360",
            "ModelName": "pump-1",
            "RetrainingFrequency": "P1M",
            "LookbackWindow": "P180D",
        }
    )

    assert properties == rules.SchedulerProperties("pump-1", "P1M", "P180D")


def test_parse_resource_properties_unknown_key_is_named_with_value_and_allowed_list() -> None:
    with pytest.raises(rules.PropertyValidationError) as raised:
        rules.parse_resource_properties(
            {"ModelName": "m", "RetrainingFrequency": "P1M", "LookbackWindow": "P180D", "Nme": 1}
        )

    assert raised.value.property_name == "Nme"
    assert raised.value.value == 1
    assert "Unknown property 'Nme' (value 1)" in str(raised.value)
    assert "the allowed properties are ModelName" in str(raised.value)


def test_parse_resource_properties_unknown_keys_each_echo_a_bounded_value() -> None:
    with pytest.raises(rules.PropertyValidationError) as raised:
        rules.parse_resource_properties(
            {
                "ModelName": "m",
                "RetrainingFrequency": "P1M",
                "LookbackWindow": "P180D",
                "Zone": "x" * 500,
                "Apple": ["P30D"],
            }
        )

    message = str(raised.value)
    assert raised.value.property_name == "Apple"
    assert message.startswith("Unknown properties 'Apple' (value ['P30D']), 'Zone' (value 'xxx")
    assert "(502 characters))" in message
    assert len(message) < 400
