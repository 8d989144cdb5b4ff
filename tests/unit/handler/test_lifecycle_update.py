"""Update: change only what differs, stop to update when refused, replace on a new model."""

from __future__ import annotations

import datetime

import pytest

from lookout_retraining_handler.lifecycle import FAILED, SUCCESS, derive_client_token
from lookout_retraining_handler.physical_id import epoch_millis


def token_of(request):
    return derive_client_token(request.stack_id, request.logical_resource_id, request.request_id)


def test_update_nothing_differs_makes_no_write(
    service, run, make_request, properties, attempted_operations
):
    service.describe("pump-1", "RUNNING")

    outcome = run(make_request("Update", properties, physical_id="pump-1", old=properties))

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.data["Status"] == "RUNNING"
    assert attempted_operations == ["DescribeRetrainingScheduler"]


def test_update_one_setting_differs_sends_only_that_setting(service, run, make_request, properties):
    service.describe("pump-1", "RUNNING", frequency="P30D", lookback="P180D")
    service.update("pump-1", RetrainingFrequency="P2M")

    outcome = run(
        make_request("Update", {**properties, "RetrainingFrequency": "P2M"}, physical_id="pump-1")
    )

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"


def test_update_frequency_same_days_other_spelling_is_a_change(
    service, run, make_request, properties
):
    # The service stores the string: P1M and P30D are both 30 days but differ on the wire.
    service.describe("pump-1", "RUNNING", frequency="P30D")
    service.update("pump-1", RetrainingFrequency="P1M")

    outcome = run(
        make_request("Update", {**properties, "RetrainingFrequency": "P1M"}, physical_id="pump-1")
    )

    assert outcome.status == SUCCESS


def test_update_promote_mode_undeclared_is_left_alone(
    service, run, make_request, properties, attempted_operations
):
    service.describe("pump-1", "RUNNING", promote_mode="MANUAL")

    outcome = run(make_request("Update", properties, physical_id="pump-1"))

    assert outcome.status == SUCCESS
    assert attempted_operations == ["DescribeRetrainingScheduler"]


def test_update_promote_mode_declared_and_different_is_sent(service, run, make_request, properties):
    service.describe("pump-1", "RUNNING", promote_mode="MANAGED")
    service.update("pump-1", PromoteMode="MANUAL")

    outcome = run(
        make_request("Update", {**properties, "PromoteMode": "MANUAL"}, physical_id="pump-1")
    )

    assert outcome.status == SUCCESS


def test_update_start_date_same_utc_day_makes_no_write(
    service, run, make_request, properties, attempted_operations
):
    service.describe(
        "pump-1",
        "RUNNING",
        start_date=datetime.datetime(2026, 5, 1, 0, 0, tzinfo=datetime.UTC),
    )
    # 20:00 at UTC-4 on 30 April is 00:00 UTC on 1 May.
    declared = {**properties, "RetrainingStartDate": "2026-04-30T20:00:00-04:00"}

    outcome = run(make_request("Update", declared, physical_id="pump-1"))

    assert outcome.status == SUCCESS
    assert attempted_operations == ["DescribeRetrainingScheduler"]


def test_update_start_date_other_day_sends_utc_midnight(service, run, make_request, properties):
    service.describe(
        "pump-1", "RUNNING", start_date=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC)
    )
    service.update("pump-1", RetrainingStartDate=datetime.datetime(2026, 5, 2, tzinfo=datetime.UTC))

    outcome = run(
        make_request(
            "Update", {**properties, "RetrainingStartDate": "2026-05-02"}, physical_id="pump-1"
        )
    )

    assert outcome.status == SUCCESS


def test_update_refused_while_running_stops_updates_and_restarts(
    service, run, make_request, properties
):
    service.describe("pump-1", "RUNNING", lookback="P180D")
    service.conflict("update_retraining_scheduler")
    service.stop("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPED")
    service.update("pump-1", LookbackWindow="P360D")
    service.start("pump-1", "PENDING")

    outcome = run(
        make_request("Update", {**properties, "LookbackWindow": "P360D"}, physical_id="pump-1")
    )

    assert outcome.status == SUCCESS
    assert outcome.data["Status"] == "PENDING"


def test_update_declared_stopped_stops_before_updating_without_refused_call(
    service, run, make_request, properties, attempted_operations
):
    # Stopping first spares the Update that a service refusing updates while running refuses.
    service.describe("pump-1", "RUNNING", lookback="P180D")
    service.stop("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPED")
    service.update("pump-1", LookbackWindow="P360D")

    outcome = run(
        make_request(
            "Update",
            {**properties, "LookbackWindow": "P360D", "DesiredState": "STOPPED"},
            physical_id="pump-1",
        )
    )

    assert outcome.status == SUCCESS
    assert outcome.data["Status"] == "STOPPED"
    assert attempted_operations == [
        "DescribeRetrainingScheduler",
        "StopRetrainingScheduler",
        "DescribeRetrainingScheduler",
        "UpdateRetrainingScheduler",
    ]


