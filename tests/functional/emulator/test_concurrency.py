"""Many threads calling at once: nothing lost, nothing duplicated."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

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
