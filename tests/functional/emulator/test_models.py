"""CreateModel, DescribeModel and DeleteModel, as far as a scheduler needs a model."""

from __future__ import annotations

import re

import pytest

from lookout_retraining.local.emulator import ConflictException, ValidationException

ARN = re.compile(
    r"^arn:aws:lookoutequipment:us-east-1:123456789012:model/pump-9/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


def test_create_model_success_at_once_with_arn(lookout_client):
    created = lookout_client.create_model(
        ModelName="pump-9",
        DatasetName="plant-sensors",
        RoleArn="arn:aws:iam::123456789012:role/lookout",
        DataPreProcessingConfiguration={"TargetSamplingRate": "PT5M"},
    )
    described = lookout_client.describe_model(ModelName="pump-9")

    assert created["Status"] == "SUCCESS"
    assert ARN.match(created["ModelArn"])
    assert described["ModelArn"] == created["ModelArn"]
    assert described["Status"] == "SUCCESS"
    assert described["DatasetName"] == "plant-sensors"
    assert described["DatasetArn"].startswith(
        "arn:aws:lookoutequipment:us-east-1:123456789012:dataset/plant-sensors/"
    )
    assert described["RoleArn"] == "arn:aws:iam::123456789012:role/lookout"
    assert described["DataPreProcessingConfiguration"] == {"TargetSamplingRate": "PT5M"}
    assert "RetrainingSchedulerStatus" not in described


def test_create_model_existing_name_conflict(lookout_client, expect_service_error):
    lookout_client.create_model(ModelName="pump-9", DatasetName="plant", ClientToken="m-1")

    with expect_service_error("ConflictException", 409, match="already exists"):
        lookout_client.create_model(ModelName="pump-9", DatasetName="plant", ClientToken="m-2")


def test_describe_model_missing_not_found(lookout_client, expect_service_error):
    with expect_service_error("ResourceNotFoundException", 404, match="'pump-0' does not exist"):
        lookout_client.describe_model(ModelName="pump-0")


def test_describe_model_reports_scheduler_status(lookout_client, model_name, scheduler_in_status):
    scheduler_in_status("STOPPING")

    described = lookout_client.describe_model(ModelName=model_name)

    assert described["RetrainingSchedulerStatus"] == "STOPPING"


def test_delete_model_missing_not_found(lookout_client, expect_service_error):
    with expect_service_error("ResourceNotFoundException", 404):
        lookout_client.delete_model(ModelName="pump-0")


def test_delete_model_without_scheduler_removed(lookout_client, emulator, model_name):
    lookout_client.delete_model(ModelName=model_name)

    assert emulator.snapshot()["models"] == []


@pytest.mark.parametrize("status", ["RUNNING", "STOPPED"])
def test_delete_model_with_scheduler_deletes_both(
    lookout_client, emulator, scheduler_in_status, expect_service_error, status
):
    model_name = scheduler_in_status(status)

    lookout_client.delete_model(ModelName=model_name)

    assert emulator.snapshot() == {
        "account_id": "123456789012",
        "models": [],
        "schedulers": [],
    }
    with expect_service_error("ResourceNotFoundException", 404, match="Model 'pump-1'"):
        lookout_client.describe_retraining_scheduler(ModelName=model_name)


def test_emulator_create_model_arn_with_configured_account(emulator):
    emulator.settings.account_id = "210987654321"

    model_arn = emulator.create_model("pump-9", region="eu-west-1")

    assert model_arn.startswith("arn:aws:lookoutequipment:eu-west-1:210987654321:model/pump-9/")
    assert emulator.calls == []


def test_emulator_create_model_invalid_name_validation_exception(emulator):
    with pytest.raises(ValidationException, match="modelName"):
        emulator.create_model("pump 9")

    assert emulator.snapshot()["models"] == []


def test_emulator_create_model_existing_conflict_exception(emulator):
    emulator.create_model("pump-9")

    with pytest.raises(ConflictException, match="already exists") as caught:
        emulator.create_model("pump-9")

    assert caught.value.http_status == 409
