"""How the deployer reports handlers that break the custom resource protocol, and redelivery."""

from __future__ import annotations

import io
import threading
import time

import pytest

from lookout_retraining.local.deployer import FailureKind


def test_handler_timeout_is_reported_and_create_rolled_back(app, journal, deployer_factory):
    app.function(timeout=2)
    app.resource("Slow", {"Name": "slow", "Journal": str(journal), "HangOn": "Create"})
    deployer = deployer_factory(app.write())

    started = time.monotonic()
    result = deployer.deploy()
    elapsed = time.monotonic() - started

    create = result.deliveries_for("Slow", "Create")[0]
    assert create.failure_kind == FailureKind.TIMED_OUT
    assert create.attempts[0].timed_out
    # Killed at its 2 s timeout, not left to hang until the ServiceTimeout of an hour.
    assert 2 <= create.attempts[0].duration_seconds < 30
    assert "Task timed out after 2.00 seconds" in create.attempts[0].log
    failed = next(e for e in result.resource_events("Slow") if e.status == "CREATE_FAILED")
    assert "timed out after 2 s without sending a response" in failed.reason
    assert result.status == "ROLLBACK_COMPLETE"
    delete = result.deliveries_for("Slow", "Delete")[0]
    assert delete.succeeded
    assert delete.event["PhysicalResourceId"].startswith(f"{app.stack_name}-Slow-")
    assert elapsed < 60


def test_handler_that_returns_without_answering_is_reported_at_once(app, journal, deployer_factory):
    app.resource("Mute", {"Name": "mute", "Journal": str(journal), "SilentOn": "Create"})
    deployer = deployer_factory(app.write())

    started = time.monotonic()
    result = deployer.deploy()

    create = result.deliveries_for("Mute", "Create")[0]
    assert create.failure_kind == FailureKind.NO_RESPONSE
    assert "returned without sending a response" in create.reason
    assert "ServiceTimeout of 3600 s" in create.reason
    assert result.status == "ROLLBACK_COMPLETE"
    # Seconds, where waiting for the ServiceTimeout would take an hour.
    assert time.monotonic() - started < 60


def test_handler_that_crashes_is_retried_as_lambda_retries(app, journal, deployer_factory):
    app.resource("Crashy", {"Name": "c", "Journal": str(journal), "CrashOn": "Create"})
    deployer = deployer_factory(app.write(), retry_attempts=2)

    result = deployer.deploy()

    create = result.deliveries_for("Crashy", "Create")[0]
    assert [attempt.attempt for attempt in create.attempts] == [1, 2, 3]
    assert all(attempt.exit_code == 1 for attempt in create.attempts)
    assert len({attempt.aws_request_id for attempt in create.attempts}) == 1
    assert create.failure_kind == FailureKind.NO_RESPONSE
    assert "after 3 attempts" in create.reason
    assert "RuntimeError: the test handler crashed on purpose" in create.reason


def test_handler_leaving_a_thread_running_ends_when_it_returns(app, journal, deployer_factory):
    # The thread sleeps a minute and the timeout is 40 s: a sandbox that waited for the thread
    # would run 40 s and time out, where one that ends with the handler takes about a second.
    app.function(timeout=40)
    app.resource("Lingering", {"Name": "l", "Journal": str(journal), "LingerOn": "Create"})
    deployer = deployer_factory(app.write(), retry_attempts=2)

    started = time.monotonic()
    result = deployer.deploy()
    elapsed = time.monotonic() - started

    create = result.deliveries_for("Lingering", "Create")[0]
    assert result.status == "CREATE_COMPLETE"
    assert [(attempt.exit_code, attempt.stopped_by) for attempt in create.attempts] == [(0, None)]
    assert create.attempts[0].duration_seconds < 12
    assert "Task timed out" not in create.attempts[0].log
    assert result.problems == []
    assert elapsed < 20


