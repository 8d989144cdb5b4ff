"""Fixtures for the handler's unit tests: a client behind a botocore Stubber, and requests.

The Stubber checks every scripted response against the ``lookoutequipment`` service model and
every call's parameters against the script, so a test states the exact call sequence.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from lookout_retraining_handler.api import ACCESS_DENIED_RETRIES
from lookout_retraining_handler.deadline import Backoff
from lookout_retraining_handler.lifecycle import Outcome, Request, run_lifecycle

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/unit-stack/"
    "0a1b2c3d-0000-1111-2222-333344445555"
)
LOGICAL_ID = "Scheduler"
ACCOUNT = "123456789012"
CREATED_AT = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC)
# No pauses between status reads: the unit tests check decisions, not timing.
NO_PAUSE = Backoff(initial_seconds=0.0, factor=1.0, cap_seconds=0.0)


def model_arn(model_name: str) -> str:
    return f"arn:aws:lookoutequipment:us-east-1:{ACCOUNT}:model/{model_name}/1234abcd"


class ScriptedService:
    """The calls a test expects, in order, with the answers the service gives."""

    def __init__(self, stubber: Stubber) -> None:
        self._stubber = stubber

    def describe(
        self,
        model_name: str,
        status: str = "RUNNING",
        *,
        frequency: str = "P30D",
        lookback: str = "P180D",
        promote_mode: str | None = "MANAGED",
        start_date: datetime.datetime | None = None,
        created_at: datetime.datetime = CREATED_AT,
    ) -> None:
        response: dict[str, Any] = {
            "ModelName": model_name,
            "ModelArn": model_arn(model_name),
            "RetrainingFrequency": frequency,
            "LookbackWindow": lookback,
            "Status": status,
            "CreatedAt": created_at,
            "UpdatedAt": created_at,
        }
        if promote_mode is not None:
            response["PromoteMode"] = promote_mode
        if start_date is not None:
            response["RetrainingStartDate"] = start_date
        self._stubber.add_response(
            "describe_retraining_scheduler", response, {"ModelName": model_name}
        )

    def create(
        self,
        model_name: str,
        client_token: str,
        status: str = "PENDING",
        **settings: Any,
    ) -> None:
        expected = {
            "ModelName": model_name,
            "ClientToken": client_token,
            "RetrainingFrequency": settings.pop("RetrainingFrequency", "P30D"),
            "LookbackWindow": settings.pop("LookbackWindow", "P180D"),
            **settings,
        }
        self._stubber.add_response(
            "create_retraining_scheduler",
            {"ModelName": model_name, "ModelArn": model_arn(model_name), "Status": status},
            expected,
        )

    def update(self, model_name: str, **changes: Any) -> None:
        self._stubber.add_response(
            "update_retraining_scheduler", {}, {"ModelName": model_name, **changes}
        )

    def start(self, model_name: str, status: str = "PENDING") -> None:
        self._stubber.add_response(
            "start_retraining_scheduler",
            {"ModelName": model_name, "ModelArn": model_arn(model_name), "Status": status},
            {"ModelName": model_name},
        )

    def stop(self, model_name: str, status: str = "STOPPING") -> None:
        self._stubber.add_response(
            "stop_retraining_scheduler",
            {"ModelName": model_name, "ModelArn": model_arn(model_name), "Status": status},
            {"ModelName": model_name},
        )

    def delete(self, model_name: str) -> None:
        self._stubber.add_response("delete_retraining_scheduler", {}, {"ModelName": model_name})

    def error(
        self,
        method: str,
        code: str,
        *,
        status: int,
        message: str = "",
        expected_params: dict[str, Any] | None = None,
    ) -> None:
        self._stubber.add_client_error(
            method,
            service_error_code=code,
            service_message=message or f"{code} from the scripted service",
            http_status_code=status,
            expected_params=expected_params,
        )

    def denied(self, method: str, message: str = "") -> None:
        """Refuse ``method`` for good: the first call and every retry the handler makes."""
        for _ in range(1 + ACCESS_DENIED_RETRIES):
            self.error(method, "AccessDeniedException", status=403, message=message)

    def not_found(self, method: str, model_name: str) -> None:
        self.error(
            method,
            "ResourceNotFoundException",
            status=404,
            message=f"No retraining scheduler for model {model_name}",
            expected_params={"ModelName": model_name},
        )

    def conflict(self, method: str, expected_params: dict[str, Any] | None = None) -> None:
        self.error(method, "ConflictException", status=409, expected_params=expected_params)


@pytest.fixture(scope="session")
def unit_session() -> boto3.session.Session:
    """One boto3 session for the unit tests: it loads the service model once."""
    return boto3.session.Session(
        aws_access_key_id="AKIAUNITTESTFAKE0001",
        aws_secret_access_key="unit-test-secret",
        region_name="us-east-1",
    )


@pytest.fixture
def lookout_stub_client(unit_session: boto3.session.Session) -> Any:
    """A ``lookoutequipment`` client that never leaves the process (a Stubber answers)."""
    return unit_session.client("lookoutequipment")


@pytest.fixture
def attempted_operations(lookout_stub_client: Any) -> list[str]:
    """Every operation the lifecycle tried to call, stubbed or not, in order."""
    operations: list[str] = []

    def record(model: Any, **_: Any) -> None:
        operations.append(model.name)

    lookout_stub_client.meta.events.register("before-parameter-build.lookoutequipment", record)
    return operations


@pytest.fixture
def service(lookout_stub_client: Any) -> Iterator[ScriptedService]:
    """The scripted service; the test fails if a scripted call is left unmade."""
    with Stubber(lookout_stub_client) as stubber:
        yield ScriptedService(stubber)
        stubber.assert_no_pending_responses()


@pytest.fixture
def make_request() -> Callable[..., Request]:
    """Build a request: ``make_request("Update", properties, physical_id=..., old=...)``."""

    def build(
        request_type: str,
        properties: object,
        *,
        physical_id: str | None = None,
        old: object = None,
        request_id: str = "request-1",
    ) -> Request:
        return Request(
            request_type=request_type,
            request_id=request_id,
            stack_id=STACK_ID,
            logical_resource_id=LOGICAL_ID,
            resource_properties=properties,
            physical_resource_id=physical_id,
            old_resource_properties=old,
        )

    return build


@pytest.fixture
def run(lookout_stub_client: Any, service: ScriptedService) -> Callable[[Request], Outcome]:
    """Run the lifecycle against the scripted service; a call off the script fails the test."""

    def run_request(request: Request) -> Outcome:
        outcome = run_lifecycle(
            request, lookout_stub_client, backoff=NO_PAUSE, retry_pauses=NO_PAUSE
        )
        # The Stubber reports an unexpected call or parameter as a botocore error, which the
        # lifecycle would turn into a FAILED reason: surface it as the test failure it is.
        assert "Stub" not in outcome.reason, outcome.reason
        assert "Unstubbed" not in outcome.reason, outcome.reason
        return outcome

    return run_request


@pytest.fixture
def properties() -> dict[str, str]:
    """Valid ResourceProperties as CloudFormation sends them (CloudFormation's keys too)."""
    return {
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
        "ServiceTimeout": "900",
        "ModelName": "pump-1",
        "RetrainingFrequency": "P30D",
        "LookbackWindow": "P180D",
    }


@pytest.fixture
def created_at() -> datetime.datetime:
    """The CreatedAt that :meth:`ScriptedService.describe` reports by default."""
    return CREATED_AT