def test_update_fails_after_stopping_restarts_then_fails(service, run, make_request, properties):
    service.describe("pump-1", "RUNNING", lookback="P180D")
    service.conflict("update_retraining_scheduler")
    service.stop("pump-1", "STOPPED")
    service.error(
        "update_retraining_scheduler", "ValidationException", status=400, message="bad window"
    )
    service.start("pump-1", "PENDING")

    outcome = run(
        make_request("Update", {**properties, "LookbackWindow": "P360D"}, physical_id="pump-1")
    )

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert "UpdateRetrainingScheduler on model 'pump-1' failed" in outcome.reason
    assert "ValidationException: bad window" in outcome.reason


def test_update_fails_after_stopping_and_restart_fails_says_left_stopped(
    service, run, make_request, properties
):
    service.describe("pump-1", "RUNNING", lookback="P180D")
    service.conflict("update_retraining_scheduler")
    service.stop("pump-1", "STOPPED")
    service.error(
        "update_retraining_scheduler", "ValidationException", status=400, message="bad window"
    )
    service.error("start_retraining_scheduler", "InternalServerException", status=500)

    outcome = run(
        make_request("Update", {**properties, "LookbackWindow": "P360D"}, physical_id="pump-1")
    )

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.reason.startswith("UpdateRetrainingScheduler on model 'pump-1' failed")
    assert "ValidationException: bad window" in outcome.reason
    assert outcome.reason.endswith(
        "; starting the scheduler again failed, so it was left STOPPED: start it"
    )


def test_update_refused_while_stopped_fails_without_stopping(
    service, run, make_request, properties, attempted_operations
):
    service.describe("pump-1", "STOPPED", lookback="P180D")
    service.conflict("update_retraining_scheduler")

    outcome = run(
        make_request(
            "Update",
            {**properties, "LookbackWindow": "P360D", "DesiredState": "STOPPED"},
            physical_id="pump-1",
        )
    )

    assert outcome.status == FAILED
    assert "ConflictException" in outcome.reason
    assert attempted_operations == ["DescribeRetrainingScheduler", "UpdateRetrainingScheduler"]


def test_update_declared_stopped_pauses_running_scheduler(service, run, make_request, properties):
    service.describe("pump-1", "RUNNING")
    service.stop("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPED")

    outcome = run(
        make_request("Update", {**properties, "DesiredState": "STOPPED"}, physical_id="pump-1")
    )

    assert outcome.status == SUCCESS
    assert outcome.data["Status"] == "STOPPED"


def test_update_declared_running_resumes_stopped_scheduler(service, run, make_request, properties):
    service.describe("pump-1", "STOPPED")
    service.start("pump-1", "PENDING")

    outcome = run(
        make_request("Update", {**properties, "DesiredState": "RUNNING"}, physical_id="pump-1")
    )

    assert outcome.status == SUCCESS
    assert outcome.data["Status"] == "PENDING"


def test_update_declared_running_while_stopping_waits_then_starts(
    service, run, make_request, properties
):
    service.describe("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPED")
    service.start("pump-1", "PENDING")

    outcome = run(make_request("Update", properties, physical_id="pump-1"))

    assert outcome.status == SUCCESS


def test_update_scheduler_vanished_creates_it_with_this_request_token(
    service, run, make_request, properties
):
    request = make_request(
        "Update", properties, physical_id="pump-1", request_id="update-request-7"
    )
    service.not_found("describe_retraining_scheduler", "pump-1")
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"


def test_update_scheduler_vanished_then_replayed_onto_another_is_converged(
    service, run, make_request, properties
):
    # The physical id owns the model's scheduler, whatever it is: one that took the vanished
    # one's place gets the declared settings, as an in-place update would give it.
    request = make_request("Update", properties, physical_id="pump-1")
    service.not_found("describe_retraining_scheduler", "pump-1")
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "RUNNING", frequency="P90D")
    service.update("pump-1", RetrainingFrequency="P30D")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.data["Status"] == "RUNNING"


def test_update_scheduler_and_model_vanished_fails_naming_model(
    service, run, make_request, properties
):
    request = make_request("Update", properties, physical_id="pump-1")
    service.not_found("describe_retraining_scheduler", "pump-1")
    service.error("create_retraining_scheduler", "ResourceNotFoundException", status=404)

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert "Model 'pump-1' was not found" in outcome.reason