@pytest.mark.parametrize(
    ("after_answer", "stopped_by", "exit_code"),
    [("CrashAfterAnswerOn", None, 1), ("HangAfterAnswerOn", "timeout", -9)],
    ids=["raised", "timed-out"],
)
def test_handler_failing_after_answering_is_retried_and_first_answer_counts(
    app, journal, journal_reader, deployer_factory, after_answer, stopped_by, exit_code
):
    app.function(timeout=2)
    app.resource("Rash", {"Name": "r", "Journal": str(journal), after_answer: "Create"})
    deployer = deployer_factory(app.write(), retry_attempts=2)

    result = deployer.deploy()

    create = result.deliveries_for("Rash", "Create")[0]
    assert [attempt.attempt for attempt in create.attempts] == [1, 2, 3]
    assert [attempt.stopped_by for attempt in create.attempts] == [stopped_by] * 3
    assert [attempt.exit_code for attempt in create.attempts] == [exit_code] * 3
    assert [len(attempt.responses) for attempt in create.attempts] == [1, 1, 1]
    assert create.response is create.responses[0]
    assert create.succeeded
    assert result.status == "CREATE_COMPLETE"
    assert result.problems == [
        "Rash (Create): the handler answered 3 times to one request across 3 Lambda attempts; "
        "CloudFormation acts on the first answer only"
    ]
    starts = [entry for entry in journal_reader(journal) if entry["phase"] == "start"]
    assert len({entry["request_id"] for entry in starts}) == 1
    assert len(starts) == 3


def test_handler_answering_twice_is_reported_as_problem(app, journal, deployer_factory):
    app.resource("Chatty", {"Name": "c", "Journal": str(journal), "TwiceOn": "Create"})
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    create = result.deliveries_for("Chatty", "Create")[0]
    assert result.status == "CREATE_COMPLETE"
    assert len(create.responses) == 2
    assert create.response is create.responses[0]
    assert any("answered 2 times" in problem for problem in result.problems)
    assert result.problems[0].startswith("Chatty (Create)")


def test_handler_answering_after_service_timeout_is_reported_late(app, journal, deployer_factory):
    app.resource(
        "Late",
        {"Name": "late", "Journal": str(journal), "LateOn": "Create", "LateSeconds": "2"},
        service_timeout=1,
    )
    # A grace long enough that the late answer is recorded however slowly the sandbox starts;
    # the handler exits once it answered, so the deployer does not wait it out.
    deployer = deployer_factory(app.write(), late_response_grace_seconds=30)

    result = deployer.deploy()

    create = result.deliveries_for("Late", "Create")[0]
    assert create.failure_kind == FailureKind.LATE_RESPONSE
    assert "after the ServiceTimeout of 1 s" in create.reason
    assert create.response is not None
    assert create.response.status == "SUCCESS"
    assert result.status == "ROLLBACK_COMPLETE"


def test_handler_still_running_at_service_timeout_is_stopped(app, journal, deployer_factory):
    # A function timeout of a minute: only the ServiceTimeout and its grace can stop it early.
    app.function(timeout=60)
    app.resource(
        "Stuck",
        {"Name": "s", "Journal": str(journal), "HangOn": "Create"},
        service_timeout=1,
    )
    deployer = deployer_factory(app.write(), late_response_grace_seconds=0.5)

    started = time.monotonic()
    result = deployer.deploy()

    create = result.deliveries_for("Stuck", "Create")[0]
    assert create.failure_kind == FailureKind.SERVICE_TIMEOUT
    assert create.attempts[0].stopped_by == "deadline"
    assert "within the ServiceTimeout of 1 s" in create.reason
    assert time.monotonic() - started < 30


def test_handler_with_unreadable_body_is_reported_invalid(app, journal, deployer_factory):
    app.resource("Garbled", {"Name": "g", "Journal": str(journal), "GarbageOn": "Create"})
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    create = result.deliveries_for("Garbled", "Create")[0]
    assert create.failure_kind == FailureKind.INVALID_RESPONSE
    assert "not JSON" in create.reason
    assert result.status == "ROLLBACK_COMPLETE"


