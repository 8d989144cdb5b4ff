"""Fault injection (throttle, fail, delay, rate limit) and the call log."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from lookout_retraining.local.emulator import MUTATING_OPERATIONS


def test_throttle_next_calls_429_then_served(
    lookout_client, emulator, model_name, create_scheduler, expect_service_error
):
    emulator.faults.throttle("CreateRetrainingScheduler", count=2)

    for _ in range(2):
        with expect_service_error("ThrottlingException", 429, match="Rate exceeded"):
            create_scheduler(ClientToken="request-1")
    created = create_scheduler(ClientToken="request-1")

    assert created["Status"] == "PENDING"
    assert [call.error_code for call in emulator.calls] == [
        "ThrottlingException",
        "ThrottlingException",
        None,
    ]
    assert len(emulator.snapshot()["schedulers"]) == 1


def test_throttle_other_operations_unaffected(
    lookout_client, emulator, model_name, expect_service_error
):
    emulator.faults.throttle("DescribeModel", count=1)

    listed = lookout_client.list_retraining_schedulers()
    with expect_service_error("ThrottlingException", 429):
        lookout_client.describe_model(ModelName=model_name)

    assert listed["RetrainingSchedulerSummaries"] == []


def test_fail_next_call_500_and_changes_nothing(
    lookout_client, emulator, scheduler_in_status, expect_service_error
):
    model_name = scheduler_in_status("RUNNING")
    emulator.faults.fail("StopRetrainingScheduler", count=1)

    with expect_service_error("InternalServerException", 500, match="fault injected"):
        lookout_client.stop_retraining_scheduler(ModelName=model_name)
    status_after_failure = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    stopped = lookout_client.stop_retraining_scheduler(ModelName=model_name)

    assert status_after_failure["Status"] == "RUNNING"
    assert stopped["Status"] == "STOPPING"


def test_throttle_then_fail_spent_in_injection_order(
    lookout_client, emulator, model_name, expect_service_error
):
    emulator.faults.throttle("DescribeModel", count=1)
    emulator.faults.fail("DescribeModel", count=1)

    with expect_service_error("ThrottlingException", 429):
        lookout_client.describe_model(ModelName=model_name)
    with expect_service_error("InternalServerException", 500):
        lookout_client.describe_model(ModelName=model_name)
    described = lookout_client.describe_model(ModelName=model_name)

    assert described["ModelName"] == model_name


def test_fault_precedes_validation(lookout_client_factory, emulator, expect_service_error):
    client = lookout_client_factory(config=Config(parameter_validation=False))
    emulator.faults.throttle("DescribeModel", count=1)

    with expect_service_error("ThrottlingException", 429):
        client.describe_model(ModelName="not valid!")
    with expect_service_error("ValidationException", 400):
        client.describe_model(ModelName="not valid!")


def test_throttled_call_retried_by_boto3_succeeds(lookout_client_factory, emulator, model_name):
    # Standard retry mode waits up to 2**attempt seconds; botocore's legacy mode with a fixed
    # base is not configurable, so one throttle keeps this test short.
    client = lookout_client_factory(config=Config(retries={"mode": "legacy", "max_attempts": 2}))
    emulator.faults.throttle("DescribeModel", count=1)

    described = client.describe_model(ModelName=model_name)

    assert described["ResponseMetadata"]["RetryAttempts"] == 1
    assert [call.status for call in emulator.calls] == [429, 200]


def test_delay_every_call_each_response_held(lookout_client, emulator, model_name):
    emulator.faults.delay("DescribeModel", seconds=0.05)

    for _ in range(2):
        lookout_client.describe_model(ModelName=model_name)

    durations = [call.finished_at - call.started_at for call in emulator.calls]
    assert len(durations) == 2
    assert all(duration >= 0.05 for duration in durations)


def test_delay_count_only_next_calls_held(lookout_client, emulator, model_name):
    emulator.faults.delay("DescribeModel", seconds=0.5, count=1)

    for _ in range(2):
        lookout_client.describe_model(ModelName=model_name)

    first, second = (call.finished_at - call.started_at for call in emulator.calls)
    assert first >= 0.5
    # Half the delay: far above an undelayed call's milliseconds, far below a held response.
    assert second < 0.25


def test_delay_zero_removes_delay(lookout_client, emulator, model_name):
    emulator.faults.delay("DescribeModel", seconds=5.0)
    emulator.faults.delay("DescribeModel", seconds=0)

    lookout_client.describe_model(ModelName=model_name)

    assert emulator.calls[0].finished_at - emulator.calls[0].started_at < 1.0


def test_delayed_response_other_calls_not_blocked(
    lookout_client, emulator, model_name, create_scheduler
):
    emulator.faults.delay("CreateRetrainingScheduler", seconds=2.0, count=1)
    delayed = threading.Thread(target=create_scheduler)

    delayed.start()
    # The Create takes effect before its response is held back: wait for that, not for a time.
    deadline = time.monotonic() + 10
    while not emulator.snapshot()["schedulers"] and time.monotonic() < deadline:
        time.sleep(0.005)
    listed = lookout_client.list_retraining_schedulers()
    delayed.join()

    assert [item["ModelName"] for item in listed["RetrainingSchedulerSummaries"]] == [model_name]
    listed_call, created_call = emulator.calls
    assert (listed_call.operation, created_call.operation) == (
        "ListRetrainingSchedulers",
        "CreateRetrainingScheduler",
    )
    # The List call arrived while the Create response was held back, and was answered first.
    assert created_call.started_at < listed_call.started_at
    assert listed_call.finished_at < created_call.finished_at


def test_delayed_create_took_effect_before_client_timed_out(
    lookout_client_factory, lookout_client, emulator, model_name
):
    impatient = lookout_client_factory(config=Config(read_timeout=0.1, connect_timeout=1))
    emulator.faults.delay("CreateRetrainingScheduler", seconds=0.3, count=1)

    with pytest.raises(ReadTimeoutError):
        impatient.create_retraining_scheduler(
            ModelName=model_name, RetrainingFrequency="P30D", LookbackWindow="P180D"
        )

    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert described["Status"] == "RUNNING"


def _describe_outcomes(client, model_name, count):
    outcomes = []
    for _ in range(count):
        try:
            client.describe_model(ModelName=model_name)
            outcomes.append("served")
        except client.exceptions.ThrottlingException as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            outcomes.append(f"{status} {error.response['Error']['Message']}")
    return outcomes


def test_rate_limit_excess_calls_throttled_then_lifted(lookout_client, emulator, model_name):
    emulator.faults.rate_limit(calls_per_second=2.0)

    limited = _describe_outcomes(lookout_client, model_name, 5)
    emulator.faults.rate_limit(None)
    lifted = _describe_outcomes(lookout_client, model_name, 5)

    refusal = "429 Rate exceeded: the emulator admits 2 calls per second"
    assert limited == ["served", "served", refusal, refusal, refusal]
    assert lifted == ["served"] * 5


def test_rate_limit_shared_across_operations_and_refills(
    lookout_client, emulator, clock, model_name
):
    emulator.faults.rate_limit(calls_per_second=5.0)
    for _ in range(5):
        lookout_client.list_retraining_schedulers()

    exhausted = _describe_outcomes(lookout_client, model_name, 1)
    # A quarter of a second refills one call and a quarter of the next, at 5 per second.
    clock.advance(0.25)
    refilled = _describe_outcomes(lookout_client, model_name, 2)

    refusal = "429 Rate exceeded: the emulator admits 5 calls per second"
    assert exhausted == [refusal]
    assert refilled == ["served", refusal]


def test_clear_removes_every_fault(lookout_client, emulator, model_name):
    emulator.faults.throttle("DescribeModel", count=3)
    emulator.faults.fail("DescribeModel", count=3)
    emulator.faults.delay("DescribeModel", seconds=5.0)
    emulator.faults.rate_limit(calls_per_second=0.001)
    emulator.faults.rate_limit(calls_per_second=1.0)

    emulator.faults.clear()
    results = [lookout_client.describe_model(ModelName=model_name) for _ in range(3)]

    assert all(result["ModelName"] == model_name for result in results)
    assert all(call.finished_at - call.started_at < 1.0 for call in emulator.calls)


@pytest.mark.parametrize(
    ("inject", "message"),
    [
        (lambda faults: faults.throttle("CreateRetrainingSchedular"), "CreateRetrainingScheduler"),
        (lambda faults: faults.fail("DescribeThing"), "not an operation"),
        (lambda faults: faults.throttle("DescribeModel", count=0), "positive integer"),
        (lambda faults: faults.fail("DescribeModel", count=True), "positive integer"),
        (lambda faults: faults.delay("DescribeModel", seconds=-1.0), "0 or more"),
        (lambda faults: faults.delay("DescribeModel", seconds=1.0, count=0), "positive integer"),
        (lambda faults: faults.rate_limit(0.0), "positive number"),
    ],
)
def test_fault_bad_arguments_value_error(emulator, inject, message):
    with pytest.raises(ValueError, match=message):
        inject(emulator.faults)


def test_call_log_records_each_call(lookout_client, emulator, model_name, create_scheduler):
    began = time.time()

    create_scheduler(ClientToken="request-1")
    with pytest.raises(lookout_client.exceptions.ConflictException):
        lookout_client.delete_retraining_scheduler(ModelName=model_name)

    created, refused = emulator.calls
    assert created.operation == "CreateRetrainingScheduler"
    assert created.request == {
        "ModelName": model_name,
        "RetrainingFrequency": "P30D",
        "LookbackWindow": "P180D",
        "ClientToken": "request-1",
    }
    assert (created.status, created.error_code) == (200, None)
    assert (refused.status, refused.error_code) == (409, "ConflictException")
    assert refused.request == {"ModelName": model_name}
    assert began <= created.started_at <= created.finished_at <= refused.started_at
    assert {call.region for call in emulator.calls} == {"us-east-1"}
    assert {call.access_key_id for call in emulator.calls} == {"AKIAEMULATORTESTKEY1"}


def test_clear_calls_empties_log(lookout_client, emulator):
    lookout_client.list_retraining_schedulers()

    emulator.clear_calls()
    lookout_client.list_retraining_schedulers()

    assert len(emulator.calls) == 1


def test_mutating_operations_name_every_state_changing_call():
    assert (
        frozenset(
            {
                "CreateRetrainingScheduler",
                "UpdateRetrainingScheduler",
                "StartRetrainingScheduler",
                "StopRetrainingScheduler",
                "DeleteRetrainingScheduler",
                "CreateModel",
                "DeleteModel",
            }
        )
        == MUTATING_OPERATIONS
    )
