"""Create through the real handler, boto3 and the emulator, under both Create behaviours."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("create_starts_scheduler", [True, False])
def test_create_model_exists_creates_running_scheduler(
    cloudformation, emulator, lookout_client, models, properties, create_starts_scheduler
):
    emulator.settings.create_starts_scheduler = create_starts_scheduler

    created = cloudformation.create(properties)

    assert created.status == "SUCCESS"
    assert created.physical_id == "pump-1"
    data = created.response["Data"]
    assert data["ModelName"] == "pump-1"
    assert data["ModelArn"].startswith("arn:aws:lookoutequipment:us-east-1:123456789012:model/")
    assert data["Status"] in ("PENDING", "RUNNING")
    scheduler = lookout_client.describe_retraining_scheduler(ModelName="pump-1")
    assert scheduler["Status"] in ("PENDING", "RUNNING")
    assert scheduler["RetrainingFrequency"] == "P30D"
    assert scheduler["LookbackWindow"] == "P180D"


@pytest.mark.parametrize("create_starts_scheduler", [True, False])
def test_create_declared_stopped_leaves_scheduler_stopped(
    cloudformation, emulator, lookout_client, models, properties, create_starts_scheduler
):
    emulator.settings.create_starts_scheduler = create_starts_scheduler
    emulator.settings.stopping_seconds = 0.1

    created = cloudformation.create({**properties, "DesiredState": "STOPPED"})

    assert created.status == "SUCCESS"
    assert created.response["Data"]["Status"] == "STOPPED"
    assert lookout_client.describe_retraining_scheduler(ModelName="pump-1")["Status"] == "STOPPED"


@pytest.mark.parametrize("create_starts_scheduler", [True, False])
def test_create_delivered_twice_creates_one_scheduler(
    cloudformation, emulator, lookout_client, models, properties, create_starts_scheduler
):
    emulator.settings.create_starts_scheduler = create_starts_scheduler
    first_event = cloudformation.event("Create", properties)
    redelivered = dict(
        first_event,
        ResponseURL=cloudformation.recorder.new_url(
            first_event["StackId"],
            first_event["LogicalResourceId"],
            first_event["RequestId"] + "-again",
        ),
    )

    first = cloudformation.send(first_event)
    second = cloudformation.send(redelivered)

    assert (first.status, second.status) == ("SUCCESS", "SUCCESS")
    assert first.physical_id == second.physical_id == "pump-1"
    assert len(lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]) == 1
    creates = [call for call in emulator.calls if call.operation == "CreateRetrainingScheduler"]
    assert len(creates) == 2
    assert creates[0].request["ClientToken"] == creates[1].request["ClientToken"]
    assert all(call.status == 200 for call in creates)


def test_create_user_client_token_is_the_one_sent(cloudformation, emulator, models, properties):
    created = cloudformation.create({**properties, "ClientToken": "pump-1-first-deploy"})

    assert created.status == "SUCCESS"
    (create_call,) = [c for c in emulator.calls if c.operation == "CreateRetrainingScheduler"]
    assert create_call.request["ClientToken"] == "pump-1-first-deploy"


def test_create_missing_model_fails_and_rollback_delete_makes_no_call(
    cloudformation, emulator, properties
):
    created = cloudformation.create({**properties, "ModelName": "no-such-model"})
    emulator.clear_calls()
    rolled_back = cloudformation.delete(created.physical_id, properties)

    assert created.status == "FAILED"
    assert created.physical_id == f"not-created|{created.event['RequestId']}"
    assert "Model 'no-such-model' was not found" in created.reason
    assert "Logs: /aws/lambda/handler-functional-provider" in created.reason
    assert rolled_back.status == "SUCCESS"
    assert rolled_back.physical_id == created.physical_id
    assert emulator.calls == []


def test_create_foreign_scheduler_fails_and_rollback_leaves_it_untouched(
    cloudformation, emulator, lookout_client, models, properties, mutating_calls
):
    lookout_client.create_retraining_scheduler(
        ModelName="pump-1",
        RetrainingFrequency="P90D",
        LookbackWindow="P360D",
        ClientToken="made-by-hand",
    )
    before = lookout_client.describe_retraining_scheduler(ModelName="pump-1")
    emulator.clear_calls()

    created = cloudformation.create(properties)
    rolled_back = cloudformation.delete(created.physical_id, properties)

    assert created.status == "FAILED"
    assert created.physical_id.startswith("not-created|")
    assert "already exists on model 'pump-1'" in created.reason
    assert "AdoptExisting" in created.reason
    assert rolled_back.status == "SUCCESS"
    # The refused Create is the only mutating call, and it changed nothing.
    assert mutating_calls() == ["CreateRetrainingScheduler"]
    after = lookout_client.describe_retraining_scheduler(ModelName="pump-1")
    for name in ("RetrainingFrequency", "LookbackWindow", "CreatedAt", "UpdatedAt"):
        assert after[name] == before[name]
    assert after["Status"] in ("PENDING", "RUNNING")