def test_update_new_model_creates_there_and_answers_previous_suffix(
    service, run, make_request, properties, created_at
):
    request = make_request(
        "Update", {**properties, "ModelName": "pump-2"}, physical_id="pump-1", old=properties
    )
    service.not_found("describe_retraining_scheduler", "pump-2")
    service.describe("pump-1", "RUNNING")
    service.create("pump-2", token_of(request), status="PENDING")
    service.describe("pump-2", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == f"pump-2|previous=pump-1@{epoch_millis(created_at)}"
    assert outcome.data["ModelName"] == "pump-2"


def test_update_new_model_old_scheduler_gone_answers_without_suffix(
    service, run, make_request, properties
):
    request = make_request("Update", {**properties, "ModelName": "pump-2"}, physical_id="pump-1")
    service.not_found("describe_retraining_scheduler", "pump-2")
    service.not_found("describe_retraining_scheduler", "pump-1")
    service.create("pump-2", token_of(request), status="PENDING")
    service.describe("pump-2", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-2"


def test_update_rollback_to_previous_model_reuses_own_scheduler(
    service, run, make_request, properties, created_at, attempted_operations
):
    current_id = f"pump-2|previous=pump-1@{epoch_millis(created_at)}"
    service.describe("pump-1", "RUNNING", created_at=created_at)

    outcome = run(make_request("Update", properties, physical_id=current_id))

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"
    assert attempted_operations == ["DescribeRetrainingScheduler"]


def test_update_previous_model_recreated_by_someone_else_is_foreign(
    service, run, make_request, properties, created_at, attempted_operations
):
    current_id = f"pump-2|previous=pump-1@{epoch_millis(created_at)}"
    service.describe("pump-1", "RUNNING", created_at=created_at + datetime.timedelta(hours=1))
    # The request's own ClientToken is refused: no earlier delivery of it made this scheduler.
    service.conflict("create_retraining_scheduler")

    outcome = run(make_request("Update", properties, physical_id=current_id))

    assert outcome.status == FAILED
    assert "left untouched" in outcome.reason
    # The refused Create changed nothing; no other call that changes anything was tried.
    assert attempted_operations == ["DescribeRetrainingScheduler", "CreateRetrainingScheduler"]


def test_update_new_model_foreign_scheduler_without_opt_in_touches_nothing(
    service, run, make_request, properties, attempted_operations
):
    service.describe("pump-2", "RUNNING")
    service.conflict("create_retraining_scheduler")

    outcome = run(
        make_request("Update", {**properties, "ModelName": "pump-2"}, physical_id="pump-1")
    )

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert "AdoptExisting" in outcome.reason
    assert attempted_operations == ["DescribeRetrainingScheduler", "CreateRetrainingScheduler"]


def test_update_new_model_redelivered_finds_scheduler_its_first_delivery_created(
    service, run, make_request, properties, created_at
):
    # Lambda retried the invocation after the first delivery created pump-2's scheduler: the
    # request's ClientToken is replayed, so the scheduler is this resource's, not a stranger's.
    request = make_request("Update", {**properties, "ModelName": "pump-2"}, physical_id="pump-1")
    service.describe("pump-2", "RUNNING")
    service.create("pump-2", token_of(request))
    service.describe("pump-1", "RUNNING", created_at=created_at)
    service.describe("pump-2", "RUNNING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == f"pump-2|previous=pump-1@{epoch_millis(created_at)}"


def test_update_new_model_replayed_token_other_settings_fails_touching_nothing(
    service, run, make_request, properties, attempted_operations
):
    # Token t2 created a scheduler on pump-2 once; the one there now was made by hand since.
    old = {**properties, "ClientToken": "t1"}
    new = {**properties, "ClientToken": "t2", "ModelName": "pump-2"}
    service.describe("pump-2", "RUNNING", frequency="P90D")
    service.create("pump-2", "t2")
    service.describe("pump-1", "RUNNING")
    service.describe("pump-2", "RUNNING", frequency="P90D")

    outcome = run(make_request("Update", new, physical_id="pump-1", old=old))

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.reason.startswith("ClientToken 't2' replayed an earlier")
    assert "left it untouched" in outcome.reason
    assert attempted_operations == [
        "DescribeRetrainingScheduler",
        "CreateRetrainingScheduler",
        "DescribeRetrainingScheduler",
        "DescribeRetrainingScheduler",
    ]


def test_update_new_model_foreign_scheduler_with_opt_in_adopts_it(
    service, run, make_request, properties, created_at
):
    service.describe("pump-2", "STOPPED", frequency="P60D")
    service.conflict("create_retraining_scheduler")
    service.describe("pump-1", "RUNNING")
    service.update("pump-2", RetrainingFrequency="P30D")
    service.start("pump-2", "PENDING")

    outcome = run(
        make_request(
            "Update",
            {**properties, "ModelName": "pump-2", "AdoptExisting": "true"},
            physical_id="pump-1",
        )
    )

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == f"pump-2|previous=pump-1@{epoch_millis(created_at)}"


def test_update_new_model_failure_after_create_removes_new_scheduler(
    service, run, make_request, properties
):
    request = make_request(
        "Update",
        {**properties, "ModelName": "pump-2"},
        physical_id="pump-1",
    )
    service.not_found("describe_retraining_scheduler", "pump-2")
    service.describe("pump-1", "RUNNING")
    service.create("pump-2", token_of(request), status="STOPPED")
    service.describe("pump-2", "STOPPED")
    service.error("start_retraining_scheduler", "InternalServerException", status=500)
    service.describe("pump-2", "STOPPED")
    service.delete("pump-2")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert "StartRetrainingScheduler on model 'pump-2' failed" in outcome.reason
    assert "created on model 'pump-2' was removed" in outcome.reason


def test_update_of_id_owning_nothing_failing_after_create_removes_what_it_created(
    service, run, make_request, properties
):
    # CloudFormation ignores a failed Update's physical id: what the Update created would be
    # nobody's, so it is removed before answering.
    request = make_request(
        "Update", {**properties, "DesiredState": "STOPPED"}, physical_id="not-created|request-0"
    )
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "PENDING")
    service.error("stop_retraining_scheduler", "InternalServerException", status=500)
    service.describe("pump-1", "PENDING")
    service.stop("pump-1", "STOPPED")
    service.delete("pump-1")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-0"
    assert "StopRetrainingScheduler on model 'pump-1' failed" in outcome.reason
    assert "created on model 'pump-1' was removed" in outcome.reason


def test_update_of_id_owning_nothing_replayed_token_other_settings_removes_nothing(
    service, run, make_request, properties, attempted_operations
):
    # What a failed Update created is removed before answering; a replayed answer for a
    # scheduler this request did not create must not count as created.
    request = make_request(
        "Update", {**properties, "ClientToken": "used-before"}, physical_id="not-created|r-0"
    )
    service.create("pump-1", "used-before", status="PENDING")
    service.describe("pump-1", "RUNNING", lookback="P720D")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|r-0"
    assert "differs in LookbackWindow" in outcome.reason
    assert attempted_operations == ["CreateRetrainingScheduler", "DescribeRetrainingScheduler"]


def test_update_new_model_missing_fails_and_creates_nothing(
    service, run, make_request, properties, attempted_operations
):
    request = make_request("Update", {**properties, "ModelName": "pump-2"}, physical_id="pump-1")
    service.not_found("describe_retraining_scheduler", "pump-2")
    service.describe("pump-1", "RUNNING")
    service.error("create_retraining_scheduler", "ResourceNotFoundException", status=404)

    outcome = run(request)

    assert outcome.status == FAILED
    assert "Model 'pump-2' was not found" in outcome.reason
    assert "DeleteRetrainingScheduler" not in attempted_operations


def test_update_new_model_same_user_token_fails_before_any_call(
    service, run, make_request, properties, attempted_operations
):
    old = {**properties, "ClientToken": "token-a"}
    new = {**properties, "ClientToken": "token-a", "ModelName": "pump-2"}

    outcome = run(make_request("Update", new, physical_id="pump-1", old=old))

    assert outcome.status == FAILED
    assert "ClientToken 'token-a' did not change" in outcome.reason
    assert "Change ClientToken together with ModelName" in outcome.reason
    assert attempted_operations == []


def test_update_new_model_changed_user_token_is_used(service, run, make_request, properties):
    old = {**properties, "ClientToken": "token-a"}
    new = {**properties, "ClientToken": "token-b", "ModelName": "pump-2"}
    service.not_found("describe_retraining_scheduler", "pump-2")
    service.describe("pump-1", "RUNNING")
    service.create("pump-2", "token-b", status="PENDING")
    service.describe("pump-2", "PENDING")

    outcome = run(make_request("Update", new, physical_id="pump-1", old=old))

    assert outcome.status == SUCCESS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PromoteMode", "AUTOMATIC"),
        ("DesiredState", "PAUSED"),
        ("AdoptExisting", "yes"),
    ],
)
def test_update_invalid_property_fails_keeping_physical_id_without_calls(
    service, run, make_request, properties, attempted_operations, name, value
):
    outcome = run(make_request("Update", {**properties, name: value}, physical_id="pump-1"))

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.reason.startswith(name)
    assert attempted_operations == []


def test_update_id_owning_nothing_creates_like_a_create(service, run, make_request, properties):
    request = make_request("Update", properties, physical_id="not-created|earlier-request")
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"
