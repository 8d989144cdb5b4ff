"""State persistence in a JSON file, shared by emulators run one after another."""

from __future__ import annotations

import json
import re

import pytest

from lookout_retraining.local.emulator import (
    Emulator,
    EmulatorSettings,
    StateFileError,
    StateFileInUseError,
)

REQUEST = {"RetrainingFrequency": "P30D", "LookbackWindow": "P180D"}


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "state" / "emulator.json"


@pytest.fixture
def client_for(aws_session):
    def build(emulator):
        return aws_session.client("lookoutequipment", endpoint_url=emulator.endpoint_url)

    return build


def test_second_emulator_same_file_sees_scheduler_unchanged(state_file, client_for):
    with Emulator(state_file=state_file) as first:
        model_arn = first.create_model("pump-1")
        client = client_for(first)
        client.create_retraining_scheduler(ModelName="pump-1", PromoteMode="MANUAL", **REQUEST)
        before = client.describe_retraining_scheduler(ModelName="pump-1")

    with Emulator(state_file=state_file) as second:
        after = client_for(second).describe_retraining_scheduler(ModelName="pump-1")

    del before["ResponseMetadata"], after["ResponseMetadata"]
    assert after == before
    assert after["ModelArn"] == model_arn


def test_second_emulator_status_settles_from_first_emulators_stop(state_file, client_for, clock):
    settings = EmulatorSettings(stopping_seconds=60.0)
    with Emulator(settings, state_file=state_file, clock=clock) as first:
        first.create_model("pump-1")
        client = client_for(first)
        client.create_retraining_scheduler(ModelName="pump-1", **REQUEST)
        client.stop_retraining_scheduler(ModelName="pump-1")

    clock.advance(59.9)
    with Emulator(settings, state_file=state_file, clock=clock) as second:
        client = client_for(second)
        just_before = client.describe_retraining_scheduler(ModelName="pump-1")["Status"]
        clock.advance(0.2)
        after = client.describe_retraining_scheduler(ModelName="pump-1")["Status"]

    assert just_before == "STOPPING"
    assert after == "STOPPED"


def test_second_emulator_same_client_token_replays_original(state_file, client_for):
    with Emulator(state_file=state_file) as first:
        first.create_model("pump-1")
        original = client_for(first).create_retraining_scheduler(
            ModelName="pump-1", ClientToken="request-1", **REQUEST
        )

    with Emulator(state_file=state_file) as second:
        client = client_for(second)
        repeated = client.create_retraining_scheduler(
            ModelName="pump-1", ClientToken="request-1", **REQUEST
        )
        with pytest.raises(client.exceptions.ConflictException):
            client.create_retraining_scheduler(
                ModelName="pump-1", ClientToken="request-1", PromoteMode="MANUAL", **REQUEST
            )

    assert repeated["Status"] == original["Status"] == "PENDING"
    assert len(second.snapshot()["schedulers"]) == 1


def test_state_file_missing_created_by_first_mutating_call(state_file, client_for):
    with Emulator(state_file=state_file) as emulator:
        client_for(emulator).list_retraining_schedulers()
        exists_after_read = state_file.exists()
        emulator.create_model("pump-1")
        exists_after_create = state_file.exists()

    assert not exists_after_read
    assert exists_after_create


def test_state_file_rewritten_after_each_mutating_call(state_file, client_for):
    with Emulator(state_file=state_file) as emulator:
        emulator.create_model("pump-1")
        client = client_for(emulator)
        client.create_retraining_scheduler(ModelName="pump-1", **REQUEST)
        after_create = json.loads(state_file.read_text())
        client.stop_retraining_scheduler(ModelName="pump-1")
        client.delete_retraining_scheduler(ModelName="pump-1")
        after_delete = json.loads(state_file.read_text())

    assert [item["model_name"] for item in after_create["schedulers"]] == ["pump-1"]
    assert after_delete["schedulers"] == []
    assert [item["model_name"] for item in after_delete["models"]] == ["pump-1"]


def test_second_emulator_on_held_state_file_fails_to_start_naming_it(state_file):
    with Emulator(state_file=state_file) as first:
        second = Emulator(state_file=state_file)
        with pytest.raises(StateFileInUseError, match=re.escape(f"State file {state_file} is")):
            second.start()
        first.create_model("pump-1")
        second_running = second.running

    with Emulator(state_file=state_file) as third:
        models = [model["ModelName"] for model in third.snapshot()["models"]]

    assert not second_running
    assert models == ["pump-1"]


def test_emulator_made_before_another_ran_keeps_that_ones_changes(state_file):
    made_early = Emulator(state_file=state_file)
    with Emulator(state_file=state_file) as first:
        first.create_model("pump-1")

    with made_early:
        made_early.create_model("pump-2")

    saved = json.loads(state_file.read_text())
    assert sorted(model["model_name"] for model in saved["models"]) == ["pump-1", "pump-2"]


def test_emulator_not_started_refuses_to_change_its_state_file(state_file):
    with Emulator(state_file=state_file) as first:
        first.create_model("pump-1")
    before = state_file.read_text()
    stopped = Emulator(state_file=state_file)

    with pytest.raises(RuntimeError, match="does not hold its state file"):
        stopped.create_model("pump-2")

    assert state_file.read_text() == before
    assert [model["ModelName"] for model in stopped.snapshot()["models"]] == ["pump-1"]


@pytest.mark.parametrize("content", ["not json", "[]", '{"format": "other"}', '{"format": '])
def test_state_file_not_emulator_state_error(state_file, content):
    state_file.parent.mkdir(parents=True)
    state_file.write_text(content)

    with pytest.raises(StateFileError, match="cannot be loaded"):
        Emulator(state_file=state_file)


def test_state_file_other_version_error(state_file):
    state_file.parent.mkdir(parents=True)
    document = {"format": "lookout-equipment-emulator-state", "version": 99}
    state_file.write_text(json.dumps(document))

    with pytest.raises(StateFileError, match="version 99"):
        Emulator(state_file=state_file)


def test_snapshot_json_able_models_and_schedulers(lookout_client, emulator, create_scheduler):
    emulator.create_model("pump-1")
    create_scheduler("pump-1")

    snapshot = json.loads(json.dumps(emulator.snapshot()))

    assert [model["ModelName"] for model in snapshot["models"]] == ["pump-1"]
    (scheduler,) = snapshot["schedulers"]
    assert scheduler["Status"] == "RUNNING"
    assert scheduler["PromoteMode"] == "MANAGED"
    assert scheduler["RetrainingStartDate"] is None
    assert scheduler["CreatedAt"].endswith("Z")
