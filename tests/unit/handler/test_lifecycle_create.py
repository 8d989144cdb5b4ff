"""Create: one CreateRetrainingScheduler, then the declared running state; conflicts, adoption."""

from __future__ import annotations

import datetime

import pytest

from lookout_retraining_handler.api import ACCESS_DENIED_RETRIES
from lookout_retraining_handler.lifecycle import (
    FAILED,
    SUCCESS,
    derive_client_token,
)


def token_of(request):
    return derive_client_token(request.stack_id, request.logical_resource_id, request.request_id)


def test_create_scheduler_left_pending_creates_once_and_answers_model_name(
    service, run, make_request, properties
):
    request = make_request("Create", properties)
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.data == {
        "ModelArn": "arn:aws:lookoutequipment:us-east-1:123456789012:model/pump-1/1234abcd",
        "ModelName": "pump-1",
        "Status": "PENDING",
    }


def test_create_service_leaves_stopped_starts_to_declared_running(
    service, run, make_request, properties
):
    request = make_request("Create", properties)
    service.create("pump-1", token_of(request), status="STOPPED")
    service.describe("pump-1", "STOPPED")
    service.start("pump-1", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.data["Status"] == "PENDING"


def test_create_declared_stopped_stops_and_waits_for_stopped(
    service, run, make_request, properties
):
    request = make_request("Create", {**properties, "DesiredState": "STOPPED"})
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "PENDING")
    service.stop("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPING")
    service.describe("pump-1", "STOPPED")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.data["Status"] == "STOPPED"


def test_create_replayed_answer_status_is_read_again_before_converging(
    service, run, make_request, properties
):
    # A redelivered Create replays the first answer (PENDING), but the first delivery had
    # already stopped the scheduler as declared: nothing more to do.
    request = make_request("Create", {**properties, "DesiredState": "STOPPED"})
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "STOPPED")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.data["Status"] == "STOPPED"


def test_create_start_conflict_reads_status_again_and_succeeds(
    service, run, make_request, properties
):
    request = make_request("Create", properties)
    service.create("pump-1", token_of(request), status="STOPPED")
    service.describe("pump-1", "STOPPED")
    service.conflict("start_retraining_scheduler", {"ModelName": "pump-1"})
    service.describe("pump-1", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.data["Status"] == "PENDING"


def test_create_user_client_token_is_sent_as_is(service, run, make_request, properties):
    request = make_request("Create", {**properties, "ClientToken": "my-own-token"})
    service.create("pump-1", "my-own-token")
    service.describe("pump-1", "PENDING")

    assert run(request).status == SUCCESS


def test_create_optional_settings_sent_only_when_declared(service, run, make_request, properties):
    declared = {
        **properties,
        "PromoteMode": "MANUAL",
        "RetrainingStartDate": "2026-03-01T23:30:00-02:00",
    }
    request = make_request("Create", declared)
    service.create(
        "pump-1",
        token_of(request),
        PromoteMode="MANUAL",
        # 23:30 at UTC-2 is 01:30 UTC the next day: the UTC day is what the service keeps.
        RetrainingStartDate=datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC),
    )
    service.describe(
        "pump-1",
        "PENDING",
        promote_mode="MANUAL",
        start_date=datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC),
    )

    assert run(request).status == SUCCESS


def test_create_missing_model_fails_not_created_naming_model(
    service, run, make_request, properties
):
    request = make_request("Create", properties)
    service.error(
        "create_retraining_scheduler", "ResourceNotFoundException", status=404, message="no model"
    )

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert "Model 'pump-1' was not found" in outcome.reason
    assert "ResourceNotFoundException" in outcome.reason


def test_create_foreign_scheduler_fails_not_created_and_touches_nothing(
    service, run, make_request, properties, attempted_operations
):
    request = make_request("Create", properties)
    service.conflict("create_retraining_scheduler")
    service.describe("pump-1", "RUNNING", frequency="P90D")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert "AdoptExisting" in outcome.reason
    assert "left untouched" in outcome.reason
    assert attempted_operations == ["CreateRetrainingScheduler", "DescribeRetrainingScheduler"]


def test_create_reused_user_token_without_scheduler_fails_saying_token_reused(
    service, run, make_request, properties
):
    request = make_request("Create", {**properties, "ClientToken": "used-before"})
    service.conflict("create_retraining_scheduler")
    service.not_found("describe_retraining_scheduler", "pump-1")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert "ClientToken 'used-before'" in outcome.reason
    assert "already used with other parameters" in outcome.reason


