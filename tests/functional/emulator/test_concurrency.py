"""Many threads calling at once: nothing lost, nothing duplicated, every fault spent once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lookout_retraining.local.emulator import Emulator

THREADS = 16


@pytest.fixture
def shared_client(lookout_client_factory):
    """One client for every thread (boto3 clients are thread-safe), with a big enough pool."""
    return lookout_client_factory(config=Config(max_pool_connections=THREADS * 2))


def _run_together(count, action):
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait()
        return action(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_creates_and_describes_every_scheduler_once(shared_client, emulator):
    names = [f"pump-{index:02d}" for index in range(THREADS)]
    for name in names:
        emulator.create_model(name)

    def create_then_describe(index):
        name = names[index]
        created = shared_client.create_retraining_scheduler(
            ModelName=name, RetrainingFrequency="P30D", LookbackWindow="P180D"
        )
        seen = [
            summary["ModelName"]
            for summary in shared_client.list_retraining_schedulers()[
                "RetrainingSchedulerSummaries"
            ]
        ]
        described = shared_client.describe_retraining_scheduler(ModelName=name)
        return created["ModelName"], described["ModelName"], name in seen

    results = _run_together(THREADS, create_then_describe)

    assert [created for created, _, _ in results] == names
    assert [described for _, described, _ in results] == names
    assert all(seen_in_list for _, _, seen_in_list in results)
    listed = shared_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]
    assert sorted(summary["ModelName"] for summary in listed) == names
    assert len(emulator.snapshot()["schedulers"]) == THREADS
    assert len(emulator.calls) == THREADS * 3 + 1


def test_concurrent_same_token_create_one_scheduler_same_response(
    shared_client, emulator, model_name
):
    def create(_):
        response = shared_client.create_retraining_scheduler(
            ModelName=model_name,
            RetrainingFrequency="P30D",
            LookbackWindow="P180D",
            ClientToken="delivered-many-times",
        )
        del response["ResponseMetadata"]
        return response

    responses = _run_together(THREADS, create)

    assert all(response == responses[0] for response in responses)
    assert len(emulator.snapshot()["schedulers"]) == 1
    assert {call.status for call in emulator.calls} == {200}


def test_concurrent_different_tokens_one_create_wins(shared_client, emulator, model_name):
    def create(index):
        try:
            shared_client.create_retraining_scheduler(
                ModelName=model_name,
                RetrainingFrequency="P30D",
                LookbackWindow="P180D",
                ClientToken=f"request-{index}",
            )
        except ClientError as error:
            return error.response["Error"]["Code"]
        return "created"

    outcomes = _run_together(THREADS, create)

    assert outcomes.count("created") == 1
    assert outcomes.count("ConflictException") == THREADS - 1
    assert len(emulator.snapshot()["schedulers"]) == 1


def test_concurrent_stops_exactly_one_succeeds(shared_client, emulator, scheduler_in_status):
    model_name = scheduler_in_status("RUNNING")
    emulator.settings.stopping_seconds = 60.0

    def stop(_):
        try:
            return shared_client.stop_retraining_scheduler(ModelName=model_name)["Status"]
        except ClientError as error:
            return error.response["Error"]["Code"]

    outcomes = _run_together(THREADS, stop)

    assert outcomes.count("STOPPING") == 1
    assert outcomes.count("ConflictException") == THREADS - 1


def _outcome(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "served"


def test_concurrent_creates_spend_each_queued_fault_once(shared_client, emulator):
    throttles, failures = 5, 3
    names = [f"pump-{index:02d}" for index in range(THREADS)]
    for name in names:
        emulator.create_model(name)
    emulator.faults.throttle("CreateRetrainingScheduler", count=throttles)
    emulator.faults.fail("CreateRetrainingScheduler", count=failures)

    def create(index):
        return _outcome(
            lambda: shared_client.create_retraining_scheduler(
                ModelName=names[index], RetrainingFrequency="P30D", LookbackWindow="P180D"
            )
        )

    outcomes = _run_together(THREADS, create)

    served = THREADS - throttles - failures
    assert Counter(outcomes) == {
        "ThrottlingException": throttles,
        "InternalServerException": failures,
        "served": served,
    }
    assert Counter(call.status for call in emulator.calls) == {
        429: throttles,
        500: failures,
        200: served,
    }
    # A faulted call changes nothing: exactly the served calls made a scheduler.
    created = {item["ModelName"] for item in emulator.snapshot()["schedulers"]}
    assert created == {
        name for name, outcome in zip(names, outcomes, strict=True) if outcome == "served"
    }
    after = _outcome(lambda: shared_client.describe_model(ModelName=names[0]))
    assert after == "served"


def _describe_together(client, model_name):
    def describe(_):
        try:
            client.describe_model(ModelName=model_name)
        except ClientError as error:
            return f"{error.response['Error']['Code']}: {error.response['Error']['Message']}"
        return "served"

    return Counter(_run_together(THREADS, describe))


def test_concurrent_calls_rate_limit_admits_burst_only_while_clock_stands(
    shared_client, emulator, model_name
):
    # The emulator's clock does not move here, so the bucket never refills: exactly its burst of
    # max(1, rate) calls is served, however the threads interleave.
    emulator.faults.rate_limit(calls_per_second=4.0)

    outcomes = _describe_together(shared_client, model_name)

    refusal = "ThrottlingException: Rate exceeded: the emulator admits 4 calls per second"
    assert outcomes == {"served": 4, refusal: THREADS - 4}


def test_concurrent_calls_rate_limit_served_within_limit_on_real_clock(aws_session):
    rate = 2.0
    with Emulator() as emulator:
        emulator.create_model("pump-1")
        client = aws_session.client(
            "lookoutequipment",
            endpoint_url=emulator.endpoint_url,
            config=Config(
                retries={"mode": "standard", "total_max_attempts": 1},
                max_pool_connections=THREADS * 2,
            ),
        )
        limit_set_at = time.time()
        emulator.faults.rate_limit(calls_per_second=rate)

        outcomes = _describe_together(client, "pump-1")
        finished_at = time.time()

    # The bucket starts with a burst of max(1, rate) calls and refills at ``rate`` per second
    # from the moment the limit was set, however fast or slow the calls ran.
    refusal = "ThrottlingException: Rate exceeded: the emulator admits 2 calls per second"
    served, refused = outcomes["served"], outcomes[refusal]
    assert served + refused == THREADS
    assert 2 <= served <= 2 + rate * (finished_at - limit_set_at)
