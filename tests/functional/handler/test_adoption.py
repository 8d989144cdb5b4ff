"""Adoption: with the opt-in, Create takes over a hand-made scheduler, which becomes its own."""

from __future__ import annotations

import pytest


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
