"""Throttling beyond botocore's attempts: the handler calls again until its time is up.

botocore's standard retry mode makes up to ten attempts per call, which a service kept busy by
a large stack can throttle through (the 100-scheduler test saw calls throttled nine times in a
row). A throttled call changed nothing, so the handler makes it again after a pause, as long
as its deadline leaves time; it answers FAILED, saying it was throttled, only when it has none.
The handler here runs in-process with a client that makes two attempts per call, so that a few
throttles exhaust botocore's retries quickly.
"""

from __future__ import annotations

import time

import pytest
from botocore.config import Config

PROPERTIES = {"ModelName": "pump-1", "RetrainingFrequency": "P30D", "LookbackWindow": "P180D"}


@pytest.fixture
def two_attempt_handler(cloudformation, handler_module):
    """The harness's CloudFormation, its handler's client making two attempts per call."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 2})
    client = handler_module.build_client(config)
    cloudformation.handler = handler_module.build_handler(client)
    return cloudformation


def test_create_throttled_beyond_botocore_attempts_calls_again_and_succeeds(
    two_attempt_handler, emulator, reliability_figures
):
    emulator.create_model("pump-1")
    emulator.faults.throttle("CreateRetrainingScheduler", count=5)

    created = two_attempt_handler.create(PROPERTIES)

    assert created.status == "SUCCESS", created.response.get("Reason")
    creates = [c for c in emulator.calls if c.operation == "CreateRetrainingScheduler"]
    assert [c.error_code for c in creates] == ["ThrottlingException"] * 5 + [None]
    assert [s["ModelName"] for s in emulator.snapshot()["schedulers"]] == ["pump-1"]
    reliability_figures.count("faults injected: calls throttled beyond botocore's attempts", 5)


def test_create_throttled_until_deadline_answers_failed_once_in_time_saying_throttled(
    two_attempt_handler, emulator
):
    emulator.create_model("pump-1")
    emulator.faults.throttle("CreateRetrainingScheduler", count=1000)

    created = two_attempt_handler.create(PROPERTIES, timeout_seconds=8.0)

    assert created.status == "FAILED"
    assert "ThrottlingException" in created.reason
    assert created.responses[0].received_at < created.context.deadline_epoch
    assert emulator.snapshot()["schedulers"] == []
    answered_at = created.responses[0].received_at
    time.sleep(1.0)
    assert [c for c in emulator.calls if c.started_at > answered_at] == []
