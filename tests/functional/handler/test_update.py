"""Update through the handler: in place, no-op, while running, vanished, new model, rollback."""

from __future__ import annotations

import pytest
from handler_harness import SINGLE_ATTEMPT

from lookout_retraining.local.emulator import MUTATING_OPERATIONS


def describe(lookout_client, model_name):
    return lookout_client.describe_retraining_scheduler(ModelName=model_name)


def test_update_in_place_changes_setting_and_keeps_physical_id(
    cloudformation, lookout_client, models, properties
):
    created = cloudformation.create(properties)
    changed = {**properties, "RetrainingFrequency": "P3M15D"}

    updated = cloudformation.update(created.physical_id, changed, properties)

    assert updated.status == "SUCCESS"
    assert updated.physical_id == "pump-1"
    assert describe(lookout_client, "pump-1")["RetrainingFrequency"] == "P3M15D"


def test_update_same_update_twice_second_makes_no_write(
    cloudformation, emulator, models, properties, mutating_calls
):
    created = cloudformation.create(properties)
    changed = {**properties, "LookbackWindow": "P540D"}
    cloudformation.update(created.physical_id, changed, properties)
    emulator.clear_calls()

    repeated = cloudformation.update(created.physical_id, changed, properties)

    assert repeated.status == "SUCCESS"
    assert repeated.physical_id == "pump-1"
    assert mutating_calls() == []
    assert [call.operation for call in emulator.calls] == ["DescribeRetrainingScheduler"]


@pytest.mark.parametrize("update_requires_stopped", [False, True])
def test_update_while_running_applies_and_leaves_it_running(
    cloudformation, emulator, lookout_client, models, properties, update_requires_stopped
):
    emulator.settings.pending_seconds = 0.05
    emulator.settings.stopping_seconds = 0.1
    created = cloudformation.create(properties)
    emulator.settings.update_requires_stopped = update_requires_stopped
    changed = {**properties, "LookbackWindow": "P720D", "PromoteMode": "MANUAL"}

    updated = cloudformation.update(created.physical_id, changed, properties)

    assert updated.status == "SUCCESS", updated.reason
    scheduler = describe(lookout_client, "pump-1")
    assert scheduler["LookbackWindow"] == "P720D"
    assert scheduler["PromoteMode"] == "MANUAL"
    assert scheduler["Status"] in ("PENDING", "RUNNING")
    operations = [call.operation for call in emulator.calls]
    if update_requires_stopped:
        assert "StopRetrainingScheduler" in operations
        assert "StartRetrainingScheduler" in operations
    else:
        assert "StopRetrainingScheduler" not in operations


@pytest.mark.parametrize("update_requires_stopped", [False, True])
def test_update_pause_and_resume_through_desired_state(
    cloudformation, emulator, lookout_client, models, properties, update_requires_stopped
):
    emulator.settings.update_requires_stopped = update_requires_stopped
    emulator.settings.stopping_seconds = 0.1
    created = cloudformation.create(properties)
    paused_properties = {**properties, "DesiredState": "STOPPED"}

    paused = cloudformation.update(created.physical_id, paused_properties, properties)
    status_while_paused = describe(lookout_client, "pump-1")["Status"]
    resumed = cloudformation.update(
        created.physical_id, {**properties, "DesiredState": "RUNNING"}, paused_properties
    )

    assert (paused.status, resumed.status) == ("SUCCESS", "SUCCESS")
    assert paused.response["Data"]["Status"] == "STOPPED"
    assert status_while_paused == "STOPPED"
    assert describe(lookout_client, "pump-1")["Status"] in ("PENDING", "RUNNING")


@pytest.mark.parametrize("update_requires_stopped", [False, True])
def test_update_declared_stopped_with_changes_stops_first_without_refused_call(
    cloudformation, emulator, lookout_client, models, properties, update_requires_stopped
):
    emulator.settings.update_requires_stopped = update_requires_stopped
    emulator.settings.stopping_seconds = 0.1
    created = cloudformation.create(properties)
    emulator.clear_calls()
    paused = {**properties, "DesiredState": "STOPPED", "LookbackWindow": "P540D"}

    updated = cloudformation.update(created.physical_id, paused, properties)

    assert updated.status == "SUCCESS", updated.reason
    writes = [
        (call.operation, call.status)
        for call in emulator.calls
        if call.operation in MUTATING_OPERATIONS
    ]
    assert writes == [("StopRetrainingScheduler", 200), ("UpdateRetrainingScheduler", 200)]
    scheduler = describe(lookout_client, "pump-1")
    assert (scheduler["LookbackWindow"], scheduler["Status"]) == ("P540D", "STOPPED")


def test_update_after_scheduler_vanished_creates_it_again(
    cloudformation, emulator, lookout_client, models, properties
):
    created = cloudformation.create(properties)
    lookout_client.stop_retraining_scheduler(ModelName="pump-1")
    lookout_client.delete_retraining_scheduler(ModelName="pump-1")

    updated = cloudformation.update(
        created.physical_id, {**properties, "RetrainingFrequency": "P45D"}, properties
    )

    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id == "pump-1"
    scheduler = describe(lookout_client, "pump-1")
    assert scheduler["RetrainingFrequency"] == "P45D"
    assert scheduler["Status"] in ("PENDING", "RUNNING")


