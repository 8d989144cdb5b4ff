"""Both settings of each switch for what the API reference leaves open."""

from __future__ import annotations

import pytest

from lookout_retraining.local.emulator import EmulatorSettings


def test_create_starts_scheduler_on_pending_then_running(
    lookout_client, emulator, model_name, create_scheduler
):
    emulator.settings.create_starts_scheduler = True

    created = create_scheduler()
    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    assert created["Status"] == "PENDING"
    assert described["Status"] == "RUNNING"


def test_create_starts_scheduler_off_stopped_until_started(
    lookout_client, emulator, model_name, create_scheduler
):
    emulator.settings.create_starts_scheduler = False

    created = create_scheduler()
    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    started = lookout_client.start_retraining_scheduler(ModelName=model_name)

    assert created["Status"] == "STOPPED"
    assert described["Status"] == "STOPPED"
    assert started["Status"] == "PENDING"


def test_create_starts_scheduler_flipped_at_run_time_next_create_follows(
    lookout_client, emulator, create_scheduler
):
    emulator.create_model("pump-1")
    emulator.create_model("pump-2")

    first = create_scheduler("pump-1")
    emulator.settings.create_starts_scheduler = False
    second = create_scheduler("pump-2")

    assert first["Status"] == "PENDING"
    assert second["Status"] == "STOPPED"


@pytest.mark.parametrize("status", ["PENDING", "RUNNING", "STOPPING"])
def test_update_requires_stopped_on_not_stopped_conflict(
    lookout_client, emulator, scheduler_in_status, expect_service_error, status
):
    model_name = scheduler_in_status(status)
    emulator.settings.update_requires_stopped = True

    with expect_service_error("ConflictException", 409, match="requires it to be STOPPED"):
        lookout_client.update_retraining_scheduler(ModelName=model_name, LookbackWindow="P720D")

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert described["LookbackWindow"] == "P180D"
    assert described["CreatedAt"] == described["UpdatedAt"]


def test_update_requires_stopped_on_stopped_updated(lookout_client, emulator, scheduler_in_status):
    model_name = scheduler_in_status("STOPPED")
    emulator.settings.update_requires_stopped = True

    lookout_client.update_retraining_scheduler(ModelName=model_name, LookbackWindow="P720D")

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert described["LookbackWindow"] == "P720D"
    assert described["Status"] == "STOPPED"


@pytest.mark.parametrize("status", ["PENDING", "RUNNING", "STOPPING", "STOPPED"])
def test_update_requires_stopped_off_any_status_updated(
    lookout_client, emulator, scheduler_in_status, status
):
    model_name = scheduler_in_status(status)
    emulator.settings.update_requires_stopped = False

    lookout_client.update_retraining_scheduler(ModelName=model_name, LookbackWindow="P720D")

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert described["LookbackWindow"] == "P720D"
    assert described["Status"] == status


def test_settings_replaced_at_run_time_next_call_follows(
    lookout_client, emulator, model_name, create_scheduler
):
    emulator.settings = EmulatorSettings(create_starts_scheduler=False)

    created = create_scheduler()

    assert created["Status"] == "STOPPED"
    assert emulator.settings.create_starts_scheduler is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pending_seconds", -1.0),
        ("stopping_seconds", float("nan")),
        ("account_id", "12345"),
        ("default_region", "Mars"),
    ],
)
def test_settings_out_of_range_value_error(field, value):
    settings = EmulatorSettings()

    with pytest.raises(ValueError, match=field):
        setattr(settings, field, value)
    with pytest.raises(ValueError, match=field):
        EmulatorSettings(**{field: value})
