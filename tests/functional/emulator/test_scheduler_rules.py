"""The retraining scheduler's service rules, driven through boto3."""

from __future__ import annotations

import datetime

import pytest

UTC = datetime.UTC


def test_describe_created_scheduler_returns_given_values(
    lookout_client, emulator, model_name, create_scheduler
):
    model_arn = emulator.snapshot()["models"][0]["ModelArn"]

    created = create_scheduler(
        RetrainingFrequency="P3M15D",
        LookbackWindow="P540D",
        PromoteMode="MANUAL",
        RetrainingStartDate=datetime.datetime(2031, 5, 17, tzinfo=UTC),
    )
    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert created["ModelName"] == model_name
    assert created["ModelArn"] == model_arn
    assert described["ModelArn"] == model_arn
    assert described["RetrainingFrequency"] == "P3M15D"
    assert described["LookbackWindow"] == "P540D"
    assert described["PromoteMode"] == "MANUAL"
    assert described["RetrainingStartDate"] == datetime.datetime(2031, 5, 17, tzinfo=UTC)
    assert described["CreatedAt"] == described["UpdatedAt"]


def test_create_without_promote_mode_defaults_to_managed(
    lookout_client, model_name, create_scheduler
):
    create_scheduler()

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert described["PromoteMode"] == "MANAGED"


def test_create_without_start_date_describe_omits_it(lookout_client, model_name, create_scheduler):
    create_scheduler()

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert "RetrainingStartDate" not in described


def test_create_start_date_with_time_truncated_to_utc_day(
    lookout_client, model_name, create_scheduler
):
    # 23:30 at UTC-05:00 is 04:30 the next day in UTC: the UTC day counts.
    local_evening = datetime.datetime(
        2031, 1, 2, 23, 30, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))
    )

    create_scheduler(RetrainingStartDate=local_evening)
    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert described["RetrainingStartDate"] == datetime.datetime(2031, 1, 3, tzinfo=UTC)


def test_create_on_missing_model_not_found(create_scheduler, expect_service_error, emulator):
    with expect_service_error("ResourceNotFoundException", 404, match="'no-such-model'"):
        create_scheduler("no-such-model")

    assert emulator.snapshot()["schedulers"] == []


def test_create_second_scheduler_on_model_conflict(
    model_name, create_scheduler, expect_service_error, emulator
):
    create_scheduler(ClientToken="first-request")

    with expect_service_error("ConflictException", 409, match="already has a retraining scheduler"):
        create_scheduler(ClientToken="second-request", RetrainingFrequency="P60D")

    schedulers = emulator.snapshot()["schedulers"]
    assert [scheduler["RetrainingFrequency"] for scheduler in schedulers] == ["P30D"]


@pytest.mark.parametrize("operation", ["describe", "start", "stop", "delete", "update"])
def test_scheduler_operation_on_missing_model_not_found(
    lookout_client, expect_service_error, operation
):
    call = getattr(lookout_client, f"{operation}_retraining_scheduler")

    with expect_service_error("ResourceNotFoundException", 404, match="does not exist"):
        call(ModelName="no-such-model")


@pytest.mark.parametrize("operation", ["describe", "start", "stop", "delete", "update"])
def test_scheduler_operation_on_model_without_scheduler_not_found(
    lookout_client, model_name, expect_service_error, operation
):
    call = getattr(lookout_client, f"{operation}_retraining_scheduler")

    with expect_service_error(
        "ResourceNotFoundException", 404, match="has no retraining scheduler"
    ):
        call(ModelName=model_name)


# Fixed values worked out by hand (a month is 30 days, a year 365), so that the emulator's
# count of days is checked on its own, not against the handler's rule.
@pytest.mark.parametrize(
    "retraining_frequency",
    ["P30D", "P1M", "P0Y1M0D", "P3M15D", "P365D", "P12M5D", "P11M35D", "P1Y", "P1Y0M0D"],
)
def test_create_frequency_within_30_to_365_days_accepted(
    lookout_client, model_name, create_scheduler, retraining_frequency
):
    create_scheduler(RetrainingFrequency=retraining_frequency)

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert described["RetrainingFrequency"] == retraining_frequency


