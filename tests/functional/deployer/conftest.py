"""Fixtures for the local deployer's tests: hand-written cloud assemblies and test handlers.

Each test writes its own ``cdk.out``: a template with one Python function and the custom
resources it serves, an asset manifest, and an ``asset.<hash>/`` folder holding a small
handler. The handler's behaviour is steered by the resource's properties, so one handler can
answer, fail, stay silent, crash, hang, answer twice or answer late, per request type:

- ``Name``: the physical id is ``<LogicalResourceId>-<Name>`` (a new Name means replacement);
  ``PhysicalId`` overrides it.
- ``FailOn``, ``SilentOn``, ``CrashOn``, ``HangOn``, ``TwiceOn``, ``LateOn``,
  ``HangOnceOn``, ``GarbageOn``: comma-separated request types (``Create,Update,Delete``)
  on which it answers FAILED, returns without answering, raises, sleeps until killed,
  answers twice, answers after ``LateSeconds``, hangs on the first delivery of a RequestId
  only, or answers with a body that is not JSON.
- ``CrashAfterAnswerOn``, ``HangAfterAnswerOn``: answers, then raises or sleeps until killed.
- ``LingerOn``: starts a non-daemon thread that sleeps a minute, then answers and returns.
- ``SleepSeconds``: sleep before answering.
- ``AwaitStarts``: before answering, wait until the journal holds that many runs of the same
  request type, so that handlers provably overlap however slow the machine is (one that waits
  in vain is stopped by the function's timeout).
- ``Data``: an object returned as the response's Data.
- ``Journal``: a file to which each run appends a JSON line (request type, logical id,
  physical ids, properties, start and end times, process id).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import crhelper
import pytest

from lookout_retraining.local.deployer import LocalDeployer

if TYPE_CHECKING:
    from collections.abc import Iterator

STACK_NAME = "DeployerTestStack"
RESOURCE_TYPE = "Custom::TestResource"
FUNCTION_ID = "Handler"

RAW_HANDLER = """
import http.client
import json
import os
import ssl
import threading
import time
import urllib.parse


def _types(properties, key):
    return [item.strip() for item in str(properties.get(key, "")).split(",") if item.strip()]


def _journal(properties, entry):
    path = properties.get("Journal")
    if path:
        with open(path, "a", encoding="utf-8") as journal:
            journal.write(json.dumps(entry) + "\\n")


def _journal_entries(properties):
    path = properties.get("Journal")
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as journal:
        return [json.loads(line) for line in journal if line.strip()]


def _started(properties, request_type):
    path = properties.get("Journal")
    if not path or not os.path.exists(path):
        return 0
    count = 0
    with open(path, encoding="utf-8") as journal:
        for line in journal:
            try:
                entry = json.loads(line)
            except ValueError:
                # A line another handler is writing right now.
                continue
            count += entry["phase"] == "start" and entry["request_type"] == request_type
    return count


def send(event, status, physical_id, data=None, reason=""):
    put(event, json.dumps({
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data or {},
    }))


def put(event, body):
    url = urllib.parse.urlsplit(event["ResponseURL"])
    connection = http.client.HTTPSConnection(
        url.netloc, context=ssl.create_default_context(), timeout=10
    )
    connection.request("PUT", url.path + "?" + url.query, body=body, headers={"content-type": ""})
    connection.getresponse().read()


