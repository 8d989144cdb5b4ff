"""Delete: stop, wait for STOPPED, delete; gone is deleted; ids owning nothing make no call."""

from __future__ import annotations

import pytest

from lookout_retraining_handler.deadline import Deadline
from lookout_retraining_handler.lifecycle import FAILED, SUCCESS, run_lifecycle


@pytest.mark.parametrize(
    "physical_id",
    [
        "not-created|request-1",
        "",
        "stack_Scheduler_ABCDEFGH|garbage",
        "pump-1|previous=pump-0",
        " pump-1",
    ],
)
def test_delete_id_owning_nothing_succeeds_without_any_call(
    service, run, make_request, properties, attempted_operations, physical_id
):
    outcome = run(make_request("Delete", properties, physical_id=physical_id))

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == physical_id
    assert attempted_operations == []


def test_delete_running_scheduler_stops_waits_and_deletes(service, run, make_request, properties):
    service.describe("pump-1", "RUNNING")
    service.stop("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPED")
    service.delete("pump-1")

    outcome = run(make_request("Delete", properties, physical_id="pump-1"))

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"


def test_delete_stopped_scheduler_deletes_without_stopping(
    service, run, make_request, properties, attempted_operations
):
    service.describe("pump-1", "STOPPED")
    service.delete("pump-1")

    outcome = run(make_request("Delete", properties, physical_id="pump-1"))

    assert outcome.status == SUCCESS
    assert attempted_operations == ["DescribeRetrainingScheduler", "DeleteRetrainingScheduler"]


def test_delete_scheduler_gone_succeeds_with_one_read(
    service, run, make_request, properties, attempted_operations
):
    service.not_found("describe_retraining_scheduler", "pump-1")

    outcome = run(make_request("Delete", properties, physical_id="pump-1"))

    assert outcome.status == SUCCESS
    assert attempted_operations == ["DescribeRetrainingScheduler"]


def test_delete_uses_physical_id_not_properties(service, run, make_request, properties):
    # The properties name another model: only the physical id says what this resource owns.
    service.describe("pump-1", "STOPPED")
    service.delete("pump-1")

    outcome = run(
        make_request("Delete", {**properties, "ModelName": "someone-elses"}, physical_id="pump-1")
    )

    assert outcome.status == SUCCESS


def test_delete_replaced_id_deletes_primary_model_only(service, run, make_request, properties):
    service.describe("pump-2", "STOPPED")
    service.delete("pump-2")

    outcome = run(
        make_request("Delete", properties, physical_id="pump-2|previous=pump-1@1767323045678")
    )

    assert outcome.status == SUCCESS


def test_delete_stop_conflict_reads_again_and_deletes(service, run, make_request, properties):
    service.describe("pump-1", "RUNNING")
    service.conflict("stop_retraining_scheduler", {"ModelName": "pump-1"})
    service.describe("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPED")
    service.delete("pump-1")

    outcome = run(make_request("Delete", properties, physical_id="pump-1"))

    assert outcome.status == SUCCESS


def test_delete_conflict_waits_again_then_deletes(service, run, make_request, properties):
    service.describe("pump-1", "STOPPED")
    service.conflict("delete_retraining_scheduler", {"ModelName": "pump-1"})
    service.describe("pump-1", "STOPPED")
    service.delete("pump-1")

    outcome = run(make_request("Delete", properties, physical_id="pump-1"))

    assert outcome.status == SUCCESS


def test_delete_vanishes_while_deleting_counts_as_deleted(service, run, make_request, properties):
    service.describe("pump-1", "STOPPED")
    service.not_found("delete_retraining_scheduler", "pump-1")

    outcome = run(make_request("Delete", properties, physical_id="pump-1"))

    assert outcome.status == SUCCESS


def test_delete_access_denied_fails_naming_operation_and_code(
    service, run, make_request, properties
):
    service.describe("pump-1", "STOPPED")
    service.denied(
        "delete_retraining_scheduler",
        message="User is not authorized to perform lookoutequipment:DeleteRetrainingScheduler",
    )

    outcome = run(make_request("Delete", properties, physical_id="pump-1"))

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.reason.startswith("DeleteRetrainingScheduler on model 'pump-1' failed")
    assert "AccessDeniedException" in outcome.reason


def test_delete_stuck_stopping_fails_when_time_runs_out(
    lookout_stub_client, service, make_request, properties
):
    service.describe("pump-1", "STOPPING")

    outcome = run_lifecycle(
        make_request("Delete", properties, physical_id="pump-1"),
        lookout_stub_client,
        deadline=Deadline(0.05),
    )

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert "Ran out of time" in outcome.reason
    assert "to reach STOPPED" in outcome.reason


def test_lifecycle_unknown_request_type_refused_before_any_call(
    lookout_stub_client, service, make_request, properties, attempted_operations
):
    with pytest.raises(ValueError, match="RequestType 'Replace'"):
        run_lifecycle(make_request("Replace", properties), lookout_stub_client)

    assert attempted_operations == []
