"""Stack deletion after people changed the schedulers by hand, outside CloudFormation.

Between deployment and deletion, someone stopped one scheduler, changed another's settings,
deleted a third, deleted a fourth's model (and with it its scheduler), left a fifth stopping,
and created a scheduler of their own on a model the stack does not declare. Destroy must
succeed, leave none of the stack's schedulers, and not touch the one it never owned.
"""

from __future__ import annotations

import time

import pytest
from end_to_end import Declared, answered_once, declared_state, observed_state, synthesize

pytestmark = [pytest.mark.synth, pytest.mark.slow]

STACK = "ManualChangesStack"
SCHEDULERS = (
    Declared("Stopped", "stopped-1"),
    Declared("Changed", "changed-1", "P45D", "P360D", promote_mode="MANUAL"),
    Declared("Deleted", "deleted-1"),
    Declared("ModelDeleted", "model-deleted-1"),
    Declared("Stopping", "stopping-1"),
    Declared("Untouched", "untouched-1", running=False),
)
FOREIGN = "foreign-1"


def wait_for_status(client, model, status):
    for _ in range(100):
        if client.describe_retraining_scheduler(ModelName=model)["Status"] == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"{model} never reached {status}")


def test_destroy_after_schedulers_stopped_changed_and_deleted_by_hand_leaves_none_of_ours(
    emulator, lookout_client, deployer_for, tmp_path, reliability_figures
):
    for declared in SCHEDULERS:
        emulator.create_model(declared.model_name)
    emulator.create_model(FOREIGN)
    assembly = synthesize(tmp_path / "app", STACK, SCHEDULERS)
    deployer = deployer_for()
    created = deployer.deploy(STACK, assembly_dir=assembly.outdir)
    assert created.status == "CREATE_COMPLETE", created.status_reason
    assert observed_state(emulator) == declared_state(SCHEDULERS)

    lookout_client.stop_retraining_scheduler(ModelName="stopped-1")
    lookout_client.update_retraining_scheduler(
        ModelName="changed-1", RetrainingFrequency="P1Y", LookbackWindow="P720D"
    )
    lookout_client.stop_retraining_scheduler(ModelName="deleted-1")
    wait_for_status(lookout_client, "deleted-1", "STOPPED")
    lookout_client.delete_retraining_scheduler(ModelName="deleted-1")
    lookout_client.delete_model(ModelName="model-deleted-1")
    lookout_client.create_retraining_scheduler(
        ModelName=FOREIGN,
        RetrainingFrequency="P60D",
        LookbackWindow="P180D",
        ClientToken="made-by-hand",
    )
    # Stopping takes a while from now on: one scheduler is still STOPPING when destroy starts.
    emulator.settings.stopping_seconds = 1.0
    lookout_client.stop_retraining_scheduler(ModelName="stopping-1")
    foreign_before = [s for s in emulator.snapshot()["schedulers"] if s["ModelName"] == FOREIGN]
    emulator.clear_calls()

    destroyed = deployer.destroy(STACK)

    assert destroyed.status == "DELETE_COMPLETE", destroyed.status_reason
    assert len(destroyed.deliveries) == len(SCHEDULERS)
    assert all(delivery.succeeded for delivery in destroyed.deliveries)
    # Nothing of the stack's is left; the scheduler made by hand is exactly as it was.
    assert list(observed_state(emulator)) == [FOREIGN]
    assert [s for s in emulator.snapshot()["schedulers"] if s["ModelName"] == FOREIGN] == (
        foreign_before
    )
    assert not [call for call in emulator.calls if call.request.get("ModelName") == FOREIGN]
    assert deployer.stack_state(STACK) is None
    answered_once(created, reliability_figures)
    answered_once(destroyed, reliability_figures)
    reliability_figures.count("faults injected: changes made by hand before destroy", 5)
