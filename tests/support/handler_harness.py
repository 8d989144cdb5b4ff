"""The in-process handler harness: drive the real handler the way CloudFormation and Lambda would.

Shared by the handler's functional tests (``tests/functional/handler``) and the property-based
tests (``tests/property``), whose conftests re-export its fixtures.

Each test gets a handler built from :func:`build_handler` once the environment points boto3 at
the emulator (fake credentials, ``AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT``) and crhelper at a local
HTTPS ResponseURL (``SSL_CERT_FILE``). Events carry every field CloudFormation sends; the
context counts down in real time. Every log line of every handler run is captured in the
Lambda's format, and the test fails at teardown if one holds a credential or a ResponseURL's
query string; the lines and the handler's calls are also reported to the suite-wide audit
(:mod:`suite_audit`).
"""

from __future__ import annotations

import importlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from suite_audit import AUDIT, response_url_secrets

from lookout_retraining.local.emulator import MUTATING_OPERATIONS
from lookout_retraining.local.responses import RecordedResponse, ResponseRecorder

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from lookout_retraining.local.emulator import Emulator

STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/handler-functional/"
    "6f2c1a70-0000-4a4a-9b9b-0123456789ab"
)
LOGICAL_ID = "PumpRetraining"
RESOURCE_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"
SERVICE_TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:handler-functional-provider"
# Credentials the handler must never log; the emulator does not check them.
FAKE_ACCESS_KEY_ID = "AKIAHANDLERFUNCTEST1"
FAKE_SECRET_ACCESS_KEY = "handler-functional-secret-Zx9Qw8Er7Ty6Ui5Op4"
FAKE_SESSION_TOKEN = "handler-functional-session-token-FwoGZXIvYXdzEJr"
LAMBDA_TIMEOUT_SECONDS = 30.0
# The construct's Lambda timeout (provider.LAMBDA_TIMEOUT), for tests whose outcome depends on
# the remaining time: crhelper's sleep on Delete happens only with more than 15 s to spare.
CONSTRUCT_LAMBDA_TIMEOUT_SECONDS = 300.0
# For a handler client (``build_client(SINGLE_ATTEMPT)``) that meets a failure for good without
# sitting through botocore's backoff over ten 500 answers.
SINGLE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
_LEVELS_THE_HANDLER_SETS = ("crhelper", "boto", "boto3", "botocore", "s3transfer", "urllib3")

AUDIT.register_handler_key(FAKE_ACCESS_KEY_ID)


class LambdaContext:
    """A Lambda context whose remaining time counts down from its creation."""

    def __init__(self, timeout_seconds: float, request_id: str = "") -> None:
        self.deadline = time.monotonic() + timeout_seconds
        # The same moment on the wall clock, to compare with when a response was received.
        self.deadline_epoch = time.time() + timeout_seconds
        self.function_name = "handler-functional-provider"
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "2026/12/03/[$LATEST]5f1e9c0a8b7d4c3e2f1a0b9c8d7e6f5a"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    """One event sent to the handler and what came back on its ResponseURL."""

    event: dict[str, Any]
    context: LambdaContext
    responses: list[RecordedResponse]

    @property
    def response(self) -> dict[str, Any]:
        """The one response body; fails the test if there was not exactly one valid one."""
        assert len(self.responses) == 1, f"expected one response, got {len(self.responses)}"
        recorded = self.responses[0]
        assert recorded.problem is None, recorded.problem
        assert recorded.body is not None
        return recorded.body

    @property
    def status(self) -> str:
        return str(self.response["Status"])

    @property
    def physical_id(self) -> str:
        return str(self.response["PhysicalResourceId"])

    @property
    def reason(self) -> str:
        return str(self.response["Reason"])