def test_kill_when_crashes_running_handler_and_lambda_retry_succeeds(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Fragile", {"Name": "f", "Journal": str(journal), "HangOnceOn": "Create"})
    deployer = deployer_factory(app.write(), retry_attempts=1)

    def kill_first_attempt_once_it_started(invocation):
        return invocation.attempt == 1 and bool(journal_reader(journal))

    result = deployer.deploy(kill_when=kill_first_attempt_once_it_started)

    create = result.deliveries_for("Fragile", "Create")[0]
    assert [attempt.stopped_by for attempt in create.attempts] == ["kill_when", None]
    assert create.succeeded
    starts = [entry for entry in journal_reader(journal) if entry["phase"] == "start"]
    assert len(starts) == 2
    assert starts[0]["request_id"] == starts[1]["request_id"]
    assert starts[0]["pid"] != starts[1]["pid"]
    assert result.status == "CREATE_COMPLETE"


def test_deliver_same_event_twice_is_a_redelivery(app, journal, journal_reader, deployer_factory):
    app.resource("Thing", {"Name": "t", "Journal": str(journal)})
    deployer = deployer_factory(app.write())
    deployer.deploy()
    event = deployer.build_event(
        app.stack_name, "Extra", "Create", properties={"Name": "extra", "Journal": str(journal)}
    )

    first = deployer.deliver(app.stack_name, event)
    second = deployer.deliver(app.stack_name, event)

    assert first.succeeded
    assert second.succeeded
    assert first.physical_resource_id == second.physical_resource_id == "Extra-extra"
    assert len(deployer.responses(event)) == 2
    extra = [entry for entry in journal_reader(journal) if entry["logical_id"] == "Extra"]
    assert {entry["request_id"] for entry in extra} == {event.request_id}
    state = deployer.stack_state(app.stack_name)
    assert state is not None
    assert "Extra" not in state.resources


def test_deliver_same_event_concurrently_runs_two_sandboxes(
    app, journal, journal_reader, deployer_factory
):
    app.resource("Thing", {"Name": "t", "Journal": str(journal)})
    deployer = deployer_factory(app.write())
    deployer.deploy()
    event = deployer.build_event(
        app.stack_name,
        "Thing",
        "Update",
        # Each run waits for the other to start, so the two provably overlap.
        properties={"Name": "t", "Journal": str(journal), "AwaitStarts": "2"},
    )
    outcomes = []

    threads = [
        threading.Thread(target=lambda: outcomes.append(deployer.deliver(app.stack_name, event)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [outcome.succeeded for outcome in outcomes] == [True, True]
    first, second = (outcome.attempts[0] for outcome in outcomes)
    assert first.started_at < second.finished_at
    assert second.started_at < first.finished_at
    assert len(deployer.responses(event)) == 2


def test_deliver_malformed_event_is_reported_without_crash(app, journal, deployer_factory):
    app.resource("Thing", {"Name": "t", "Journal": str(journal)})
    deployer = deployer_factory(app.write())
    deployer.deploy()
    event = deployer.build_event(app.stack_name, "Thing", "Create")
    payload = event.payload
    del payload["ResponseURL"]
    malformed = type(event)(payload)

    outcome = deployer.deliver(app.stack_name, malformed)

    assert outcome.failure_kind == FailureKind.NO_RESPONSE
    assert outcome.attempts[0].exit_code == 1
    assert "KeyError" in outcome.reason


def test_deploy_output_never_shows_response_url_query(app, journal, deployer_factory):
    app.handler_source = app.handler_source.replace(
        'RuntimeError("the test handler crashed on purpose")',
        'RuntimeError("crashed answering " + event["ResponseURL"])',
    )
    app.resource("Leaky", {"Name": "l", "Journal": str(journal), "CrashOn": "Create"})
    out = io.StringIO()
    deployer = deployer_factory(app.write(), out=out)

    result = deployer.deploy()

    create = result.deliveries_for("Leaky", "Create")[0]
    assert "X-Amz-Signature=" in create.attempts[0].log
    printed = out.getvalue()
    assert "Leaky's handler log" in printed
    assert "X-Amz-Signature" not in printed
    assert "?REDACTED" in printed
    assert "X-Amz-Signature" not in create.reason
    assert "X-Amz-Signature" not in repr(create.event)


def test_slow_handler_gets_progress_lines_while_deployer_waits(app, journal, deployer_factory):
    app.resource("Slow", {"Name": "s", "Journal": str(journal), "SleepSeconds": "1.5"})
    out = io.StringIO()
    deployer = deployer_factory(app.write(), out=out, progress_interval_seconds=0.5)

    result = deployer.deploy()

    progress = [line for line in out.getvalue().splitlines() if "waiting for the" in line]
    assert result.status == "CREATE_COMPLETE"
    assert len(progress) >= 2
    assert "Slow: waiting for the Create response (attempt 1)" in progress[0]
    assert "function timeout 10 s, ServiceTimeout 3600 s" in progress[0]


def test_on_invocation_hook_sees_every_handler_run(app, journal, deployer_factory):
    app.resource("Crashy", {"Name": "c", "Journal": str(journal), "CrashOn": "Create"})
    seen = []
    deployer = deployer_factory(app.write(), retry_attempts=1, on_invocation=seen.append)

    result = deployer.deploy()

    assert len(seen) == 3
    assert sorted(id(record) for record in seen) == sorted(id(r) for r in result.invocations)
    assert [record.request_type for record in seen] == ["Create", "Create", "Delete"]
