"""A hundred schedulers against a service that admits a few calls per second.

The local deployer runs up to ten handlers at once, as CloudFormation works on independent
resources in parallel; the emulator answers ThrottlingException beyond 5 calls per second, all
operations together. botocore's standard retry mode (10 attempts, backoff with jitter), and
beyond it the handler's own pauses until its deadline, must carry every request through: every
resource succeeds, and destroy removes every scheduler. (With botocore's attempts alone, a call
now and then was throttled ten times in a row and its resource failed.)
"""

from __future__ import annotations

import pytest
from end_to_end import Declared, answered_once, declared_state, observed_state, synthesize

pytestmark = [pytest.mark.synth, pytest.mark.slow]

STACK = "FleetStack"
SCHEDULERS = 100
CALLS_PER_SECOND = 5.0
CONCURRENCY = 10


def most_at_once(invocations):
    moments = sorted(
        [(record.started_at, 1) for record in invocations]
        + [(record.finished_at, -1) for record in invocations]
    )
    running = most = 0
    for _, change in moments:
        running += change
        most = max(most, running)
    return most


def test_hundred_schedulers_rate_limited_service_all_created_then_all_deleted(
    emulator, deployer_for, tmp_path, reliability_figures
):
    fleet = [
        Declared(
            f"Pump{index:03d}",
            f"pump-{index:03d}",
            ("P30D", "P2M", "P3M15D", "P1Y")[index % 4],
            ("P180D", "P360D", "P540D", "P720D")[index % 4],
            running=index % 5 != 0,
        )
        for index in range(SCHEDULERS)
    ]
    for declared in fleet:
        emulator.create_model(declared.model_name)
    assembly = synthesize(tmp_path / "fleet", STACK, fleet)
    deployer = deployer_for(max_concurrency=CONCURRENCY, retry_attempts=0)
    emulator.faults.rate_limit(CALLS_PER_SECOND)

    created = deployer.deploy(STACK, assembly_dir=assembly.outdir)
    after_create = observed_state(emulator)
    destroyed = deployer.destroy(STACK)

    failures = [d.reason for r in (created, destroyed) for d in r.deliveries if not d.succeeded]
    throttled = [call for call in emulator.calls if call.error_code == "ThrottlingException"]
    answered = [call for call in emulator.calls if call.status == 200]
    assert failures == []
    assert created.status == "CREATE_COMPLETE", created.status_reason
    assert created.counts()["failed"] == 0
    assert len(created.deliveries) == SCHEDULERS
    assert all(delivery.succeeded for delivery in created.deliveries)
    assert after_create == declared_state(fleet)
    assert destroyed.status == "DELETE_COMPLETE", destroyed.status_reason
    assert len(destroyed.deliveries) == SCHEDULERS
    assert all(delivery.succeeded for delivery in destroyed.deliveries)
    assert observed_state(emulator) == {}
    # The limit bit, and handlers ran side by side.
    assert len(throttled) > 0
    assert 1 < most_at_once(created.invocations) <= CONCURRENCY
    # No more than the limit's worth of calls got through in any second (the bucket's burst
    # allows CALLS_PER_SECOND at once).
    seconds = [int(call.started_at) for call in answered]
    assert max(seconds.count(second) for second in set(seconds)) <= 2 * CALLS_PER_SECOND
    for result in (created, destroyed):
        answered_once(result, reliability_figures)
    reliability_figures.count("end to end: schedulers created", SCHEDULERS)
    reliability_figures.count("faults injected: calls throttled by the rate limit", len(throttled))
    print(
        f"{SCHEDULERS} schedulers at {CALLS_PER_SECOND:g} calls/s: create "
        f"{created.elapsed_seconds:.0f} s, destroy {destroyed.elapsed_seconds:.0f} s, "
        f"{len(answered)} calls answered, {len(throttled)} throttled"
    )
