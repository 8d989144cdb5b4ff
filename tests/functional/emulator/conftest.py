"""Fixtures for the emulator's functional tests.

An emulator on a clock that moves only when a test moves it, ready models, schedulers held in a
chosen status, raw HTTP calls and error assertions.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import urllib.parse
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from lookout_retraining.local.emulator import Emulator, EmulatorSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MODEL_NAME = "pump-1"
# A moment with milliseconds, so that a test sees the service's timestamps keep them.
CLOCK_START = datetime.datetime(2030, 6, 1, 12, 0, 0, 250_000, tzinfo=datetime.UTC)
TARGET_PREFIX = "AWSLookoutEquipmentFrontendService."
SIGV4_AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=AKIARAWHTTPTESTKEY1/20260101/us-east-1/lookoutequipment/"
    "aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123456789abcdef"
)


class ManualClock:
    """A wall clock in epoch seconds that moves only when :meth:`advance` is called.

    ``start`` is the moment it was set to; ``now`` the epoch seconds it shows.
    """

    def __init__(self, start: datetime.datetime) -> None:
        self.start = start
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    """The emulator's clock, at ``CLOCK_START`` (2030-06-01T12:00:00.250Z) until advanced."""
    return ManualClock(CLOCK_START)


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[Emulator]:
    """A running emulator with default settings and empty state, on ``clock``.

    Status delays, timestamps and the rate limit follow ``clock``, so no test here depends on
    how fast the machine runs.
    """
    with Emulator(EmulatorSettings(), clock=clock) as running:
        yield running


@pytest.fixture
def model_name(emulator) -> str:
    """The name of a model that exists in the emulator (us-east-1)."""
    emulator.create_model(MODEL_NAME)
    return MODEL_NAME


@pytest.fixture
def create_scheduler(lookout_client) -> Callable[..., dict[str, Any]]:
    """Call CreateRetrainingScheduler with valid defaults that keyword arguments override."""

    def create(model: str = MODEL_NAME, **overrides: Any) -> dict[str, Any]:
        request = {
            "ModelName": model,
            "RetrainingFrequency": "P30D",
            "LookbackWindow": "P180D",
            **overrides,
        }
        return lookout_client.create_retraining_scheduler(**request)

    return create


@pytest.fixture
def scheduler_in_status(emulator, lookout_client, model_name, create_scheduler):
    """Bring the scheduler of ``model_name`` into a status and keep it there.

    PENDING and STOPPING hold because the fixture sets their delay to a minute of the
    emulator's clock, which moves only when the test moves it; RUNNING and STOPPED are reached
    with no delay.
    """

    def bring(status: str) -> str:
        settings = emulator.settings
        settings.create_starts_scheduler = status != "STOPPED"
        settings.pending_seconds = 60.0 if status == "PENDING" else 0.0
        create_scheduler(model_name)
        if status == "STOPPING":
            settings.stopping_seconds = 60.0
            lookout_client.stop_retraining_scheduler(ModelName=model_name)
        described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
        assert described["Status"] == status
        return model_name

    return bring


@pytest.fixture
def expect_service_error():
    """Assert that a block raises a ClientError with a code, HTTP status and message part.

    ``with expect_service_error("ConflictException", 409, match="STOPPED"): ...``
    """

    @contextlib.contextmanager
    def expect(code: str, status: int, match: str | None = None) -> Iterator[Any]:
        with pytest.raises(ClientError) as caught:
            yield caught
        response = caught.value.response
        assert response["Error"]["Code"] == code, response["Error"]
        assert response["ResponseMetadata"]["HTTPStatusCode"] == status
        if match is not None:
            assert match in response["Error"]["Message"], response["Error"]["Message"]

    return expect


@pytest.fixture
def raw_call(emulator):
    """POST a body to the emulator without boto3; return ``(status, headers, parsed body)``.

    ``body`` may be a dict (sent as JSON) or bytes (sent as is). ``operation`` of ``None``
    leaves out ``X-Amz-Target`` unless ``target`` gives the whole header; ``signed=False``
    leaves out ``Authorization``.
    """

    def call(
        operation: str | None,
        body: dict[str, Any] | bytes,
        *,
        signed: bool = True,
        method: str = "POST",
        target: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        if operation is not None:
            headers["X-Amz-Target"] = f"{TARGET_PREFIX}{operation}"
        if target is not None:
            headers["X-Amz-Target"] = target
        if signed:
            headers["Authorization"] = SIGV4_AUTHORIZATION
        endpoint = urllib.parse.urlsplit(emulator.endpoint_url)
        connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)
        try:
            connection.request(method, "/", body=payload, headers=headers)
            response = connection.getresponse()
            text = response.read()
            return response.status, dict(response.headers), json.loads(text) if text else None
        finally:
            connection.close()

    return call