@pytest.mark.parametrize(
    ("retraining_frequency", "message"),
    [
        ("P29D", "shorter than the minimum of 30 days (P30D); it counts 29 days"),
        ("P", "shorter than the minimum of 30 days (P30D); it counts 0 days"),
        ("P0M", "shorter than the minimum of 30 days (P30D); it counts 0 days"),
        ("P0Y0M29D", "shorter than the minimum of 30 days (P30D); it counts 29 days"),
        ("P366D", "longer than the maximum of one year (365 days, P1Y); it counts 366 days"),
        ("P1Y1D", "longer than the maximum of one year (365 days, P1Y); it counts 366 days"),
        ("P12M6D", "longer than the maximum of one year (365 days, P1Y); it counts 366 days"),
        ("P1Y1M", "longer than the maximum of one year (365 days, P1Y); it counts 395 days"),
        ("P2Y", "longer than the maximum of one year (365 days, P1Y); it counts 730 days"),
        ("P99M", "longer than the maximum of one year (365 days, P1Y); it counts 2970 days"),
    ],
)
def test_create_frequency_outside_30_to_365_days_validation_error(
    model_name, create_scheduler, expect_service_error, emulator, retraining_frequency, message
):
    with expect_service_error("ValidationException", 400, match=message):
        create_scheduler(RetrainingFrequency=retraining_frequency)

    assert emulator.snapshot()["schedulers"] == []


def test_update_frequency_outside_range_validation_error_keeps_value(
    lookout_client, model_name, create_scheduler, expect_service_error
):
    create_scheduler()

    with expect_service_error("ValidationException", 400, match="P400D"):
        lookout_client.update_retraining_scheduler(
            ModelName=model_name, RetrainingFrequency="P400D"
        )

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert described["RetrainingFrequency"] == "P30D"


def test_created_scheduler_pending_becomes_running_after_delay(
    lookout_client, emulator, clock, model_name, create_scheduler
):
    emulator.settings.pending_seconds = 60.0

    created = create_scheduler()
    status_at_once = _status(lookout_client, model_name)
    clock.advance(59.9)
    status_just_before = _status(lookout_client, model_name)
    clock.advance(0.2)
    status_after = _status(lookout_client, model_name)

    assert created["Status"] == "PENDING"
    assert (status_at_once, status_just_before, status_after) == ("PENDING", "PENDING", "RUNNING")


def test_stopped_scheduler_stopping_becomes_stopped_after_delay(
    lookout_client, emulator, clock, scheduler_in_status
):
    model_name = scheduler_in_status("RUNNING")
    emulator.settings.stopping_seconds = 60.0

    stopped = lookout_client.stop_retraining_scheduler(ModelName=model_name)
    status_at_once = _status(lookout_client, model_name)
    clock.advance(59.9)
    status_just_before = _status(lookout_client, model_name)
    clock.advance(0.2)
    status_after = _status(lookout_client, model_name)

    assert stopped["Status"] == "STOPPING"
    assert (status_at_once, status_just_before, status_after) == (
        "STOPPING",
        "STOPPING",
        "STOPPED",
    )


def test_started_scheduler_pending_becomes_running_after_delay(
    lookout_client, emulator, clock, scheduler_in_status
):
    model_name = scheduler_in_status("STOPPED")
    emulator.settings.pending_seconds = 60.0

    started = lookout_client.start_retraining_scheduler(ModelName=model_name)
    status_just_before = _status(lookout_client, model_name)
    clock.advance(60.1)
    status_after = _status(lookout_client, model_name)

    assert started["Status"] == "PENDING"
    assert started["ModelName"] == model_name
    assert (status_just_before, status_after) == ("PENDING", "RUNNING")


def _status(lookout_client, model_name):
    return lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"]


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        ("PENDING", "stop it with StopRetrainingScheduler"),
        ("RUNNING", "stop it with StopRetrainingScheduler"),
        ("STOPPING", "wait until it is STOPPED"),
    ],
)
def test_delete_scheduler_not_stopped_conflict(
    lookout_client, scheduler_in_status, expect_service_error, status, hint
):
    model_name = scheduler_in_status(status)

    with expect_service_error("ConflictException", 409, match=hint) as caught:
        lookout_client.delete_retraining_scheduler(ModelName=model_name)

    assert f"is {status}; DeleteRetrainingScheduler requires it to be STOPPED" in str(caught.value)
    assert lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"] == status


def test_delete_stopped_scheduler_removes_it(
    lookout_client, scheduler_in_status, expect_service_error, emulator
):
    model_name = scheduler_in_status("STOPPED")

    response = lookout_client.delete_retraining_scheduler(ModelName=model_name)

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    with expect_service_error("ResourceNotFoundException", 404):
        lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert emulator.snapshot()["schedulers"] == []
    assert [model["ModelName"] for model in emulator.snapshot()["models"]] == [model_name]


