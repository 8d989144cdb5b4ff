"""The state directory: stack state files, locks and published code."""

from __future__ import annotations

import zipfile

import pytest

from lookout_retraining.local.deployer.errors import StackStateError
from lookout_retraining.local.deployer.state import ResourceRecord, StackState, StateStore


def _state():
    return StackState(
        stack_name="Unit",
        stack_id="arn:aws:cloudformation:us-east-1:123456789012:stack/Unit/1",
        status="CREATE_COMPLETE",
        region="us-east-1",
        account_id="123456789012",
        parameters={"Model": "pump"},
        outputs={"Arn": "arn:x"},
        resources={
            "Thing": ResourceRecord(
                logical_id="Thing",
                resource_type="Custom::Thing",
                physical_id="thing-1",
                status="CREATE_COMPLETE",
                properties={"ServiceToken": "arn:fn", "Size": "1"},
                attributes={"Status": "RUNNING"},
                depends_on=["Function"],
                deletion_policy="Retain",
            )
        },
    )


def test_state_saved_then_loaded_is_equal(tmp_path):
    store = StateStore(tmp_path)

    store.save(_state())

    assert store.load("Unit") == _state()
    assert store.stack_names() == ["Unit"]
    assert not [
        path for path in (tmp_path / "stacks").iterdir() if path.name.startswith(".Unit.json")
    ]


def test_state_removed_stack_loads_as_none(tmp_path):
    store = StateStore(tmp_path)
    store.save(_state())

    store.remove("Unit")

    assert store.load("Unit") is None


def test_state_unreadable_file_raises(tmp_path):
    store = StateStore(tmp_path)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Unit.json").write_text("{not json")

    with pytest.raises(StackStateError, match="not readable"):
        store.load("Unit")


def test_state_lock_held_refuses_a_second_holder(tmp_path):
    store = StateStore(tmp_path)

    with (
        store.lock("Unit"),
        pytest.raises(StackStateError, match="another process"),
        StateStore(tmp_path).lock("Unit"),
    ):
        pass
    with store.lock("Unit"):
        pass


def test_state_publish_code_copies_folder_once(tmp_path):
    source = tmp_path / "asset"
    source.mkdir()
    (source / "index.py").write_text("VERSION = 1\n")
    store = StateStore(tmp_path / "state")

    relative = store.publish_code("abc.zip", source)
    (source / "index.py").write_text("VERSION = 2\n")
    again = store.publish_code("abc.zip", source)

    assert relative == again == "assets/abc.zip"
    assert (store.code_folder(relative) / "index.py").read_text() == "VERSION = 1\n"


def test_state_publish_code_extracts_zip_file(tmp_path):
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("index.py", "X = 1\n")
    store = StateStore(tmp_path / "state")

    relative = store.publish_code("code.zip", archive)

    assert (store.code_folder(relative) / "index.py").read_text() == "X = 1\n"


def test_state_publish_code_refuses_key_outside_assets(tmp_path):
    store = StateStore(tmp_path / "state")

    with pytest.raises(StackStateError, match="not a plain file name"):
        store.publish_code("../escape", tmp_path)
