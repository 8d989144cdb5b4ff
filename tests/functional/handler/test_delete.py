"""Delete through the real handler: stop, wait, delete; repeated; already gone."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("create_starts_scheduler", [True, False])
def test_delete_running_scheduler_stops_waits_and_deletes(
    cloudformation, emulator, lookout_client, models, properties, create_starts_scheduler
):
    emulator.settings.create_starts_scheduler = create_starts_scheduler
    emulator.settings.stopping_seconds = 0.2
    created = cloudformation.create(properties)
    emulator.clear_calls()

    deleted = cloudformation.delete(created.physical_id, properties)

    assert deleted.status == "SUCCESS"
    assert deleted.physical_id == "pump-1"
    operations = [call.operation for call in emulator.calls]
    assert operations[0] == "DescribeRetrainingScheduler"
    assert operations[1] == "StopRetrainingScheduler"
    assert operations[-1] == "DeleteRetrainingScheduler"
    assert set(operations[2:-1]) == {"DescribeRetrainingScheduler"}
    assert lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"] == []


def test_delete_finishes_soon_after_service_reaches_stopped(
    cloudformation, emulator, models, properties
):
    emulator.settings.stopping_seconds = 0.2
    created = cloudformation.create(properties)
    emulator.clear_calls()

    cloudformation.delete(created.physical_id, properties)

    calls = {call.operation: call for call in emulator.calls}
    stopped_at = calls["StopRetrainingScheduler"].finished_at + 0.2
    assert calls["DeleteRetrainingScheduler"].started_at - stopped_at < 2.0


def test_delete_repeated_succeeds_without_mutating_call(
    cloudformation, emulator, models, properties, mutating_calls
):
    created = cloudformation.create(properties)
    cloudformation.delete(created.physical_id, properties)
    emulator.clear_calls()

    repeated = cloudformation.delete(created.physical_id, properties)

    assert repeated.status == "SUCCESS"
    assert mutating_calls() == []


def test_delete_after_scheduler_vanished_succeeds(
    cloudformation, emulator, lookout_client, models, properties, mutating_calls
):
    created = cloudformation.create(properties)
    lookout_client.stop_retraining_scheduler(ModelName="pump-1")
    lookout_client.delete_retraining_scheduler(ModelName="pump-1")
    emulator.clear_calls()

    deleted = cloudformation.delete(created.physical_id, properties)

    assert deleted.status == "SUCCESS"
    assert mutating_calls() == []


def test_delete_after_model_vanished_succeeds(
    cloudformation, emulator, lookout_client, models, properties, mutating_calls
):
    created = cloudformation.create(properties)
    lookout_client.delete_model(ModelName="pump-1")
    emulator.clear_calls()

    deleted = cloudformation.delete(created.physical_id, properties)

    assert deleted.status == "SUCCESS"
    assert mutating_calls() == []


def test_delete_declared_properties_never_choose_what_is_deleted(
    cloudformation, emulator, lookout_client, models, properties
):
    created = cloudformation.create(properties)
    lookout_client.create_retraining_scheduler(
        ModelName="pump-2", RetrainingFrequency="P60D", LookbackWindow="P360D", ClientToken="hand"
    )

    deleted = cloudformation.delete(created.physical_id, {**properties, "ModelName": "pump-2"})

    assert deleted.status == "SUCCESS"
    summaries = lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]
    assert [summary["ModelName"] for summary in summaries] == ["pump-2"]
