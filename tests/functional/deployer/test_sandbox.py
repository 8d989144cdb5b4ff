"""The Lambda-like sandbox: import path, environment, context, logging, crhelper over TLS."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lookout_retraining.local.deployer import FailureKind

INTROSPECTING_HANDLER = """
import hashlib
import http.client
import importlib.util
import json
import logging
import os
import ssl
import sys
import urllib.parse


def handler(event, context):
    logging.getLogger("introspect").warning("introspection for %s", event["LogicalResourceId"])
    names = ("boto3", "botocore", "urllib3", "dateutil", "jmespath", "s3transfer", "crhelper",
             "pytest", "lookout_retraining", "cryptography", "isodate")
    data = {
        "Path": json.dumps(sys.path),
        "RuntimeDir": os.environ["LAMBDA_RUNTIME_DIR"],
        "RuntimeEntries": json.dumps(sorted(os.listdir(os.environ["LAMBDA_RUNTIME_DIR"]))),
        "Found": json.dumps({name: importlib.util.find_spec(name) is not None for name in names}),
        "EnvKeys": ",".join(sorted(os.environ)),
        "Region": os.environ.get("AWS_REGION"),
        "Endpoint": os.environ.get("AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT"),
        "TokenHash": hashlib.sha256(os.environ["AWS_SESSION_TOKEN"].encode()).hexdigest(),
        "Remaining": context.get_remaining_time_in_millis(),
        "FunctionName": context.function_name,
        "FunctionArn": context.invoked_function_arn,
        "LogGroup": context.log_group_name,
        "LogStream": context.log_stream_name,
        "Cwd": os.getcwd(),
        "Isolated": sys.flags.isolated,
        "NoSite": sys.flags.no_site,
        "RootHandlers": len(logging.getLogger().handlers),
    }
    body = json.dumps({
        "Status": "SUCCESS", "PhysicalResourceId": "introspected", "StackId": event["StackId"],
        "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    })
    url = urllib.parse.urlsplit(event["ResponseURL"])
    connection = http.client.HTTPSConnection(url.netloc, context=ssl.create_default_context())
    connection.request("PUT", url.path + "?" + url.query, body=body)
    connection.getresponse().read()
"""


@pytest.fixture
def introspection(app, deployer_factory, monkeypatch):
    """Deploy one resource with the introspecting handler; return (deployer, result, data)."""
    monkeypatch.setenv("DEPLOYER_TEST_CALLER_SECRET", "must-not-leak")
    monkeypatch.setenv("AWS_PROFILE", "developer-profile")
    app.handler_source = INTROSPECTING_HANDLER
    app.function(timeout=7)
    app.resource("Probe", {"Name": "p"})
    deployer = deployer_factory(app.write(), endpoint_url="http://127.0.0.1:9")
    result = deployer.deploy()
    assert result.status == "CREATE_COMPLETE", result.deliveries[0].reason
    return deployer, result, result.deliveries[0].data


def test_sandbox_imports_asset_boto3_and_standard_library_only(introspection):
    deployer, _, data = introspection

    found = json.loads(data["Found"])
    path = json.loads(data["Path"])

    assert {name for name, present in found.items() if present} == {
        "boto3",
        "botocore",
        "urllib3",
        "dateutil",
        "jmespath",
        "s3transfer",
    }
    assert path[0] == data["Cwd"]
    assert path[0].startswith(str(deployer.store.directory / "assets"))
    assert not any("site-packages" in entry for entry in path)
    assert (data["Isolated"], data["NoSite"]) == (1, 1)


def test_sandbox_import_path_is_asset_then_standard_library_then_runtime(introspection):
    deployer, _, data = introspection
    # What this interpreter puts on the path with no site-packages and no script folder.
    standard_library = json.loads(
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", "import json, sys; print(json.dumps(sys.path))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )

    path = json.loads(data["Path"])

    runtime_dir = Path(data["RuntimeDir"])
    assert path == [data["Cwd"], *standard_library, str(runtime_dir)]
    assert Path(data["Cwd"]).is_relative_to(deployer.store.directory / "assets")
    assert runtime_dir.name == "runtime"
    assert runtime_dir.parent.name.startswith("lookout-lambda-runtime-")


def test_sandbox_runtime_folder_holds_boto3_and_its_dependencies_only(introspection):
    _, _, data = introspection

    entries = json.loads(data["RuntimeEntries"])

    # boto3 and what it needs to run: no dist-info, no bootstrap, nothing from the asset.
    assert entries == [
        "boto3",
        "botocore",
        "dateutil",
        "jmespath",
        "s3transfer",
        "six.py",
        "urllib3",
    ]


def test_sandbox_environment_is_lambda_like_without_caller_variables(introspection):
    deployer, _, data = introspection

    keys = set(data["EnvKeys"].split(","))

    assert "DEPLOYER_TEST_CALLER_SECRET" not in keys
    assert "AWS_PROFILE" not in keys
    assert {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_TIMEOUT",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "LAMBDA_TASK_ROOT",
        "SSL_CERT_FILE",
        "LOG_LEVEL",
    } <= keys
    assert data["Region"] == "us-east-1"
    assert data["Endpoint"] == "http://127.0.0.1:9"
    token = deployer.credentials["AWS_SESSION_TOKEN"]
    assert data["TokenHash"] == hashlib.sha256(token.encode()).hexdigest()


def test_sandbox_context_counts_down_from_function_timeout(introspection):
    deployer, result, data = introspection

    function = deployer.stack_state(result.stack_name).resources["Handler"]

    assert 5000 < data["Remaining"] <= 7000
    assert data["FunctionName"] == function.physical_id
    assert data["FunctionArn"] == function.attributes["Arn"]
    assert data["LogGroup"] == f"/aws/lambda/{function.physical_id}"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", data["LogStream"])


def test_sandbox_root_logger_writes_lambda_text_lines_to_the_log(introspection):
    _, result, data = introspection

    attempt = result.invocations[0]

    assert data["RootHandlers"] == 1
    pattern = (
        r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t"
        + re.escape(attempt.aws_request_id)
        + r"\tintrospection for Probe"
    )
    assert any(re.fullmatch(pattern, line) for line in attempt.log_lines)
    assert attempt.log_lines[0] == f"START RequestId: {attempt.aws_request_id} Version: $LATEST"
    assert attempt.log_lines[-1].startswith(f"REPORT RequestId: {attempt.aws_request_id}")


def test_invocation_log_is_kept_under_the_state_directory(introspection):
    deployer, result, _ = introspection

    attempt = result.invocations[0]

    assert attempt.log_file is not None
    assert attempt.log_file.is_relative_to(deployer.store.directory / "logs" / result.stack_name)
    assert attempt.log_file.read_text().splitlines() == attempt.log_lines


def test_crhelper_handler_answers_over_tls_with_data(app, deployer_factory):
    app.use_crhelper_handler()
    app.resource("Greeter", {"Name": "world"})
    deployer = deployer_factory(app.write())

    created = deployer.deploy()
    app.set_property("Greeter", "Fail", "true")
    failed_update = deployer.deploy(assembly_dir=app.write())

    assert created.status == "CREATE_COMPLETE"
    state_after_create = created.deliveries[0]
    assert state_after_create.physical_resource_id == "crhelper-world"
    assert state_after_create.data == {"Greeting": "hello world"}
    assert any('"crhelper Create for Greeter"' in line for line in created.invocations[0].log_lines)
    update = failed_update.deliveries_for("Greeter", "Update")[0]
    assert update.failure_kind == FailureKind.FAILED_RESPONSE
    assert "crhelper handler failed on purpose" in update.reason
    assert failed_update.status == "UPDATE_ROLLBACK_COMPLETE"


def test_deploy_function_with_other_runtime_is_not_invoked(app, journal, deployer_factory):
    app.function(runtime="nodejs20.x")
    app.resource("Thing", {"Name": "t", "Journal": str(journal)})
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    create = result.deliveries_for("Thing", "Create")[0]
    assert create.failure_kind == FailureKind.NOT_INVOKED
    assert "Python functions only" in create.reason
    assert result.deliveries_for("Thing", "Delete") == []
    assert not journal.exists()


def test_asset_without_its_dependencies_fails_to_import_as_in_lambda(app, deployer_factory):
    app.use_crhelper_handler()
    app.with_crhelper = False
    app.resource("Greeter", {"Name": "world"})
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    create = result.deliveries_for("Greeter", "Create")[0]
    assert create.failure_kind == FailureKind.NO_RESPONSE
    assert create.attempts[0].exit_code == 2
    assert "Runtime.ImportModuleError: Unable to import module 'index'" in create.reason
    assert "No module named 'crhelper'" in create.reason


def test_handler_string_naming_no_function_is_reported(app, journal, deployer_factory):
    app.resources["Handler"]["Properties"]["Handler"] = "index.missing"
    app.resource("Thing", {"Name": "t", "Journal": str(journal)})
    deployer = deployer_factory(app.write())

    result = deployer.deploy()

    create = result.deliveries_for("Thing", "Create")[0]
    assert "Runtime.HandlerNotFound: Handler 'missing' missing on module 'index'" in create.reason
    assert "NoneType" not in create.attempts[0].log
