"""The ``lookout-retraining-local`` command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import boto3
import pytest

from lookout_retraining.local.cli import main


def _cli(tmp_path, *arguments):
    return main([*arguments, "--state-dir", str(tmp_path / "state")])


def _serve_emulator(state_file, model_name):
    """Start ``lookout-retraining-local emulator``; it prints its endpoint URL first."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lookout_retraining.local.cli",
            "emulator",
            "--state-file",
            str(state_file),
            "--create-model",
            model_name,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_cli_deploy_status_destroy_round_trip_exits_zero(app, journal, tmp_path, capsys):
    app.resource("Thing", {"Name": "t", "Journal": str(journal)})
    assembly = app.write()

    deployed = _cli(tmp_path, "deploy", "--app-dir", str(assembly), "--create-model", "pump-1")
    deploy_output = capsys.readouterr().out
    status = _cli(tmp_path, "status")
    status_output = capsys.readouterr().out
    destroyed = _cli(tmp_path, "destroy")
    destroy_output = capsys.readouterr().out
    _cli(tmp_path, "status")
    final_output = capsys.readouterr().out

    assert (deployed, status, destroyed) == (0, 0, 0)
    assert "created model pump-1" in deploy_output
    assert "CREATE_COMPLETE" in deploy_output
    assert f"{app.stack_name}: CREATE_COMPLETE in" in deploy_output
    assert "Thing-t" in status_output
    assert "DELETE_COMPLETE" in destroy_output
    assert "no stack is deployed" in final_output
    assert (tmp_path / "state" / "emulator-state.json").exists()


def test_cli_failed_deploy_exits_one(app, journal, tmp_path, capsys):
    app.resource("Thing", {"Name": "t", "Journal": str(journal), "FailOn": "Create"})

    status = _cli(tmp_path, "deploy", "--app-dir", str(app.write()), "--quiet")

    assert status == 1
    assert "ROLLBACK_COMPLETE" in capsys.readouterr().out


def test_cli_handler_answering_twice_exits_three(app, journal, tmp_path, capsys):
    app.resource("Thing", {"Name": "t", "Journal": str(journal), "TwiceOn": "Create"})

    status = _cli(tmp_path, "deploy", "--app-dir", str(app.write()))

    assert status == 3
    assert "problem: Thing (Create): the handler answered 2 times" in capsys.readouterr().out


def test_cli_failed_cleanup_delete_exits_three(app, journal, tmp_path, capsys):
    app.resource("Thing", {"Name": "t", "Journal": str(journal), "FailOn": "Delete"})
    assert _cli(tmp_path, "deploy", "--app-dir", str(app.write()), "--quiet") == 0
    app.set_property("Thing", "Name", "u")
    capsys.readouterr()

    status = _cli(tmp_path, "deploy", "--app-dir", str(app.write()))

    output = capsys.readouterr().out
    assert status == 3
    assert f"{app.stack_name}: UPDATE_COMPLETE in" in output
    assert "problem: Thing: the cleanup Delete of Thing-t failed" in output


def test_cli_parameters_apply_to_their_stack_only(app, journal, journal_reader, tmp_path):
    app.parameters = {"Size": {"Type": "String", "Default": "small"}}
    app.resource("Thing", {"Name": "t", "Journal": str(journal), "Size": {"Ref": "Size"}})

    status = _cli(
        tmp_path,
        "deploy",
        "--app-dir",
        str(app.write()),
        "--parameters",
        f"{app.stack_name}:Size=large",
        "--parameters",
        "OtherStack:Size=huge",
        "--quiet",
    )

    assert status == 0
    assert journal_reader(journal)[0]["properties"]["Size"] == "large"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["deploy", "--max-concurrency", "many"], "argument --max-concurrency: invalid int"),
        (
            ["destroy", "--emulator-url", "http://127.0.0.1:8700", "--emulator-state", "s.json"],
            "argument --emulator-state: not allowed with argument --emulator-url",
        ),
        (["status", "--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_cli_usage_error_exits_two_and_says_why(capsys, arguments, message):
    with pytest.raises(SystemExit) as caught:
        main(arguments)

    assert caught.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("usage: lookout-retraining-local")
    assert message in error


def test_cli_unknown_stack_exits_one_naming_the_stacks(app, tmp_path, capsys):
    status = _cli(tmp_path, "deploy", "--app-dir", str(app.write()), "--stack", "Nope")

    assert status == 1
    assert f"has no stack 'Nope' (stacks: {app.stack_name})" in capsys.readouterr().err


def test_cli_status_json_holds_the_stack_state(app, journal, tmp_path, capsys):
    app.resource("Thing", {"Name": "t", "Journal": str(journal)})
    _cli(tmp_path, "deploy", "--app-dir", str(app.write()), "--create-model", "m", "--quiet")
    capsys.readouterr()

    _cli(tmp_path, "status", "--json")

    document = json.loads(capsys.readouterr().out)
    stack = document["stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Resources"]["Thing"]["PhysicalResourceId"] == "Thing-t"
    assert document["schedulers"] == []


def test_cli_emulator_serves_until_terminated(tmp_path):
    state_file = tmp_path / "emulator.json"
    process = _serve_emulator(state_file, "pump-1")
    try:
        endpoint_url = process.stdout.readline().strip()
        client = boto3.client(
            "lookoutequipment",
            endpoint_url=endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="AKIACLITESTKEY000001",
            aws_secret_access_key="cli-test-secret",
        )
        model = client.describe_model(ModelName="pump-1")
    finally:
        process.send_signal(signal.SIGTERM)
        exit_status = process.wait(timeout=10)

    assert endpoint_url.startswith("http://127.0.0.1:")
    assert model["ModelName"] == "pump-1"
    assert exit_status == 0
    assert state_file.exists()


def test_cli_deploy_while_emulator_holds_its_state_file_fails_naming_it(app, journal, tmp_path):
    state_file = tmp_path / "state" / "emulator-state.json"
    app.resource("Thing", {"Name": "t", "Journal": str(journal)})
    serving = _serve_emulator(state_file, "pump-1")
    try:
        serving.stdout.readline()
        deploying = subprocess.run(
            [
                sys.executable,
                "-m",
                "lookout_retraining.local.cli",
                "deploy",
                "--app-dir",
                str(app.write()),
                "--state-dir",
                str(tmp_path / "state"),
                "--create-model",
                "pump-2",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        serving.send_signal(signal.SIGTERM)
        serving.wait(timeout=10)
    saved = json.loads(state_file.read_text())

    assert deploying.returncode == 1
    assert f"State file {state_file} is in use by another emulator" in deploying.stderr
    assert [model["model_name"] for model in saved["models"]] == ["pump-1"]
    assert not journal.exists()
