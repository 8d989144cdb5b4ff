"""Synth-time validation: each rule of each prop, with the prop named and the value echoed."""

from __future__ import annotations

import datetime

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from lookout_retraining import (
    LookbackWindow,
    PromoteMode,
    RetrainingFrequency,
    RetrainingScheduler,
)
from lookout_retraining.provider import PROVIDER_ID
from lookout_retraining.scheduler import scheduler_properties
from lookout_retraining_handler.rules import (
    PropertyValidationError,
    echo,
    parse_retraining_start_date,
)


def valid_props(**overrides):
    props = {
        "model_name": "pump-1",
        "retraining_frequency": RetrainingFrequency.days(30),
        "lookback_window": LookbackWindow.DAYS_180,
    }
    props.update(overrides)
    return props


FIRST_MOMENT_EAST_OF_UTC = datetime.datetime(
    1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))
)
"""The earliest datetime at UTC+05:30, whose UTC day falls in the year 0."""

# (prop, overrides built lazily, what the message echoes, what it says is allowed)
RULES = {
    "model_name-bad-characters": (
        "model_name",
        lambda: valid_props(model_name="pump 1"),
        "'pump 1'",
        "1 to 200 characters from A-Z, a-z, 0-9, '_' and '-'",
    ),
    "model_name-longer-than-200": (
        "model_name",
        lambda: valid_props(model_name="m" * 201),
        echo("m" * 201),
        "1 to 200 characters",
    ),
    "model_name-empty": (
        "model_name",
        lambda: valid_props(model_name=""),
        "''",
        "1 to 200 characters",
    ),
    "model_name-trailing-newline": (
        "model_name",
        lambda: valid_props(model_name="pump-1\n"),
        "'pump-1\\n'",
        "1 to 200 characters",
    ),
    "model_name-not-a-string": (
        "model_name",
        lambda: valid_props(model_name=42),
        "int 42",
        "must be a string",
    ),
    "retraining_frequency-shorter-than-30-days": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.days(29)),
        "RetrainingFrequency.days(29)",
        "a whole number of days from 30 to 365",
    ),
    "retraining_frequency-longer-than-a-year-in-days": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.days(366)),
        "RetrainingFrequency.days(366)",
        "a whole number of days from 30 to 365",
    ),
    "retraining_frequency-longer-than-a-year-in-months": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.months(13)),
        "RetrainingFrequency.months(13)",
        "a whole number of months from 1 to 12",
    ),
    "retraining_frequency-longer-than-a-year-in-years": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.years(2)),
        "RetrainingFrequency.years(2)",
        "use 1 (a year counts as 365 days",
    ),
    "retraining_frequency-shorter-than-30-days-as-duration": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.of("P29D")),
        "'P29D'",
        "minimum of 30 days (P30D)",
    ),
    "retraining_frequency-longer-than-a-year-as-duration": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.of("P12M6D")),
        "'P12M6D'",
        "maximum of one year (365 days, P1Y)",
    ),
    "retraining_frequency-weeks": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.of("P5W")),
        "'P5W'",
        "years, months and days such as P30D",
    ),
    "retraining_frequency-time-part": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.of("PT720H")),
        "'PT720H'",
        "years, months and days such as P30D",
    ),
    "retraining_frequency-fraction-of-a-day": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.days(30.5)),
        "float 30.5",
        "a whole number of days",
    ),
    "retraining_frequency-boolean": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.months(True)),
        "bool True",
        "a whole number of months",
    ),
    "retraining_frequency-duration-not-a-string": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.of(30)),
        "int 30",
        "must be a string",
    ),
    "retraining_frequency-plain-string": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency="P30D"),
        "str 'P30D'",
        "RetrainingFrequency.days(30)",
    ),
    "lookback_window-plain-string": (
        "lookback_window",
        lambda: valid_props(lookback_window="P180D"),
        "'P180D'",
        "LookbackWindow.DAYS_180, LookbackWindow.DAYS_360",
    ),
    "lookback_window-other-named-value": (
        "lookback_window",
        lambda: valid_props(lookback_window=PromoteMode.MANUAL),
        "PromoteMode.MANUAL is not a LookbackWindow",
        "LookbackWindow.DAYS_180, LookbackWindow.DAYS_360",
    ),
    "promote_mode-plain-string": (
        "promote_mode",
        lambda: valid_props(promote_mode="MANUAL"),
        "'MANUAL'",
        "PromoteMode.MANAGED, PromoteMode.MANUAL",
    ),
    "retraining_start_date-naive-datetime": (
        "retraining_start_date",
        lambda: valid_props(retraining_start_date=datetime.datetime(2026, 1, 5, 12, 0)),
        "datetime.datetime(2026, 1, 5, 12, 0)",
        "has no time zone",
    ),
    "retraining_start_date-utc-day-before-year-1": (
        "retraining_start_date",
        lambda: valid_props(retraining_start_date=FIRST_MOMENT_EAST_OF_UTC),
        echo(FIRST_MOMENT_EAST_OF_UTC),
        "has no UTC day within the years 1 to 9999",
    ),
    "retraining_start_date-string-not-a-calendar-day": (
        "retraining_start_date",
        lambda: valid_props(retraining_start_date="2026-02-30"),
        "'2026-02-30'",
        "use an ISO 8601 date (YYYY-MM-DD) or a date-time with a UTC offset",
    ),
    "retraining_start_date-string-date-time-without-offset": (
        "retraining_start_date",
        lambda: valid_props(retraining_start_date="2026-01-05T10:00:00"),
        "'2026-01-05T10:00:00'",
        "a date-time with a UTC offset",
    ),
    "retraining_start_date-string-other-format": (
        "retraining_start_date",
        lambda: valid_props(retraining_start_date="05/01/2026"),
        "'05/01/2026'",
        "use an ISO 8601 date (YYYY-MM-DD)",
    ),
    "retraining_start_date-number": (
        "retraining_start_date",
        lambda: valid_props(retraining_start_date=20260105),
        "20260105",
        "use a datetime.date, a datetime.datetime with a time zone (its UTC day counts), or an "
        "ISO 8601 string",
    ),
    "client_token-empty": (
        "client_token",
        lambda: valid_props(client_token=""),
        "''",
        "1 to 256 ASCII characters",
    ),
    "client_token-longer-than-256": (
        "client_token",
        lambda: valid_props(client_token="t" * 257),
        echo("t" * 257),
        "1 to 256 ASCII characters",
    ),
    "client_token-not-ascii": (
        "client_token",
        lambda: valid_props(client_token="tökén"),
        "'tökén'",
        "some of them not ASCII",
    ),
    "client_token-not-a-string": (
        "client_token",
        lambda: valid_props(client_token=7),
        "int 7",
        "must be a string",
    ),
    "running-string": (
        "running",
        lambda: valid_props(running="false"),
        "str 'false'",
        "True or False",
    ),
    "adopt_existing-number": (
        "adopt_existing",
        lambda: valid_props(adopt_existing=1),
        "int 1",
        "True or False",
    ),
    "removal_policy-snapshot": (
        "removal_policy",
        lambda: valid_props(removal_policy=cdk.RemovalPolicy.SNAPSHOT),
        "RemovalPolicy.SNAPSHOT",
        "RemovalPolicy.DESTROY, RemovalPolicy.RETAIN, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE",
    ),
    "removal_policy-string": (
        "removal_policy",
        lambda: valid_props(removal_policy="destroy"),
        "'destroy'",
        "RemovalPolicy.DESTROY",
    ),
    "log_retention-number": (
        "log_retention",
        lambda: valid_props(log_retention=30),
        "30",
        "RetentionDays.ONE_MONTH",
    ),
}