def handler(event, context):
    started = time.time()
    request_type = event["RequestType"]
    properties = event["ResourceProperties"]
    physical_id = properties.get("PhysicalId") or (
        event["LogicalResourceId"] + "-" + str(properties.get("Name", "x"))
    )
    if request_type == "Delete":
        physical_id = event["PhysicalResourceId"]
    print("handling", request_type, event["LogicalResourceId"], "remaining",
          context.get_remaining_time_in_millis())
    earlier = [e for e in _journal_entries(properties) if e["request_id"] == event["RequestId"]]
    _journal(properties, {
        "request_type": request_type,
        "logical_id": event["LogicalResourceId"],
        "request_id": event["RequestId"],
        "physical_id": physical_id,
        "event_physical_id": event.get("PhysicalResourceId"),
        "properties": properties,
        "old_properties": event.get("OldResourceProperties"),
        "phase": "start",
        "time": started,
        "pid": os.getpid(),
    })
    if request_type in _types(properties, "HangOn") or (
        request_type in _types(properties, "HangOnceOn") and not earlier
    ):
        while True:
            time.sleep(0.05)
    while _started(properties, request_type) < int(properties.get("AwaitStarts", 0)):
        time.sleep(0.02)
    if request_type in _types(properties, "LingerOn"):
        threading.Thread(target=time.sleep, args=(60,), name="lingering").start()
    time.sleep(float(properties.get("SleepSeconds", 0)))
    if request_type in _types(properties, "CrashOn"):
        raise RuntimeError("the test handler crashed on purpose")
    if request_type in _types(properties, "SilentOn"):
        return
    if request_type in _types(properties, "GarbageOn"):
        put(event, "this is not JSON")
        return
    if request_type in _types(properties, "LateOn"):
        time.sleep(float(properties.get("LateSeconds", 2)))
    status = "FAILED" if request_type in _types(properties, "FailOn") else "SUCCESS"
    data = properties.get("Data") or {}
    send(event, status, physical_id, data, "the test handler failed on purpose"
         if status == "FAILED" else "")
    if request_type in _types(properties, "TwiceOn"):
        send(event, status, physical_id, data)
    if request_type in _types(properties, "CrashAfterAnswerOn"):
        raise RuntimeError("the test handler crashed after answering, on purpose")
    if request_type in _types(properties, "HangAfterAnswerOn"):
        while True:
            time.sleep(0.05)
    _journal(properties, {"request_type": request_type, "logical_id": event["LogicalResourceId"],
                          "request_id": event["RequestId"], "phase": "end", "time": time.time(),
                          "physical_id": physical_id, "pid": os.getpid()})
"""

CRHELPER_HANDLER = """
import logging

from crhelper import CfnResource

logger = logging.getLogger(__name__)
helper = CfnResource(json_logging=True, log_level="INFO", sleep_on_delete=0)


@helper.create
@helper.update
def create_or_update(event, context):
    logger.info("crhelper %s for %s", event["RequestType"], event["LogicalResourceId"])
    if event["ResourceProperties"].get("Fail") == "true":
        raise ValueError("crhelper handler failed on purpose")
    helper.Data["Greeting"] = "hello " + event["ResourceProperties"]["Name"]
    return "crhelper-" + event["ResourceProperties"]["Name"]


@helper.delete
def delete(event, context):
    logger.info("crhelper Delete for %s", event["PhysicalResourceId"])


def handler(event, context):
    helper(event, context)