def test_create_replayed_token_of_deleted_scheduler_fails_not_created(
    service, run, make_request, properties
):
    request = make_request("Create", {**properties, "ClientToken": "used-before"})
    service.create("pump-1", "used-before", status="RUNNING")
    service.not_found("describe_retraining_scheduler", "pump-1")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert "was already used" in outcome.reason


def test_create_replayed_token_other_settings_fails_not_created_touching_nothing(
    service, run, make_request, properties, attempted_operations
):
    # The token's first Create made a scheduler since deleted; the one on the model now was
    # made by hand. The service replays the first answer all the same.
    request = make_request("Create", {**properties, "ClientToken": "used-before"})
    service.create("pump-1", "used-before", status="PENDING")
    service.describe("pump-1", "RUNNING", frequency="P90D", lookback="P360D")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert outcome.reason.startswith("ClientToken 'used-before' replayed an earlier request")
    assert "differs in LookbackWindow, RetrainingFrequency" in outcome.reason
    assert "did not create it and left it untouched" in outcome.reason
    assert outcome.reason.endswith("Set a new ClientToken, or AdoptExisting to true")
    assert not outcome.points_to_logs
    assert attempted_operations == ["CreateRetrainingScheduler", "DescribeRetrainingScheduler"]


def test_create_replayed_token_other_settings_with_opt_in_adopts_it(
    service, run, make_request, properties
):
    request = make_request(
        "Create", {**properties, "ClientToken": "used-before", "AdoptExisting": "true"}
    )
    service.create("pump-1", "used-before", status="PENDING")
    service.describe("pump-1", "STOPPED", frequency="P90D")
    service.update("pump-1", RetrainingFrequency="P30D")
    service.start("pump-1", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.data["Status"] == "PENDING"


def test_create_replayed_token_other_settings_failed_adoption_restores_not_created(
    service, run, make_request, properties
):
    request = make_request(
        "Create", {**properties, "ClientToken": "used-before", "AdoptExisting": "true"}
    )
    service.create("pump-1", "used-before", status="PENDING")
    service.describe("pump-1", "RUNNING", frequency="P90D")
    service.error("update_retraining_scheduler", "ValidationException", status=400)
    service.describe("pump-1", "RUNNING", frequency="P90D")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert "previous settings and running state were restored" in outcome.reason


def test_create_user_token_read_back_failing_answers_not_created_saying_it_may_exist(
    service, run, make_request, properties
):
    # With a token of the user's, a replay for another scheduler cannot be ruled out until the
    # scheduler is read: the answer owns nothing, and says what may exist.
    request = make_request("Create", {**properties, "ClientToken": "mine"})
    service.create("pump-1", "mine", status="PENDING")
    service.error("describe_retraining_scheduler", "InternalServerException", status=500)

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert outcome.reason.startswith("DescribeRetrainingScheduler on model 'pump-1' failed")
    assert outcome.reason.endswith(
        "it may have created the scheduler: adopt it (AdoptExisting) or delete it"
    )


def test_create_derived_token_read_back_failing_answers_owned_id(
    service, run, make_request, properties
):
    # A derived token is this request's alone: what its Create answered for is the resource's,
    # so the rollback Delete must remove it.
    request = make_request("Create", properties)
    service.create("pump-1", token_of(request), status="PENDING")
    service.error("describe_retraining_scheduler", "InternalServerException", status=500)

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.reason.startswith("DescribeRetrainingScheduler on model 'pump-1' failed")


def test_create_derived_token_other_settings_owns_it_and_writes_no_setting(
    service, run, make_request, properties, attempted_operations
):
    # A late delivery of this very request, after an Update changed the scheduler (or the
    # service's own spelling of a value): the settings are left alone, the scheduler is owned.
    request = make_request("Create", properties)
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "RUNNING", frequency="P90D")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"
    assert attempted_operations == ["CreateRetrainingScheduler", "DescribeRetrainingScheduler"]


def test_create_adopt_existing_updates_what_differs_and_owns_it(
    service, run, make_request, properties
):
    request = make_request(
        "Create", {**properties, "AdoptExisting": "true", "LookbackWindow": "P360D"}
    )
    service.conflict("create_retraining_scheduler")
    service.describe("pump-1", "RUNNING", lookback="P180D")
    service.update("pump-1", LookbackWindow="P360D")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.data["Status"] == "RUNNING"