@pytest.mark.parametrize(
    ("prop", "make_props", "echoed", "allowed"), list(RULES.values()), ids=list(RULES)
)
def test_scheduler_prop_breaking_rule_raises_naming_prop_and_value(
    prop, make_props, echoed, allowed
):
    stack = cdk.Stack(cdk.App(), "Stack")

    with pytest.raises(PropertyValidationError) as raised:
        RetrainingScheduler(stack, "Scheduler", **make_props())

    message = str(raised.value)
    assert raised.value.property_name == prop
    assert message.startswith(prop)
    assert echoed in message
    assert allowed in message
    assert stack.node.try_find_child("Scheduler") is None
    assert stack.node.try_find_child(PROVIDER_ID) is None


@pytest.mark.parametrize(
    ("prop", "make_token", "required"),
    [
        ("lookback_window", lambda: cdk.Fn.ref("Window"), "a LookbackWindow value is required"),
        ("lookback_window", lambda: cdk.Token.as_number(cdk.Fn.ref("Days")), "LookbackWindow"),
        ("promote_mode", lambda: cdk.Fn.ref("Mode"), "a PromoteMode value is required"),
    ],
    ids=["lookback_window-string-token", "lookback_window-number-token", "promote_mode-token"],
)
def test_scheduler_token_for_named_value_prop_raises_saying_tokens_not_accepted(
    prop, make_token, required
):
    stack = cdk.Stack(cdk.App(), "Stack")
    token = make_token()

    with pytest.raises(PropertyValidationError) as raised:
        RetrainingScheduler(stack, "Scheduler", **valid_props(**{prop: token}))

    message = str(raised.value)
    assert raised.value.property_name == prop
    assert message.startswith(f"{prop} {echo(token)} is an unresolved token, which {prop} does")
    assert f"{prop} does not accept" in message
    assert required in message
    assert stack.node.try_find_child("Scheduler") is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-01-05", datetime.date(2026, 1, 5)),
        ("2026-01-05T08:00:00Z", datetime.date(2026, 1, 5)),
        ("2026-01-05T23:30:00-05:00", datetime.date(2026, 1, 6)),
        ("2026-01-05T00:30:00+01:00", datetime.date(2026, 1, 4)),
    ],
)
def test_scheduler_start_date_string_renders_its_utc_day_as_a_date_would(text, day):
    from_text = scheduler_properties(**valid_props(retraining_start_date=text))
    from_date = scheduler_properties(**valid_props(retraining_start_date=day))

    assert from_text["RetrainingStartDate"] == from_date["RetrainingStartDate"] == day.isoformat()
    # The handler reads the rendered value back as the same day.
    assert parse_retraining_start_date(from_text["RetrainingStartDate"]) == day