"""


class AppBuilder:
    """Write a one-stack cloud assembly around a test handler.

    Parameters
    ----------
    root:
        A temporary folder; each :meth:`write` makes a new assembly folder under it.
    """

    stack_name = STACK_NAME
    resource_type = RESOURCE_TYPE

    def __init__(self, root: Path) -> None:
        self.root = root
        self.resources: dict[str, dict[str, Any]] = {}
        self.parameters: dict[str, Any] = {}
        self.conditions: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.handler_source = RAW_HANDLER
        self.with_crhelper = False
        self._writes = 0
        self.function()

    def function(
        self,
        logical_id: str = FUNCTION_ID,
        *,
        timeout: int = 10,
        environment: dict[str, str] | None = None,
        runtime: str = "python3.13",
    ) -> AppBuilder:
        """Declare the Python function (its role too), as CDK renders one."""
        self.resources[f"{logical_id}Role"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Action": "sts:AssumeRole",
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                        }
                    ],
                    "Version": "2012-10-17",
                }
            },
        }
        self.resources[logical_id] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {
                    "S3Bucket": {
                        "Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"
                    },
                    "S3Key": "ASSET_KEY",
                },
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": [f"{logical_id}Role", "Arn"]},
                "Runtime": runtime,
                "Timeout": timeout,
                "Environment": {"Variables": environment or {"LOG_LEVEL": "INFO"}},
            },
            "DependsOn": [f"{logical_id}Role"],
        }
        return self

    def resource(
        self,
        logical_id: str,
        properties: dict[str, Any] | None = None,
        *,
        resource_type: str = RESOURCE_TYPE,
        depends_on: list[str] | None = None,
        deletion_policy: str | None = None,
        update_replace_policy: str | None = None,
        service_timeout: int | None = None,
        function: str = FUNCTION_ID,
    ) -> AppBuilder:
        """Declare a custom resource served by ``function``."""
        resource_properties: dict[str, Any] = {
            "ServiceToken": {"Fn::GetAtt": [function, "Arn"]},
            "Name": "one",
        }
        if service_timeout is not None:
            resource_properties["ServiceTimeout"] = str(service_timeout)
        resource_properties.update(properties or {})
        resource: dict[str, Any] = {"Type": resource_type, "Properties": resource_properties}
        if depends_on:
            resource["DependsOn"] = depends_on
        if deletion_policy:
            resource["DeletionPolicy"] = deletion_policy
        if update_replace_policy:
            resource["UpdateReplacePolicy"] = update_replace_policy
        self.resources[logical_id] = resource
        return self

    def use_crhelper_handler(self) -> AppBuilder:
        """Serve the custom resources with a crhelper handler; the asset carries crhelper."""
        self.handler_source = CRHELPER_HANDLER
        self.with_crhelper = True
        self.resources[FUNCTION_ID]["Properties"]["Environment"]["Variables"]["AWS_SAM_LOCAL"] = (
            "true"
        )
        return self

    def set_property(self, logical_id: str, name: str, value: Any) -> AppBuilder:
        """Change one property of a declared resource."""
        self.resources[logical_id]["Properties"][name] = value
        return self

    def remove(self, logical_id: str) -> AppBuilder:
        """Take a resource out of the template."""
        del self.resources[logical_id]
        return self

    def write(self) -> Path:
        """Write the assembly to a new folder and return that folder."""
        self._writes += 1
        out = self.root / f"cdk.out.{self._writes}"
        source = self.root / f"handler-source.{self._writes}"
        source.mkdir(parents=True)
        (source / "index.py").write_text(self.handler_source, encoding="utf-8")
        if self.with_crhelper:
            shutil.copytree(Path(crhelper.__file__).parent, source / "crhelper")
        digest = hashlib.sha256()
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(source)).encode())
                digest.update(path.read_bytes())
        asset_hash = digest.hexdigest()
        out.mkdir(parents=True)
        shutil.copytree(source, out / f"asset.{asset_hash}")
        template: dict[str, Any] = {
            "Resources": json.loads(
                json.dumps(self.resources).replace("ASSET_KEY", f"{asset_hash}.zip")
            )
        }
        for section, content in (
            ("Parameters", self.parameters),
            ("Conditions", self.conditions),
            ("Outputs", self.outputs),
        ):
            if content:
                template[section] = content
        (out / f"{STACK_NAME}.template.json").write_text(json.dumps(template), encoding="utf-8")
        assets = {
            "version": "55.0.0",
            "files": {
                asset_hash: {
                    "displayName": "Handler/Code",
                    "source": {"path": f"asset.{asset_hash}", "packaging": "zip"},
                    "destinations": {
                        "current_account-current_region": {
                            "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                            "objectKey": f"{asset_hash}.zip",
                        }
                    },
                }
            },
            "dockerImages": {},
        }
        (out / f"{STACK_NAME}.assets.json").write_text(json.dumps(assets), encoding="utf-8")
        manifest = {
            "version": "55.0.0",
            "artifacts": {
                f"{STACK_NAME}.assets": {
                    "type": "cdk:asset-manifest",
                    "properties": {"file": f"{STACK_NAME}.assets.json"},
                },
                STACK_NAME: {
                    "type": "aws:cloudformation:stack",
                    "environment": "aws://unknown-account/unknown-region",
                    "properties": {"templateFile": f"{STACK_NAME}.template.json"},
                    "dependencies": [f"{STACK_NAME}.assets"],
                    "displayName": STACK_NAME,
                },
            },
        }
        (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return out


@pytest.fixture
def app(tmp_path: Path) -> AppBuilder:
    """A cloud assembly builder with one Python function and no custom resource yet."""
    return AppBuilder(tmp_path / "app")


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """A file the test handler appends one JSON line to per run."""
    return tmp_path / "journal.jsonl"


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Return the journal's entries, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture
def journal_reader() -> Any:
    """The function that reads a journal file."""
    return read_journal


@pytest.fixture
def deployer_factory(tmp_path: Path) -> Iterator[Any]:
    """Build LocalDeployers on a shared state directory; they are closed after the test.

    ``factory(assembly_dir=None, **options)``: options go to :class:`LocalDeployer`; the
    defaults here make failures quick (no Lambda retries, a short grace after deadlines).
    """
    made: list[LocalDeployer] = []

    def factory(assembly_dir: Path | None = None, **options: Any) -> LocalDeployer:
        options.setdefault("state_dir", tmp_path / "state")
        options.setdefault("retry_attempts", 0)
        options.setdefault("retry_delay_seconds", 0.1)
        options.setdefault("late_response_grace_seconds", 3.0)
        deployer = LocalDeployer(assembly_dir, **options)
        made.append(deployer)
        return deployer

    yield factory
    for deployer in made:
        deployer.close()
