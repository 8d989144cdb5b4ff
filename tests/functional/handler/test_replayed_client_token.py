"""A reused ClientToken: the service replays an old answer, never for the scheduler now there.

The service answers a ClientToken it has seen with the same parameters by replaying its first
answer, even when the scheduler it created then is gone and another one is on the model now.
"""

from __future__ import annotations

STACK_2_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/handler-functional-2/"
    "9d3e2b81-1111-4b4b-8c8c-fedcba987654"
)
TOKEN = "pump-1-first-deploy"


def in_stack_2(event):
    """Return the event as a resource of another stack would receive it."""
    return {**event, "StackId": STACK_2_ID}


def create_and_roll_back_in_stack_2(cloudformation, properties):
    """Send a Create from another stack, then the rollback Delete of the id it answered."""
    created = cloudformation.send(in_stack_2(cloudformation.event("Create", properties)))
    rolled_back = cloudformation.send(
        in_stack_2(cloudformation.event("Delete", properties, physical_id=created.physical_id))
    )
    return created, rolled_back


def describe(lookout_client, model_name):
    return lookout_client.describe_retraining_scheduler(ModelName=model_name)


def created_then_replaced_by_hand(cloudformation, lookout_client, properties, **hand_made):
    """Create and delete the resource's scheduler, then make one by hand on the same model."""
    first = cloudformation.create(properties)
    cloudformation.delete(first.physical_id, properties)
    lookout_client.create_retraining_scheduler(
        ModelName=properties["ModelName"], ClientToken="made-by-hand", **hand_made
    )


def unchanged(before, after):
    names = ("RetrainingFrequency", "LookbackWindow", "PromoteMode", "Status", "CreatedAt")
    return {name: after[name] for name in names} == {name: before[name] for name in names}


def test_create_reused_token_after_delete_fails_and_rollback_leaves_hand_made_scheduler(
    cloudformation, emulator, lookout_client, models, properties, mutating_calls
):
    # Stack 1 creates and deletes its scheduler; someone then makes one by hand on the model;
    # stack 2 declares the same properties and ClientToken as stack 1 did.
    emulator.settings.stopping_seconds = 0.05
    with_token = {**properties, "ClientToken": TOKEN}
    created_then_replaced_by_hand(
        cloudformation,
        lookout_client,
        with_token,
        RetrainingFrequency="P90D",
        LookbackWindow="P360D",
    )
    before = describe(lookout_client, "pump-1")
    emulator.clear_calls()

    created, rolled_back = create_and_roll_back_in_stack_2(cloudformation, with_token)

    assert created.status == "FAILED"
    assert created.physical_id == f"not-created|{created.event['RequestId']}"
    assert created.reason.startswith(f"ClientToken '{TOKEN}' replayed an earlier request")
    assert "differs in LookbackWindow, RetrainingFrequency" in created.reason
    assert "Set a new ClientToken, or AdoptExisting to true" in created.reason
    assert rolled_back.status == "SUCCESS"
    # The replayed Create is the only mutating call, and it changed nothing.
    creates = [call for call in emulator.calls if call.operation == "CreateRetrainingScheduler"]
    assert [call.status for call in creates] == [200]
    assert mutating_calls() == ["CreateRetrainingScheduler"]
    assert unchanged(before, describe(lookout_client, "pump-1"))


def test_create_reused_token_on_retained_changed_scheduler_fails_and_leaves_it(
    cloudformation, emulator, lookout_client, models, properties, mutating_calls
):
    # Stack 1 creates its scheduler, an update changes it in place, and stack 1 is deleted with
    # the scheduler retained (no Delete event). Stack 2 declares stack 1's first properties.
    emulator.settings.stopping_seconds = 0.05
    with_token = {**properties, "ClientToken": TOKEN}
    first = cloudformation.create(with_token)
    changed = {**with_token, "RetrainingFrequency": "P60D", "DesiredState": "STOPPED"}
    assert cloudformation.update(first.physical_id, changed, with_token).status == "SUCCESS"
    before = describe(lookout_client, "pump-1")
    emulator.clear_calls()

    created, rolled_back = create_and_roll_back_in_stack_2(cloudformation, with_token)

    assert created.status == "FAILED"
    assert created.physical_id.startswith("not-created|")
    assert "differs in RetrainingFrequency" in created.reason
    assert rolled_back.status == "SUCCESS"
    assert mutating_calls() == ["CreateRetrainingScheduler"]
    after = describe(lookout_client, "pump-1")
    assert unchanged(before, after)
    assert (after["RetrainingFrequency"], after["Status"]) == ("P60D", "STOPPED")


def test_create_reused_token_with_opt_in_adopts_the_scheduler_it_finds(
    cloudformation, emulator, lookout_client, models, properties
):
    emulator.settings.stopping_seconds = 0.05
    with_token = {**properties, "ClientToken": TOKEN}
    created_then_replaced_by_hand(
        cloudformation,
        lookout_client,
        with_token,
        RetrainingFrequency="P90D",
        LookbackWindow="P360D",
        PromoteMode="MANUAL",
    )
    adopting = {**with_token, "AdoptExisting": "true"}

    # AdoptExisting is not a CreateRetrainingScheduler parameter: the service still replays.
    created = cloudformation.send(in_stack_2(cloudformation.event("Create", adopting)))
    after_create = describe(lookout_client, "pump-1")
    deleted = cloudformation.send(
        in_stack_2(cloudformation.event("Delete", adopting, physical_id=created.physical_id))
    )

    assert created.status == "SUCCESS", created.reason
    assert created.physical_id == "pump-1"
    creates = [call for call in emulator.calls if call.operation == "CreateRetrainingScheduler"]
    assert creates[-1].status == 200
    assert after_create["RetrainingFrequency"] == "P30D"
    assert after_create["LookbackWindow"] == "P180D"
    assert after_create["PromoteMode"] == "MANAGED"
    assert deleted.status == "SUCCESS"
    assert lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"] == []


def test_update_new_model_reused_token_fails_and_leaves_that_model_scheduler(
    cloudformation, emulator, lookout_client, models, properties, mutating_calls
):
    # Token pump-2-token once created a scheduler on pump-2, deleted since; the scheduler
    # there now was made by hand. A resource on pump-1 moves to pump-2 with that token.
    emulator.settings.stopping_seconds = 0.05
    on_pump_2 = {**properties, "ModelName": "pump-2", "ClientToken": "pump-2-token"}
    created_then_replaced_by_hand(
        cloudformation,
        lookout_client,
        on_pump_2,
        RetrainingFrequency="P60D",
        LookbackWindow="P360D",
    )
    on_pump_1 = {**properties, "ClientToken": "pump-1-token"}
    created = cloudformation.create(on_pump_1)
    before = describe(lookout_client, "pump-2")
    emulator.clear_calls()

    moved = cloudformation.update(created.physical_id, on_pump_2, on_pump_1)

    assert moved.status == "FAILED"
    assert moved.physical_id == "pump-1"
    assert moved.reason.startswith("ClientToken 'pump-2-token' replayed an earlier")
    assert mutating_calls() == ["CreateRetrainingScheduler"]
    assert unchanged(before, describe(lookout_client, "pump-2"))
    assert describe(lookout_client, "pump-1")["Status"] in ("PENDING", "RUNNING")