def test_scheduler_same_literal_model_twice_in_stack_raises_naming_first():
    stack = cdk.Stack(cdk.App(), "Stack")
    RetrainingScheduler(stack, "First", **valid_props(model_name="pump-1"))

    with pytest.raises(PropertyValidationError) as raised:
        RetrainingScheduler(stack, "Second", **valid_props(model_name="pump-1"))

    assert raised.value.property_name == "model_name"
    assert "model_name 'pump-1' already has a scheduler in this stack, 'Stack/First'" in str(
        raised.value
    )
    assert "one retraining scheduler per model" in str(raised.value)
    assert stack.node.try_find_child("Second") is None


def test_scheduler_same_token_model_twice_in_stack_raises_naming_first():
    stack = cdk.Stack(cdk.App(), "Stack")
    model_name = cdk.CfnParameter(stack, "ModelName", type="String").value_as_string
    RetrainingScheduler(stack, "First", **valid_props(model_name=model_name))

    with pytest.raises(PropertyValidationError) as raised:
        RetrainingScheduler(stack, "Second", **valid_props(model_name=model_name))

    # Both resolve to the parameter's one value, so the second Create would fail at deploy time.
    assert raised.value.property_name == "model_name"
    assert raised.value.value == model_name
    assert (
        f"model_name {echo(model_name)} already has a scheduler in this stack, 'Stack/First'"
        in str(raised.value)
    )
    assert "one retraining scheduler per model" in str(raised.value)
    assert stack.node.try_find_child("Second") is None


def test_scheduler_two_token_models_in_stack_are_accepted():
    stack = cdk.Stack(cdk.App(), "Stack")

    for name in ("First", "Second"):
        model_name = cdk.CfnParameter(stack, f"{name}Model", type="String").value_as_string
        RetrainingScheduler(stack, name, **valid_props(model_name=model_name))

    assert stack.node.try_find_child("Second") is not None


def test_scheduler_same_model_in_two_stacks_is_accepted():
    app = cdk.App()

    for name in ("East", "West"):
        RetrainingScheduler(cdk.Stack(app, name), "Scheduler", **valid_props())

    assert app.node.find_child("West").node.try_find_child("Scheduler") is not None


def test_scheduler_log_retention_conflicting_in_stack_raises():
    stack = cdk.Stack(cdk.App(), "Stack")
    RetrainingScheduler(stack, "First", **valid_props(model_name="pump-1"))

    with pytest.raises(PropertyValidationError) as raised:
        RetrainingScheduler(
            stack,
            "Second",
            **valid_props(model_name="pump-2", log_retention=logs.RetentionDays.ONE_WEEK),
        )

    assert raised.value.property_name == "log_retention"
    assert "log_retention ONE_WEEK differs from THREE_MONTHS" in str(raised.value)
    assert "give them all the same log_retention" in str(raised.value)
    assert stack.node.try_find_child("Second") is None


def test_scheduler_same_log_retention_in_stack_is_accepted():
    stack = cdk.Stack(cdk.App(), "Stack")

    for index in range(2):
        RetrainingScheduler(
            stack,
            f"Scheduler{index}",
            **valid_props(model_name=f"pump-{index}", log_retention=logs.RetentionDays.ONE_WEEK),
        )

    assert stack.node.try_find_child("Scheduler1") is not None


def test_scheduler_apply_removal_policy_snapshot_raises():
    stack = cdk.Stack(cdk.App(), "Stack")
    scheduler = RetrainingScheduler(stack, "Scheduler", **valid_props())

    with pytest.raises(PropertyValidationError, match=r"removal_policy RemovalPolicy.SNAPSHOT"):
        scheduler.apply_removal_policy(cdk.RemovalPolicy.SNAPSHOT)


def test_scheduler_every_valid_prop_is_accepted():
    stack = cdk.Stack(cdk.App(), "Stack")

    scheduler = RetrainingScheduler(
        stack,
        "Scheduler",
        model_name="A_z-09" + "x" * 194,
        retraining_frequency=RetrainingFrequency.years(1),
        lookback_window=LookbackWindow.DAYS_540,
        promote_mode=PromoteMode.MANAGED,
        retraining_start_date=datetime.date(2030, 12, 31),
        client_token="c" * 256,
        running=True,
        adopt_existing=False,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        log_retention=logs.RetentionDays.INFINITE,
    )

    assert scheduler.model_name == "A_z-09" + "x" * 194