@pytest.mark.parametrize("create_starts_scheduler", [True, False])
def test_update_new_model_replaces_then_old_delete_removes_old_only(
    cloudformation, emulator, lookout_client, models, properties, create_starts_scheduler
):
    emulator.settings.create_starts_scheduler = create_starts_scheduler
    emulator.settings.stopping_seconds = 0.05
    created = cloudformation.create(properties)
    old_created_at = describe(lookout_client, "pump-1")["CreatedAt"]
    moved = {**properties, "ModelName": "pump-2"}

    replaced = cloudformation.update(created.physical_id, moved, properties)
    cleanup = cloudformation.delete(created.physical_id, properties)

    assert replaced.status == "SUCCESS", replaced.reason
    millis = int(old_created_at.timestamp() * 1000)
    assert replaced.physical_id == f"pump-2|previous=pump-1@{millis}"
    assert replaced.response["Data"]["ModelName"] == "pump-2"
    assert cleanup.status == "SUCCESS"
    summaries = lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]
    assert [summary["ModelName"] for summary in summaries] == ["pump-2"]
    assert describe(lookout_client, "pump-2")["Status"] in ("PENDING", "RUNNING")


def test_update_rollback_to_old_model_reuses_old_scheduler_and_cleanup_removes_new(
    cloudformation, emulator, lookout_client, models, properties
):
    emulator.settings.stopping_seconds = 0.05
    created = cloudformation.create(properties)
    old_before = describe(lookout_client, "pump-1")
    moved = {**properties, "ModelName": "pump-2"}
    replaced = cloudformation.update(created.physical_id, moved, properties)

    # The stack update failed elsewhere: CloudFormation rolls this resource back, then
    # deletes the physical id the failed update produced.
    rolled_back = cloudformation.update(replaced.physical_id, properties, moved)
    cleanup = cloudformation.delete(replaced.physical_id, moved)

    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert rolled_back.physical_id == "pump-1"
    assert cleanup.status == "SUCCESS"
    summaries = lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]
    assert [summary["ModelName"] for summary in summaries] == ["pump-1"]
    old_after = describe(lookout_client, "pump-1")
    assert old_after["CreatedAt"] == old_before["CreatedAt"]
    assert old_after["Status"] in ("PENDING", "RUNNING")


def test_update_new_model_with_foreign_scheduler_fails_and_touches_nothing(
    cloudformation, emulator, lookout_client, models, properties, mutating_calls
):
    created = cloudformation.create(properties)
    lookout_client.create_retraining_scheduler(
        ModelName="pump-2", RetrainingFrequency="P60D", LookbackWindow="P360D", ClientToken="hand"
    )
    emulator.clear_calls()

    moved = cloudformation.update(
        created.physical_id, {**properties, "ModelName": "pump-2"}, properties
    )

    assert moved.status == "FAILED"
    assert "already exists on model 'pump-2'" in moved.reason
    # The Create with this request's ClientToken, refused, tells that no earlier delivery of
    # the request made that scheduler; it changed nothing.
    assert mutating_calls() == ["CreateRetrainingScheduler"]
    assert describe(lookout_client, "pump-2")["RetrainingFrequency"] == "P60D"


def test_update_new_model_unchanged_client_token_fails_before_any_call(
    cloudformation, emulator, models, properties
):
    with_token = {**properties, "ClientToken": "pump-token"}
    created = cloudformation.create(with_token)
    emulator.clear_calls()

    moved = cloudformation.update(
        created.physical_id, {**with_token, "ModelName": "pump-2"}, with_token
    )

    assert moved.status == "FAILED"
    assert "ClientToken 'pump-token' did not change" in moved.reason
    assert emulator.calls == []


def test_update_new_model_failing_after_create_removes_what_it_created(
    cloudformation, handler_module, emulator, lookout_client, models, properties
):
    emulator.settings.create_starts_scheduler = False
    created = cloudformation.create(properties)
    emulator.clear_calls()
    # Start on the new model fails for good.
    cloudformation.handler = handler_module.build_handler(
        handler_module.build_client(SINGLE_ATTEMPT)
    )
    emulator.faults.fail("StartRetrainingScheduler", count=1)

    moved = cloudformation.update(
        created.physical_id, {**properties, "ModelName": "pump-2"}, properties
    )

    assert moved.status == "FAILED"
    assert "StartRetrainingScheduler on model 'pump-2' failed" in moved.reason
    assert "was removed" in moved.reason
    summaries = lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]
    assert [summary["ModelName"] for summary in summaries] == ["pump-1"]


def test_update_new_model_delivered_again_after_it_created_the_scheduler_succeeds(
    cloudformation, emulator, lookout_client, models, properties
):
    # Lambda retries an invocation that failed after its work was done (crhelper could not
    # send the response, say): the retry finds the scheduler the first delivery created.
    created = cloudformation.create(properties)
    moving = cloudformation.event(
        "Update",
        {**properties, "ModelName": "pump-2"},
        physical_id=created.physical_id,
        old_properties=properties,
    )
    again = dict(moving, ResponseURL=cloudformation.recorder.new_url("stack", "Pump", "again"))

    first = cloudformation.send(moving)
    second = cloudformation.send(again)

    assert (first.status, second.status) == ("SUCCESS", "SUCCESS"), second.reason
    assert second.physical_id == first.physical_id
    assert first.physical_id.startswith("pump-2|previous=pump-1@")
    summaries = lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]
    assert sorted(summary["ModelName"] for summary in summaries) == ["pump-1", "pump-2"]
    creates = [c for c in emulator.calls if c.operation == "CreateRetrainingScheduler"]
    assert [c.status for c in creates] == [200, 200, 200]  # the Create, the first, the replay
