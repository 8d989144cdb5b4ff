"""The retraining scheduler's service rules, driven through boto3."""

from __future__ import annotations

import datetime
import time

import pytest

UTC = datetime.UTC
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


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


@pytest.mark.parametrize(
    "retraining_frequency",
    ["P30D", "P1M", "P3M15D", "P12M5D", "P1Y"],
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
        ("P29D", "shorter than the minimum of 30 days"),
        ("P", "shorter than the minimum of 30 days"),
        ("P1Y1D", "longer than the maximum of one year"),
        ("P12M6D", "longer than the maximum of one year"),
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
    lookout_client, emulator, model_name, create_scheduler
):
    emulator.settings.pending_seconds = 0.1

    created = create_scheduler()
    status_at_once = lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"]
    time.sleep(0.11)
    status_later = lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"]

    assert created["Status"] == "PENDING"
    assert status_at_once == "PENDING"
    assert status_later == "RUNNING"


def test_stopped_scheduler_stopping_becomes_stopped_after_delay(
    lookout_client, emulator, scheduler_in_status
):
    model_name = scheduler_in_status("RUNNING")
    emulator.settings.stopping_seconds = 0.1

    stopped = lookout_client.stop_retraining_scheduler(ModelName=model_name)
    status_at_once = lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"]
    time.sleep(0.11)
    status_later = lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"]

    assert stopped["Status"] == "STOPPING"
    assert status_at_once == "STOPPING"
    assert status_later == "STOPPED"


def test_started_scheduler_pending_becomes_running_after_delay(
    lookout_client, emulator, scheduler_in_status
):
    model_name = scheduler_in_status("STOPPED")
    emulator.settings.pending_seconds = 0.1

    started = lookout_client.start_retraining_scheduler(ModelName=model_name)
    time.sleep(0.11)
    status_later = lookout_client.describe_retraining_scheduler(ModelName=model_name)["Status"]

    assert started["Status"] == "PENDING"
    assert started["ModelName"] == model_name
    assert status_later == "RUNNING"


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


def test_update_given_members_changed_others_kept(lookout_client, model_name, create_scheduler):
    create_scheduler(
        RetrainingFrequency="P30D",
        LookbackWindow="P180D",
        PromoteMode="MANUAL",
        RetrainingStartDate=datetime.datetime(2031, 1, 1, tzinfo=UTC),
    )
    before = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    time.sleep(0.002)

    lookout_client.update_retraining_scheduler(ModelName=model_name, LookbackWindow="P720D")
    after = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert after["LookbackWindow"] == "P720D"
    assert after["RetrainingFrequency"] == "P30D"
    assert after["PromoteMode"] == "MANUAL"
    assert after["RetrainingStartDate"] == before["RetrainingStartDate"]
    assert after["Status"] == before["Status"]
    assert after["CreatedAt"] == before["CreatedAt"]
    assert after["UpdatedAt"] > before["UpdatedAt"]


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
    lookout_client, emulator, model_name, create_scheduler
):
    create_scheduler()

    first = lookout_client.describe_retraining_scheduler(ModelName=model_name)["CreatedAt"]
    lookout_client.update_retraining_scheduler(ModelName=model_name, PromoteMode="MANUAL")
    second = lookout_client.describe_retraining_scheduler(ModelName=model_name)["CreatedAt"]

    assert first == second
    assert first.microsecond % 1000 == 0
    millis = (first - EPOCH) // datetime.timedelta(milliseconds=1)
    snapshot_created_at = emulator.snapshot()["schedulers"][0]["CreatedAt"]
    assert datetime.datetime.fromisoformat(snapshot_created_at) == EPOCH + datetime.timedelta(
        milliseconds=millis
    )
    assert abs(first.timestamp() - time.time()) < 5