def test_create_adopt_existing_matching_makes_no_write(
    service, run, make_request, properties, attempted_operations
):
    request = make_request("Create", {**properties, "AdoptExisting": "true"})
    service.conflict("create_retraining_scheduler")
    service.describe("pump-1", "RUNNING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert attempted_operations == ["CreateRetrainingScheduler", "DescribeRetrainingScheduler"]


def test_create_adoption_fails_midway_answers_not_created(service, run, make_request, properties):
    # A failed adoption must not hand the scheduler to the rollback Delete.
    request = make_request(
        "Create", {**properties, "AdoptExisting": "true", "DesiredState": "RUNNING"}
    )
    service.conflict("create_retraining_scheduler")
    service.describe("pump-1", "STOPPED", frequency="P60D")
    service.update("pump-1", RetrainingFrequency="P30D")
    service.denied("start_retraining_scheduler")
    # Nothing will own the scheduler, so the adoption puts back what it changed.
    service.describe("pump-1", "STOPPED", frequency="P30D")
    service.update("pump-1", RetrainingFrequency="P60D")

    outcome = run(request)

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert "StartRetrainingScheduler" in outcome.reason
    assert "AccessDeniedException" in outcome.reason
    assert "previous settings and running state were restored" in outcome.reason


def test_create_failure_after_owning_answers_owned_id(service, run, make_request, properties):
    request = make_request("Create", properties)
    service.create("pump-1", token_of(request), status="STOPPED")
    service.describe("pump-1", "STOPPED")
    service.denied(
        "start_retraining_scheduler",
        message="not allowed to lookoutequipment:StartRetrainingScheduler",
    )

    outcome = run(request)

    assert outcome.status == FAILED
    # Owned: CloudFormation's rollback Delete removes what this Create made.
    assert outcome.physical_resource_id == "pump-1"
    assert outcome.reason.startswith("StartRetrainingScheduler on model 'pump-1' failed")
    assert "AccessDeniedException" in outcome.reason


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ModelName", "pump 1"),
        ("RetrainingFrequency", "P10D"),
        ("LookbackWindow", "P90D"),
    ],
)
def test_create_invalid_property_fails_before_any_call(
    service, run, make_request, properties, attempted_operations, name, value
):
    outcome = run(make_request("Create", {**properties, name: value}))

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert outcome.reason.startswith(name)
    assert repr(value) in outcome.reason
    assert not outcome.points_to_logs
    assert attempted_operations == []


def test_client_token_same_request_derives_same_token():
    first = derive_client_token("stack", "Logical", "request")

    assert first == derive_client_token("stack", "Logical", "request")
    assert first != derive_client_token("stack", "Logical", "another-request")
    assert 1 <= len(first) <= 256


def test_create_denied_while_grant_propagates_is_made_again_and_succeeds(
    service, run, make_request, properties
):
    # IAM applies a freshly attached policy after a few seconds: the first calls are denied.
    request = make_request("Create", properties)
    service.error("create_retraining_scheduler", "AccessDeniedException", status=403)
    service.error("create_retraining_scheduler", "AccessDeniedException", status=403)
    service.create("pump-1", token_of(request), status="PENDING")
    service.describe("pump-1", "PENDING")

    outcome = run(request)

    assert outcome.status == SUCCESS
    assert outcome.physical_resource_id == "pump-1"


def test_create_denied_beyond_retries_fails_naming_access_denied(
    service, run, make_request, properties, attempted_operations
):
    request = make_request("Create", properties)
    service.denied("create_retraining_scheduler")

    outcome = run(request)

    assert outcome.status == FAILED
    assert "AccessDeniedException" in outcome.reason
    assert outcome.physical_resource_id == f"not-created|{request.request_id}"
    assert attempted_operations == ["CreateRetrainingScheduler"] * (1 + ACCESS_DENIED_RETRIES)


def test_create_server_error_says_scheduler_may_exist(service, run, make_request, properties):
    # A 5xx (after botocore's retries) does not say whether the service created the scheduler.
    service.error("create_retraining_scheduler", "InternalServerException", status=500)

    outcome = run(make_request("Create", properties))

    assert outcome.status == FAILED
    assert outcome.physical_resource_id == "not-created|request-1"
    assert "InternalServerException" in outcome.reason
    assert "may have created the scheduler: adopt it (AdoptExisting) or delete it" in (
        outcome.reason
    )


def test_create_refused_by_service_says_nothing_was_created(service, run, make_request, properties):
    # A 4xx is a refusal: nothing was created, and the reason does not suggest otherwise.
    service.error("create_retraining_scheduler", "ServiceQuotaExceededException", status=400)

    outcome = run(make_request("Create", properties))

    assert outcome.status == FAILED
    assert "ServiceQuotaExceededException" in outcome.reason
    assert "may have created" not in outcome.reason
