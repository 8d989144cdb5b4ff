"""Delete through the real handler: stop, wait, delete; repeated; already gone."""

from __future__ import annotations

import time

import pytest
from handler_harness import CONSTRUCT_LAMBDA_TIMEOUT_SECONDS


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


def test_delete_with_the_construct_lambda_timeout_answers_without_crhelper_sleep(
    cloudformation, emulator, models, properties
):
    # crhelper sleeps sleep_on_delete seconds (120 by default) before answering a Delete, if
    # the remaining time less 15 s exceeds it: only a Lambda timeout as long as the
    # construct's leaves room for that sleep, so only such a test shows it is off.
    emulator.settings.stopping_seconds = 0.1
    created = cloudformation.create(properties)
    started = time.monotonic()

    deleted = cloudformation.delete(
        created.physical_id, properties, timeout_seconds=CONSTRUCT_LAMBDA_TIMEOUT_SECONDS
    )
    elapsed = time.monotonic() - started

    assert deleted.status == "SUCCESS"
    # A Delete takes about a second here; the sleep would take 120 s.
    assert elapsed < 30.0


@pytest.mark.synth
def test_construct_lambda_timeout_is_the_one_deletes_are_tested_with():
    # Imported here: aws_cdk starts jsii, which no other handler test needs.
    from lookout_retraining.provider import LAMBDA_TIMEOUT

    assert LAMBDA_TIMEOUT.to_seconds() == CONSTRUCT_LAMBDA_TIMEOUT_SECONDS


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
