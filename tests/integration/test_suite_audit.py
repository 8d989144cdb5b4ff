"""The suite-wide audit catches what it is there to catch: a leaked secret and an ungranted call.

Every other test passes as long as the audit finds nothing, so it would pass too if the audit's
hooks stopped firing. These tests plant breaches on purpose, through the hooks that watch the
rest of the suite (the emulator's call log, the LocalDeployer's invocation hook, the audit that
the handler harness reports to), and check that the audit records each one. They plant inside
``AUDIT.set_aside()``, which moves what the block recorded to an audit of its own: the planted
breaches fail neither the test nor the session, and stay out of the session's summary.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from end_to_end import Declared, synthesize
from handler_harness import (
    FAKE_ACCESS_KEY_ID,
    FAKE_SECRET_ACCESS_KEY,
    FAKE_SESSION_TOKEN,
    LOGICAL_ID,
    STACK_ID,
)
from suite_audit import AUDIT, response_url_secrets

from lookout_retraining.local.deployer.reporting import redact_url

STACK = "LeakyStack"
# Printed, not logged: the handler's JSON formatter would mask a presigned URL's signature and
# an access key id, and this stands for a leak that goes around it.
PLANTED_LEAK = """

_handler_without_leak = handler


def handler(event, context):
    print("planted: ResponseURL", event["ResponseURL"], flush=True)
    print("planted: secret key", os.environ["AWS_SECRET_ACCESS_KEY"], flush=True)
    return _handler_without_leak(event, context)
"""
# Shaped like a temporary access key id, and not one of the run's own credentials.
OTHER_ACCESS_KEY_ID = "ASIAZZZZ4EXAMPLE0001"
SUPPORT = Path(__file__).resolve().parents[1] / "support"
LEAKS = {
    "response-url": lambda url: f'{{"message": "sending the response to {url}"}}',
    "signature": lambda url: f"signed {url.rsplit('X-Amz-Signature=', 1)[1]}",
    "access-key-id": lambda url: f"client built with {OTHER_ACCESS_KEY_ID}",
    "secret-key": lambda url: f"credentials: {FAKE_SECRET_ACCESS_KEY}",
    "session-token": lambda url: f"token={FAKE_SESSION_TOKEN}",
}
"""A log line that leaks each kind of secret, given the run's ResponseURL."""


@pytest.fixture
def response_url(recorder):
    """A ResponseURL issued by the recorder, with its presigned query string."""
    return recorder.new_url(STACK_ID, LOGICAL_ID, "audit-self-test")


@pytest.fixture
def run_secrets(response_url):
    """What a handler run must not log: its credentials and its ResponseURL's query string."""
    return [
        FAKE_ACCESS_KEY_ID,
        FAKE_SECRET_ACCESS_KEY,
        FAKE_SESSION_TOKEN,
        *response_url_secrets(response_url),
    ]


@pytest.fixture
def handler_client(lookout_client_factory):
    """A client signed with the handler harness's access key, as the handler's calls are."""
    return lookout_client_factory(
        aws_access_key_id=FAKE_ACCESS_KEY_ID, aws_secret_access_key=FAKE_SECRET_ACCESS_KEY
    )


@pytest.mark.parametrize("leak", LEAKS)
def test_audit_log_line_with_secret_records_breach(response_url, run_secrets, leak):
    leaking = LEAKS[leak](response_url)

    with AUDIT.set_aside() as caught:
        leaks = AUDIT.see_log("in-process", "the audit's self-test", [leaking], run_secrets)

    assert leaks == [leaking]
    assert caught.breaches == [
        f"a in-process handler run of the audit's self-test logged a secret: {leaking[:200]}"
    ]
    assert caught.runs["in-process"] == 1
    assert caught.log_lines == 1
    # Set aside: the teardown check and the session's summary see nothing of it.
    assert leaking not in " ".join(AUDIT.breaches)


def test_audit_log_line_with_redacted_url_records_nothing(response_url, run_secrets):
    lines = [
        f'{{"message": "answered SUCCESS on {redact_url(response_url)}"}}',
        '{"level": "INFO", "message": "Create of PumpRetraining: SUCCESS"}',
    ]

    with AUDIT.set_aside() as caught:
        leaks = AUDIT.see_log("in-process", "the audit's self-test", lines, run_secrets)

    assert leaks == []
    assert caught.breaches == []
    assert caught.log_lines == 2


