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
from lookout_retraining_handler.rules import PropertyValidationError, echo


def valid_props(**overrides):
    props = {
        "model_name": "pump-1",
        "retraining_frequency": RetrainingFrequency.days(30),
        "lookback_window": LookbackWindow.DAYS_180,
    }
    props.update(overrides)
    return props


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
        "'P29D'",
        "minimum of 30 days (P30D)",
    ),
    "retraining_frequency-longer-than-a-year-in-days": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.days(366)),
        "'P366D'",
        "maximum of one year (365 days, P1Y)",
    ),
    "retraining_frequency-longer-than-a-year-in-months": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.months(13)),
        "'P13M'",
        "maximum of one year",
    ),
    "retraining_frequency-longer-than-a-year-in-years": (
        "retraining_frequency",
        lambda: valid_props(retraining_frequency=RetrainingFrequency.years(2)),
        "'P2Y'",
        "maximum of one year",
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
    "retraining_start_date-literal-string": (
        "retraining_start_date",
        lambda: valid_props(retraining_start_date="2026-01-05"),
        "'2026-01-05'",
        "use a datetime.date",
    ),
    "retraining_start_date-number": (
        "retraining_start_date",
        lambda: valid_props(retraining_start_date=20260105),
        "20260105",
        "use a datetime.date",
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
