"""Adoption: with the opt-in, Create takes over a hand-made scheduler, which becomes its own."""

from __future__ import annotations

import pytest
from handler_harness import SINGLE_ATTEMPT


@pytest.mark.parametrize("update_requires_stopped", [False, True])
def test_adopt_existing_with_opt_in_converges_then_updates_and_deletes(
    cloudformation, emulator, lookout_client, models, properties, update_requires_stopped
):
    emulator.settings.update_requires_stopped = update_requires_stopped
    emulator.settings.stopping_seconds = 0.05
    lookout_client.create_retraining_scheduler(
        ModelName="pump-1",
        RetrainingFrequency="P90D",
        LookbackWindow="P360D",
        PromoteMode="MANUAL",
        ClientToken="made-by-hand",
    )
    adopting = {**properties, "AdoptExisting": "true"}

    adopted = cloudformation.create(adopting)
    after_adoption = lookout_client.describe_retraining_scheduler(ModelName="pump-1")
    updated = cloudformation.update(
        adopted.physical_id, {**adopting, "RetrainingFrequency": "P120D"}, adopting
    )
    after_update = lookout_client.describe_retraining_scheduler(ModelName="pump-1")
    deleted = cloudformation.delete(adopted.physical_id, adopting)

    assert adopted.status == "SUCCESS", adopted.reason
    assert adopted.physical_id == "pump-1"
    assert after_adoption["RetrainingFrequency"] == "P30D"
    assert after_adoption["LookbackWindow"] == "P180D"
    assert after_adoption["PromoteMode"] == "MANAGED"
    assert after_adoption["Status"] in ("PENDING", "RUNNING")
    assert updated.status == "SUCCESS", updated.reason
    assert after_update["RetrainingFrequency"] == "P120D"
    assert deleted.status == "SUCCESS"
    assert lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"] == []


def test_adopt_existing_already_matching_makes_no_write(
    cloudformation, emulator, lookout_client, models, properties, mutating_calls
):
    lookout_client.create_retraining_scheduler(
        ModelName="pump-1",
        RetrainingFrequency="P30D",
        LookbackWindow="P180D",
        PromoteMode="MANAGED",
        ClientToken="made-by-hand",
    )
    emulator.clear_calls()

    adopted = cloudformation.create({**properties, "AdoptExisting": "true"})

    assert adopted.status == "SUCCESS"
    # Only the refused Create: the running, matching scheduler needs nothing.
    assert mutating_calls() == ["CreateRetrainingScheduler"]


def test_adoption_failing_midway_puts_the_scheduler_back_as_it_was(
    cloudformation, handler_module, emulator, lookout_client, models, properties
):
    # The service needs the scheduler stopped to update it; the adoption stops it, updates
    # it, then cannot start it again. Nothing will own the scheduler (the answer is
    # not-created), so the adoption must undo its changes before answering.
    emulator.settings.update_requires_stopped = True
    lookout_client.create_retraining_scheduler(
        ModelName="pump-1",
        RetrainingFrequency="P90D",
        LookbackWindow="P360D",
        PromoteMode="MANUAL",
        ClientToken="made-by-hand",
    )
    before = lookout_client.describe_retraining_scheduler(ModelName="pump-1")
    cloudformation.handler = handler_module.build_handler(
        handler_module.build_client(SINGLE_ATTEMPT)
    )
    emulator.faults.fail("StartRetrainingScheduler", count=1)

    adopted = cloudformation.create({**properties, "AdoptExisting": "true"})

    assert adopted.status == "FAILED"
    assert adopted.physical_id.startswith("not-created|")
    assert "StartRetrainingScheduler on model 'pump-1' failed" in adopted.reason
    assert "previous settings and running state were restored" in adopted.reason
    after = lookout_client.describe_retraining_scheduler(ModelName="pump-1")
    for name in ("RetrainingFrequency", "LookbackWindow", "PromoteMode"):
        assert after[name] == before[name]
    assert after["Status"] in ("PENDING", "RUNNING")