def test_audit_handler_call_outside_policy_records_breach(emulator, handler_client):
    with AUDIT.set_aside() as caught:
        handler_client.list_retraining_schedulers()

    assert caught.calls == {"ListRetrainingSchedulers": 1}
    assert caught.breaches == [
        "the handler called ListRetrainingSchedulers (model None), which the provider's policy "
        "does not grant"
    ]
    assert "ListRetrainingSchedulers" not in " ".join(AUDIT.breaches)


def test_audit_granted_or_tests_own_call_records_no_breach_and_summary_lists_unused(
    emulator, handler_client, lookout_client
):
    emulator.create_model("pump-1")

    with AUDIT.set_aside() as caught:
        with pytest.raises(handler_client.exceptions.ResourceNotFoundException):
            handler_client.describe_retraining_scheduler(ModelName="pump-1")
        # Signed with the tests' own key: a setup call, not the handler's.
        lookout_client.list_retraining_schedulers()

    assert caught.calls == {"DescribeRetrainingScheduler": 1}
    assert caught.breaches == []
    (unused,) = (line for line in caught.summary_lines() if line.startswith("granted operations"))
    assert unused.startswith(
        "granted operations never called: CreateRetrainingScheduler, DeleteRetrainingScheduler, "
        "StartRetrainingScheduler, StopRetrainingScheduler, UpdateRetrainingScheduler (not a "
        "failure"
    )


@pytest.mark.synth
def test_audit_sandboxed_handler_printing_response_url_and_key_records_breaches(
    emulator, deployer_for, tmp_path
):
    # Given the construct's own asset, whose handler prints its ResponseURL and secret key
    emulator.create_model("leaky-1")
    app = synthesize(tmp_path / "app", STACK, [Declared("Leaky", "leaky-1")])
    (handler_file,) = app.outdir.glob("asset.*/lookout_retraining_handler/handler.py")
    handler_file.write_text(handler_file.read_text() + PLANTED_LEAK)
    deployer = deployer_for()

    # When the stack is deployed and destroyed in the deployer's sandboxes
    with AUDIT.set_aside() as caught:
        deployed = deployer.deploy(STACK, assembly_dir=app.outdir)
        destroyed = deployer.destroy(STACK)

    # Then every leaked line of every run is a breach, and the leak changed nothing else
    assert deployed.succeeded, deployed.status_reason
    assert destroyed.succeeded, destroyed.status_reason
    logical_id = app.logical_ids["Leaky"]
    planted = {
        (match["request_type"], match["what"])
        for breach in caught.breaches
        if (
            match := re.fullmatch(
                rf"a sandboxed handler run of {logical_id} \((?P<request_type>\w+)\) logged a "
                r"secret: planted: (?P<what>ResponseURL|secret key) .+",
                breach,
            )
        )
    }
    assert planted == {
        ("Create", "ResponseURL"),
        ("Create", "secret key"),
        ("Delete", "ResponseURL"),
        ("Delete", "secret key"),
    }
    assert len(caught.breaches) == 4
    assert caught.runs["sandboxed"] == len(deployed.invocations) + len(destroyed.invocations)
    assert {"CreateRetrainingScheduler", "DeleteRetrainingScheduler"} <= set(caught.calls)


def test_audit_breach_not_set_aside_fails_its_test_and_the_session(pytester):
    # Given a session with the audit plugin, as tests/conftest.py loads it
    pytester.makeconftest(
        f"import sys\nsys.path.insert(0, {str(SUPPORT)!r})\npytest_plugins = ('suite_audit',)\n"
    )
    pytester.makepyfile(
        test_planted=f"""
        from suite_audit import AUDIT

        def test_leaks():
            AUDIT.see_log("in-process", "a planted run", ["key {OTHER_ACCESS_KEY_ID}"], [])

        def test_after():
            pass
        """
    )

    # When it runs a test during which a handler run logged a secret
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")

    # Then that test errors at its teardown, the next one passes, and the session fails
    result.assert_outcomes(passed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaks*",
            f"*1 audit breach(es): a in-process handler run of a planted run logged a secret: "
            f"key {OTHER_ACCESS_KEY_ID}*",
        ]
    )
