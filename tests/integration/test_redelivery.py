"""The same Create delivered again, after a crash or at the same time: one scheduler, SUCCESS.

CloudFormation may send a request again and Lambda retries an invocation that crashed; the
handler's ClientToken (derived from the request) makes the service replay the first Create
instead of making a second scheduler. Here the sandbox running the real asset is killed at a
chosen point, after the service accepted the Create, and the very same event is delivered
again; or two deliveries of one event run at once.
"""

from __future__ import annotations

import threading

import pytest
from end_to_end import Declared, declared_state, observed_state, synthesize

pytestmark = [pytest.mark.synth]

STACK = "RedeliveryStack"
BASE = Declared("Base", "base-1")
EXTRA_PROPERTIES = {
    "ModelName": "extra-1",
    "RetrainingFrequency": "P45D",
    "LookbackWindow": "P360D",
    "ServiceTimeout": "360",
}
SCHEDULER_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"


@pytest.fixture
def deployed(emulator, deployer_for, tmp_path):
    """A deployed stack of one scheduler, whose function serves the events of these tests."""
    for model in ("base-1", "extra-1"):
        emulator.create_model(model)
    assembly = synthesize(tmp_path / "app", STACK, [BASE])
    deployer = deployer_for()
    result = deployer.deploy(STACK, assembly_dir=assembly.outdir)
    assert result.status == "CREATE_COMPLETE", result.status_reason
    return deployer


def extra_event(deployer, properties=None):
    return deployer.build_event(
        STACK,
        "Extra",
        "Create",
        properties=properties or EXTRA_PROPERTIES,
        resource_type=SCHEDULER_TYPE,
    )


def schedulers_on(emulator, model):
    return [s for s in emulator.snapshot()["schedulers"] if s["ModelName"] == model]


def create_answered(emulator, model):
    return any(
        call.operation == "CreateRetrainingScheduler"
        and call.status == 200
        and call.request["ModelName"] == model
        for call in emulator.calls
    )


def extra_expected(**changes):
    declared = Declared("Extra", "extra-1", "P45D", "P360D").changed(**changes)
    return declared_state([BASE, declared])


@pytest.mark.parametrize(
    "kill_point",
    [
        # The Create has taken effect; its response is still on the way back.
        "create-in-flight",
        # The Create was answered; the handler is reading the scheduler back.
        "describe-after-create",
    ],
)
def test_create_killed_after_service_accepted_then_redelivered_makes_one_scheduler(
    emulator, deployed, kill_point, reliability_figures
):
    if kill_point == "create-in-flight":
        emulator.faults.delay("CreateRetrainingScheduler", seconds=5.0, count=1)

        def kill_when(running):
            return bool(schedulers_on(emulator, "extra-1"))

    else:
        emulator.faults.delay("DescribeRetrainingScheduler", seconds=5.0, count=1)

        def kill_when(running):
            return create_answered(emulator, "extra-1")

    event = extra_event(deployed)

    killed = deployed.deliver(STACK, event, kill_when=kill_when)
    after_kill = schedulers_on(emulator, "extra-1")
    redelivered = deployed.deliver(STACK, event)

    assert killed.status == "FAILED"
    assert killed.attempts[-1].stopped_by == "kill_when"
    assert killed.responses == []
    assert len(after_kill) == 1
    assert redelivered.status == "SUCCESS", redelivered.reason
    assert redelivered.physical_resource_id == "extra-1"
    assert len(deployed.responses(event)) == 1
    assert observed_state(emulator) == extra_expected()
    # The very scheduler the killed run created, not a second one.
    assert schedulers_on(emulator, "extra-1")[0]["CreatedAt"] == after_kill[0]["CreatedAt"]
    creates = [
        call
        for call in emulator.calls
        if call.operation == "CreateRetrainingScheduler" and call.request["ModelName"] == "extra-1"
    ]
    assert len({call.request["ClientToken"] for call in creates}) == 1
    reliability_figures.count("end to end: custom resource events delivered", 2)
    reliability_figures.count("faults injected: handler killed mid-Create", 1)


def test_create_crashed_once_lambda_retry_makes_one_scheduler_and_stack_completes(
    emulator, deployer_for, tmp_path, reliability_figures
):
    for model in ("base-1", "extra-1"):
        emulator.create_model(model)
    extra = Declared("Extra", "extra-1", "P45D", "P360D")
    first = synthesize(tmp_path / "v1", STACK, [BASE])
    second = synthesize(tmp_path / "v2", STACK, [BASE, extra])
    extra_id = second.logical_ids["Extra"]
    deployer = deployer_for(retry_attempts=2)
    assert deployer.deploy(STACK, assembly_dir=first.outdir).succeeded
    emulator.faults.delay("CreateRetrainingScheduler", seconds=5.0, count=1)

    def kill_first_attempt(running):
        return (
            running.logical_id == extra_id
            and running.attempt == 1
            and bool(schedulers_on(emulator, "extra-1"))
        )

    result = deployer.deploy(STACK, assembly_dir=second.outdir, kill_when=kill_first_attempt)

    assert result.status == "UPDATE_COMPLETE", result.status_reason
    (delivery,) = result.deliveries_for(extra_id)
    assert [attempt.stopped_by for attempt in delivery.attempts] == ["kill_when", None]
    assert delivery.status == "SUCCESS"
    assert len(delivery.responses) == 1
    assert observed_state(emulator) == declared_state([BASE, extra])
    reliability_figures.count("end to end: custom resource events delivered", 1)
    reliability_figures.count("faults injected: handler killed mid-Create", 1)


@pytest.mark.parametrize(
    ("create_starts_scheduler", "running"),
    [(True, True), (False, True), (True, False)],
    ids=["created-running", "started-by-both", "stopped-by-both"],
)
def test_create_delivered_twice_at_once_makes_one_scheduler_and_two_consistent_answers(
    emulator, deployed, create_starts_scheduler, running, reliability_figures
):
    emulator.settings.create_starts_scheduler = create_starts_scheduler
    # Each answer waits a little, so that the two runs' Creates are in flight together and
    # both read the scheduler before either starts or stops it.
    emulator.faults.delay("CreateRetrainingScheduler", seconds=0.5)
    emulator.faults.delay("DescribeRetrainingScheduler", seconds=1.5)
    properties = dict(EXTRA_PROPERTIES)
    if not running:
        properties["DesiredState"] = "STOPPED"
    event = extra_event(deployed, properties)
    barrier = threading.Barrier(2)
    deliveries = []

    def deliver():
        barrier.wait()
        deliveries.append(deployed.deliver(STACK, event))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    answers = [response.body for response in deployed.responses(event)]
    assert len(deliveries) == 2
    assert len(answers) == 2
    assert {answer["Status"] for answer in answers} == {"SUCCESS"}
    assert {answer["PhysicalResourceId"] for answer in answers} == {"extra-1"}
    assert len({(a["Data"]["ModelArn"], a["Data"]["ModelName"]) for a in answers}) == 1
    statuses = {answer["Data"]["Status"] for answer in answers}
    assert statuses <= ({"PENDING", "RUNNING"} if running else {"STOPPED"})
    assert observed_state(emulator) == extra_expected(running=running)
    creates = [
        call
        for call in emulator.calls
        if call.operation == "CreateRetrainingScheduler" and call.request["ModelName"] == "extra-1"
    ]
    assert [call.status for call in creates] == [200, 200]
    assert len({call.request["ClientToken"] for call in creates}) == 1
    reliability_figures.count("end to end: custom resource events delivered", 2)
    reliability_figures.count("faults injected: concurrent duplicate deliveries", 1)