def test_create_after_delete_new_scheduler_created(
    lookout_client, scheduler_in_status, create_scheduler
):
    model_name = scheduler_in_status("STOPPED")
    lookout_client.delete_retraining_scheduler(ModelName=model_name)

    created = create_scheduler(model_name, RetrainingFrequency="P90D")

    assert created["Status"] == "STOPPED"
    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert described["RetrainingFrequency"] == "P90D"


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        ("PENDING", "it is already starting"),
        ("RUNNING", "it is already running"),
        ("STOPPING", "wait until it is STOPPED, then start it"),
    ],
)
def test_start_scheduler_not_stopped_conflict(
    lookout_client, scheduler_in_status, expect_service_error, status, hint
):
    model_name = scheduler_in_status(status)

    with expect_service_error("ConflictException", 409, match=hint) as caught:
        lookout_client.start_retraining_scheduler(ModelName=model_name)

    assert "StartRetrainingScheduler requires it to be STOPPED" in str(caught.value)
    assert lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"] == status


@pytest.mark.parametrize(
    ("status", "hint"),
    [("STOPPED", "it is already stopped"), ("STOPPING", "it is already stopping")],
)
def test_stop_scheduler_not_started_conflict(
    lookout_client, scheduler_in_status, expect_service_error, status, hint
):
    model_name = scheduler_in_status(status)

    with expect_service_error("ConflictException", 409, match=hint) as caught:
        lookout_client.stop_retraining_scheduler(ModelName=model_name)

    assert "StopRetrainingScheduler requires it to be PENDING or RUNNING" in str(caught.value)
    assert lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"] == status


@pytest.mark.parametrize("status", ["PENDING", "RUNNING"])
def test_stop_started_scheduler_stopping(lookout_client, emulator, scheduler_in_status, status):
    model_name = scheduler_in_status(status)
    emulator.settings.stopping_seconds = 60.0

    stopped = lookout_client.stop_retraining_scheduler(ModelName=model_name)

    assert stopped["Status"] == "STOPPING"
    assert (
        lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"] == "STOPPING"
    )


def test_update_given_members_changed_others_kept(
    lookout_client, clock, model_name, create_scheduler
):
    create_scheduler(
        RetrainingFrequency="P30D",
        LookbackWindow="P180D",
        PromoteMode="MANUAL",
        RetrainingStartDate=datetime.datetime(2031, 1, 1, tzinfo=UTC),
    )
    before = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    clock.advance(1.5)

    lookout_client.update_retraining_scheduler(ModelName=model_name, LookbackWindow="P720D")
    after = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert after["LookbackWindow"] == "P720D"
    assert after["RetrainingFrequency"] == "P30D"
    assert after["PromoteMode"] == "MANUAL"
    assert after["RetrainingStartDate"] == before["RetrainingStartDate"]
    assert after["Status"] == before["Status"]
    assert after["CreatedAt"] == before["CreatedAt"]
    assert after["UpdatedAt"] - before["UpdatedAt"] == datetime.timedelta(seconds=1.5)


def test_update_every_member_changed_start_date_truncated(
    lookout_client, model_name, create_scheduler
):
    create_scheduler()

    lookout_client.update_retraining_scheduler(
        ModelName=model_name,
        RetrainingFrequency="P1Y",
        LookbackWindow="P360D",
        PromoteMode="MANUAL",
        RetrainingStartDate=datetime.datetime(2032, 2, 29, 18, 45, 10, tzinfo=UTC),
    )
    after = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert after["RetrainingFrequency"] == "P1Y"
    assert after["LookbackWindow"] == "P360D"
    assert after["PromoteMode"] == "MANUAL"
    assert after["RetrainingStartDate"] == datetime.datetime(2032, 2, 29, tzinfo=UTC)


def test_created_at_millisecond_precision_round_trips_exactly(
    lookout_client, emulator, clock, model_name, create_scheduler
):
    # Half a millisecond past the clock's start, 12:00:00.250: the service keeps milliseconds.
    clock.advance(0.0005)
    create_scheduler()

    first = lookout_client.describe_retraining_scheduler(ModelName=model_name)["CreatedAt"]
    clock.advance(10.0)
    lookout_client.update_retraining_scheduler(ModelName=model_name, PromoteMode="MANUAL")
    second = lookout_client.describe_retraining_scheduler(ModelName=model_name)["CreatedAt"]

    assert first == second == clock.start
    assert emulator.snapshot()["schedulers"][0]["CreatedAt"] == "2030-06-01T12:00:00.250Z"
