"""``python -m lookout_retraining.local.emulator`` runs the emulator standalone."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lookout_retraining.local.emulator.__main__ import main

REQUEST = {"RetrainingFrequency": "P30D", "LookbackWindow": "P180D"}
# One attempt per call, so that each refusal the command's flags cause is seen as it is.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def run_emulator():
    """Start the command with arguments; yield its endpoint URL; stop it with SIGTERM."""
    processes = []

    def start(*arguments):
        process = subprocess.Popen(
            [sys.executable, "-m", "lookout_retraining.local.emulator", "--port", "0", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        return process, process.stdout.readline().strip()

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_command_serves_with_flags_and_saves_state(run_emulator, aws_session, tmp_path):
    state_file = tmp_path / "state.json"
    process, endpoint_url = run_emulator(
        "--no-create-starts-scheduler",
        "--account-id",
        "210987654321",
        "--state-file",
        str(state_file),
        "--delay",
        "DescribeModel=0.5",
        "--log-level",
        "DEBUG",
    )
    client = aws_session.client("lookoutequipment", endpoint_url=endpoint_url)

    created_model = client.create_model(ModelName="pump-1", DatasetName="plant")
    created = client.create_retraining_scheduler(ModelName="pump-1", **REQUEST)
    describe_started = time.monotonic()
    described = client.describe_model(ModelName="pump-1")
    describe_seconds = time.monotonic() - describe_started
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)

    assert endpoint_url.startswith("http://127.0.0.1:")
    assert ":210987654321:model/pump-1/" in created_model["ModelArn"]
    assert created["Status"] == "STOPPED"
    assert described["RetrainingSchedulerStatus"] == "STOPPED"
    # The delayed response cannot arrive before the delay has passed.
    assert describe_seconds >= 0.5
    assert process.returncode == 0
    assert "listening on" in stderr
    saved = json.loads(state_file.read_text())
    assert [item["status"] for item in saved["schedulers"]] == ["STOPPED"]


def test_command_status_delays_and_update_switch_change_answers(run_emulator, aws_session):
    # Delays of ten minutes hold PENDING and STOPPING for the whole test, where the default of
    # 0 would show RUNNING and STOPPED at once.
    _, endpoint_url = run_emulator(
        "--update-requires-stopped", "--pending-seconds", "600", "--stopping-seconds", "600"
    )
    client = aws_session.client("lookoutequipment", endpoint_url=endpoint_url, config=NO_RETRIES)
    client.create_model(ModelName="pump-1", DatasetName="plant")

    created = client.create_retraining_scheduler(ModelName="pump-1", **REQUEST)
    pending = client.describe_retraining_scheduler(ModelName="pump-1")["Status"]
    with pytest.raises(ClientError) as refused_update:
        client.update_retraining_scheduler(ModelName="pump-1", LookbackWindow="P360D")
    client.stop_retraining_scheduler(ModelName="pump-1")
    stopping = client.describe_retraining_scheduler(ModelName="pump-1")["Status"]

    assert (created["Status"], pending, stopping) == ("PENDING", "PENDING", "STOPPING")
    error = refused_update.value.response["Error"]
    assert error["Code"] == "ConflictException"
    assert "runs with update_requires_stopped" in error["Message"]


def test_command_rate_limit_throttles_calls_beyond_it(run_emulator, aws_session):
    # One call per thousand seconds: the burst of one call is spent, and no refill comes.
    _, endpoint_url = run_emulator("--rate-limit", "0.001")
    client = aws_session.client("lookoutequipment", endpoint_url=endpoint_url, config=NO_RETRIES)

    listed = client.list_retraining_schedulers()
    with pytest.raises(ClientError) as throttled:
        client.list_retraining_schedulers()

    assert listed["RetrainingSchedulerSummaries"] == []
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert throttled.value.response["Error"] == {
        "Code": "ThrottlingException",
        "Message": "Rate exceeded: the emulator admits 0.001 calls per second",
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--host", "0.0.0.0"], "binds loopback addresses only"),  # noqa: S104 - refused here
        (["--delay", "DescribeModel"], "must read OPERATION=SECONDS"),
        (["--delay", "DescribeModel=soon"], "must read OPERATION=SECONDS"),
        (["--delay", "DescribeModels=1"], "did you mean DescribeModel?"),
        (["--pending-seconds", "-1"], "pending_seconds"),
        (["--rate-limit", "0"], "positive number"),
    ],
)
def test_command_bad_arguments_exit_with_usage_error(capsys, arguments, message):
    with pytest.raises(SystemExit) as caught:
        main(arguments)

    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_command_unreadable_state_file_exits_with_usage_error(capsys, tmp_path):
    state_file = tmp_path / "state.json"
    state_file.write_text("not json")

    with pytest.raises(SystemExit) as caught:
        main(["--state-file", str(state_file)])

    assert caught.value.code == 2
    assert "cannot be loaded" in capsys.readouterr().err