@dataclass
class CloudFormation:
    """Sends CloudFormation-shaped events to one handler, as one stack resource would see."""

    recorder: ResponseRecorder
    handler: Callable[[Any, Any], None]
    issued_urls: list[str] = field(default_factory=list)
    sent: int = 0

    def event(
        self,
        request_type: str,
        properties: dict[str, Any] | None,
        *,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        request_id = request_id or str(uuid.uuid4())
        url = self.recorder.new_url(STACK_ID, LOGICAL_ID, request_id)
        self.issued_urls.append(url)
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": SERVICE_TOKEN,
            "ResponseURL": url,
            "StackId": STACK_ID,
            "RequestId": request_id,
            "LogicalResourceId": LOGICAL_ID,
            "ResourceType": RESOURCE_TYPE,
        }
        if properties is not None:
            event["ResourceProperties"] = {
                "ServiceToken": SERVICE_TOKEN,
                "ServiceTimeout": "3600",
                **properties,
            }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = {"ServiceToken": SERVICE_TOKEN, **old_properties}
        return event

    def send(self, event: Any, timeout_seconds: float = LAMBDA_TIMEOUT_SECONDS) -> Invocation:
        """Invoke the handler; crhelper has sent its response when the handler returns."""
        context = LambdaContext(timeout_seconds)
        self.sent += 1
        self.handler(event, context)
        url = event.get("ResponseURL") if isinstance(event, dict) else None
        responses = self.recorder.responses_for(url) if isinstance(url, str) and "/" in url else []
        return Invocation(event, context, responses)

    def create(self, properties: dict[str, Any], **options: Any) -> Invocation:
        timeout = options.pop("timeout_seconds", LAMBDA_TIMEOUT_SECONDS)
        return self.send(self.event("Create", properties, **options), timeout)

    def update(
        self,
        physical_id: str,
        properties: dict[str, Any],
        old_properties: dict[str, Any],
        **options: Any,
    ) -> Invocation:
        timeout = options.pop("timeout_seconds", LAMBDA_TIMEOUT_SECONDS)
        event = self.event(
            "Update",
            properties,
            physical_id=physical_id,
            old_properties=old_properties,
            **options,
        )
        return self.send(event, timeout)

    def delete(self, physical_id: str, properties: dict[str, Any], **options: Any) -> Invocation:
        timeout = options.pop("timeout_seconds", LAMBDA_TIMEOUT_SECONDS)
        return self.send(
            self.event("Delete", properties, physical_id=physical_id, **options), timeout
        )


class HandlerLogLines(logging.Handler):
    """A root handler that keeps every line the handler's process would print."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The emulator and the response recorder run in this process only for the tests;
        # in Lambda, the handler's process holds the handler, crhelper and the AWS SDK.
        if record.name.startswith("lookout_retraining."):
            return
        self.lines.append(self.format(record))


@pytest.fixture(scope="session")
def recorder() -> Iterator[ResponseRecorder]:
    """The HTTPS stand-in for CloudFormation's presigned ResponseURLs."""
    with ResponseRecorder() as running:
        yield running


@pytest.fixture
def handler_log_lines() -> Iterator[HandlerLogLines]:
    """Every log line of the test's handler runs, formatted as the handler formats them.

    The handler (through crhelper) sets the root and library logger levels, as it may in its
    own process; they are put back afterwards for the tests that share this one.
    """
    capture = HandlerLogLines()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in _LEVELS_THE_HANDLER_SETS}
    root_level = root.level
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def handler_environment(
    monkeypatch: pytest.MonkeyPatch,
    emulator: Emulator,
    recorder: ResponseRecorder,
    tmp_path: Any,
) -> None:
    """Point the handler's boto3 at the emulator and crhelper at the recorder, as in Lambda."""
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", FAKE_SESSION_TOKEN)
    monkeypatch.setenv("AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT", emulator.endpoint_url)
    monkeypatch.setenv("AWS_SAM_LOCAL", "true")
    monkeypatch.setenv("SSL_CERT_FILE", str(recorder.ca_file))
    # DEBUG: the leak check covers the most verbose output the handler can produce.
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")


@pytest.fixture
def handler_module(handler_environment: None) -> Any:
    """The handler module, imported once the environment is Lambda-like.

    Importing it builds the module-level handler, as a Lambda container does at init; tests
    import it here rather than at collection, where no region is set yet.
    """
    return importlib.import_module("lookout_retraining_handler.handler")


@pytest.fixture
def cloudformation(
    handler_module: Any,
    recorder: ResponseRecorder,
    handler_log_lines: HandlerLogLines,
    request: pytest.FixtureRequest,
) -> Iterator[CloudFormation]:
    """A fresh handler (a new Lambda container) and the events to send it.

    At teardown, no captured log line may hold a ResponseURL's query string or a credential.
    """
    stack = CloudFormation(recorder, handler_module.build_handler())
    yield stack
    secrets = [FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY, FAKE_SESSION_TOKEN]
    for url in stack.issued_urls:
        secrets.extend(response_url_secrets(url))
    leaks = AUDIT.see_log(
        "in-process", request.node.nodeid, handler_log_lines.lines, secrets, runs=stack.sent
    )
    assert not leaks, f"{len(leaks)} log line(s) leak a secret, such as: {leaks[0][:300]}"


@pytest.fixture
def models(emulator: Emulator) -> list[str]:
    """Two trained models in the emulator: pump-1 and pump-2."""
    names = ["pump-1", "pump-2"]
    for name in names:
        emulator.create_model(name)
    return names


@pytest.fixture
def properties() -> dict[str, str]:
    """Valid properties on pump-1, as the construct renders them."""
    return {
        "ModelName": "pump-1",
        "RetrainingFrequency": "P30D",
        "LookbackWindow": "P180D",
        "PromoteMode": "MANAGED",
    }


@pytest.fixture
def mutating_calls(emulator: Emulator) -> Callable[[], list[str]]:
    """Return the mutating operations the emulator has answered so far."""

    def calls() -> list[str]:
        return [call.operation for call in emulator.calls if call.operation in MUTATING_OPERATIONS]

    return calls
