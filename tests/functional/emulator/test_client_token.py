"""ClientToken semantics: a repeated request returns the original result and creates nothing."""

from __future__ import annotations

import datetime

import pytest


def test_create_same_token_same_parameters_original_response_nothing_created(
    lookout_client, emulator, model_name, create_scheduler
):
    first = create_scheduler(ClientToken="request-1", PromoteMode="MANUAL")
    described_before = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    repeated = create_scheduler(ClientToken="request-1", PromoteMode="MANUAL")
    described_after = lookout_client.describe_retraining_scheduler(ModelName=model_name)

    del first["ResponseMetadata"], repeated["ResponseMetadata"]
    # The original response, PENDING, although the scheduler is RUNNING by now.
    assert repeated == first
    assert repeated["Status"] == "PENDING"
    assert described_after["Status"] == "RUNNING"
    assert described_after["CreatedAt"] == described_before["CreatedAt"]
    assert described_after["UpdatedAt"] == described_before["UpdatedAt"]
    assert len(emulator.snapshot()["schedulers"]) == 1


@pytest.mark.parametrize(
    ("changed_member", "value"),
    [
        ("RetrainingFrequency", "P60D"),
        ("LookbackWindow", "P360D"),
        ("PromoteMode", "MANAGED"),
        ("RetrainingStartDate", datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)),
    ],
)
def test_create_same_token_other_parameters_conflict(
    lookout_client, model_name, create_scheduler, expect_service_error, changed_member, value
):
    create_scheduler(ClientToken="request-1")

    with expect_service_error("ConflictException", 409, match=f"differ in {changed_member}"):
        create_scheduler(ClientToken="request-1", **{changed_member: value})

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert described["RetrainingFrequency"] == "P30D"
    assert "RetrainingStartDate" not in described


def test_create_same_token_other_model_conflict(
    emulator, model_name, create_scheduler, expect_service_error
):
    emulator.create_model("pump-2")
    create_scheduler(model_name, ClientToken="request-1")

    with expect_service_error("ConflictException", 409, match="differ in ModelName"):
        create_scheduler("pump-2", ClientToken="request-1")

    assert [item["ModelName"] for item in emulator.snapshot()["schedulers"]] == [model_name]


def test_create_other_token_existing_scheduler_conflict(
    model_name, create_scheduler, expect_service_error
):
    create_scheduler(ClientToken="request-1")

    with expect_service_error("ConflictException", 409, match="already has a retraining scheduler"):
        create_scheduler(ClientToken="request-2")


def test_create_without_token_botocore_generates_one_each_call(
    emulator, model_name, create_scheduler, expect_service_error
):
    create_scheduler()

    with expect_service_error("ConflictException", 409, match="already has a retraining scheduler"):
        create_scheduler()

    tokens = {call.request["ClientToken"] for call in emulator.calls}
    assert len(tokens) == 2


def test_create_same_token_after_delete_replays_without_creating(
    lookout_client, emulator, model_name, create_scheduler, expect_service_error
):
    emulator.settings.create_starts_scheduler = False
    first = create_scheduler(ClientToken="request-1")
    lookout_client.delete_retraining_scheduler(ModelName=model_name)

    repeated = create_scheduler(ClientToken="request-1")

    assert repeated["ModelArn"] == first["ModelArn"]
    assert emulator.snapshot()["schedulers"] == []
    with expect_service_error("ResourceNotFoundException", 404):
        lookout_client.describe_retraining_scheduler(ModelName=model_name)


def test_create_failed_request_token_not_remembered(
    emulator, create_scheduler, expect_service_error
):
    with expect_service_error("ResourceNotFoundException", 404):
        create_scheduler("pump-late", ClientToken="request-1")
    emulator.create_model("pump-late")

    created = create_scheduler("pump-late", ClientToken="request-1")

    assert created["Status"] == "PENDING"
    assert len(emulator.snapshot()["schedulers"]) == 1


def test_token_of_create_model_reused_by_create_scheduler_independent(
    lookout_client, emulator, create_scheduler
):
    lookout_client.create_model(ModelName="pump-9", DatasetName="plant", ClientToken="shared")

    created = create_scheduler("pump-9", ClientToken="shared")

    assert created["ModelName"] == "pump-9"
    assert len(emulator.snapshot()["schedulers"]) == 1


def test_create_model_same_token_same_parameters_original_response(lookout_client, emulator):
    first = lookout_client.create_model(ModelName="pump-9", DatasetName="plant", ClientToken="m-1")

    repeated = lookout_client.create_model(
        ModelName="pump-9", DatasetName="plant", ClientToken="m-1"
    )

    assert repeated["ModelArn"] == first["ModelArn"]
    assert len(emulator.snapshot()["models"]) == 1


def test_create_model_same_token_other_parameters_conflict(
    lookout_client, emulator, expect_service_error
):
    lookout_client.create_model(ModelName="pump-9", DatasetName="plant", ClientToken="m-1")

    with expect_service_error("ConflictException", 409, match="differ in DatasetName"):
        lookout_client.create_model(ModelName="pump-9", DatasetName="other", ClientToken="m-1")

    described = lookout_client.describe_model(ModelName="pump-9")
    assert described["DatasetName"] == "plant"
