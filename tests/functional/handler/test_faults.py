"""Faults: throttling and 5xx ride on botocore's retries; a slow service gets a timely FAILED."""

from __future__ import annotations

import time


def test_create_throttled_twice_succeeds_through_retries(
    cloudformation, emulator, lookout_client, models, properties
):
    emulator.faults.throttle("CreateRetrainingScheduler", count=2)

    created = cloudformation.create(properties)

    assert created.status == "SUCCESS", created.reason
    creates = [c for c in emulator.calls if c.operation == "CreateRetrainingScheduler"]
    assert [c.status for c in creates] == [429, 429, 200]
    assert len(lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]) == 1


def test_delete_server_errors_succeed_through_retries(
    cloudformation, emulator, lookout_client, models, properties
):
    created = cloudformation.create(properties)
    emulator.faults.fail("DescribeRetrainingScheduler", count=1)
    emulator.faults.fail("StopRetrainingScheduler", count=2)
    emulator.faults.fail("DeleteRetrainingScheduler", count=1)

    deleted = cloudformation.delete(created.physical_id, properties)

    assert deleted.status == "SUCCESS", deleted.reason
    statuses = [(c.operation, c.status) for c in emulator.calls]
    assert statuses.count(("StopRetrainingScheduler", 500)) == 2
    assert statuses.count(("DeleteRetrainingScheduler", 500)) == 1
    assert lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"] == []


def test_update_describe_slower_than_deadline_answers_failed_once_in_time(
    cloudformation, emulator, models, properties
):
    created = cloudformation.create(properties)
    emulator.faults.delay("DescribeRetrainingScheduler", seconds=5.0, count=1)

    updated = cloudformation.update(
        created.physical_id,
        {**properties, "RetrainingFrequency": "P40D"},
        properties,
        timeout_seconds=4.0,
    )
    time.sleep(updated.context.get_remaining_time_in_millis() / 1000 + 0.5)

    assert updated.status == "FAILED"
    assert updated.responses[0].received_at < updated.context.deadline_epoch
    assert updated.physical_id == "pump-1"
    assert updated.reason.startswith("Timed out after")
    assert "DescribeRetrainingScheduler for model 'pump-1'" in updated.reason
    assert "Logs: /aws/lambda/handler-functional-provider" in updated.reason
    # Still one response after the deadline passed: crhelper's timer never fired.
    assert len(cloudformation.recorder.responses_for(updated.event["ResponseURL"])) == 1


def test_create_call_slower_than_deadline_answers_not_created_and_says_it_may_exist(
    cloudformation, emulator, models, properties
):
    emulator.faults.delay("CreateRetrainingScheduler", seconds=4.5, count=1)

    created = cloudformation.create(properties, timeout_seconds=4.0)

    assert created.status == "FAILED"
    assert created.physical_id == f"not-created|{created.event['RequestId']}"
    assert "calling CreateRetrainingScheduler" in created.reason
    assert "AdoptExisting" in created.reason
    assert created.responses[0].received_at < created.context.deadline_epoch


def test_invocation_after_timed_out_one_is_not_blocked_by_its_worker(
    cloudformation, emulator, models, properties
):
    created = cloudformation.create(properties)
    emulator.faults.delay("DescribeRetrainingScheduler", seconds=4.0, count=1)
    cloudformation.update(created.physical_id, properties, properties, timeout_seconds=3.5)

    started = time.monotonic()
    again = cloudformation.update(created.physical_id, properties, properties)

    assert again.status == "SUCCESS"
    assert time.monotonic() - started < 2.0


def test_cancelled_invocation_stops_botocore_retries(cloudformation, emulator, models, properties):
    # Throttled without end: botocore keeps retrying inside one call until the handler answers.
    emulator.faults.throttle("CreateRetrainingScheduler", count=1000)

    created = cloudformation.create(properties, timeout_seconds=4.0)
    answered_at = created.responses[0].received_at
    time.sleep(3.0)

    assert created.status == "FAILED"
    late_calls = [call for call in emulator.calls if call.started_at > answered_at]
    assert late_calls == []
