"""The retraining scheduler calls, each checked against the deadline, recorded and logged.

Throttling, 5xx answers and connection failures are retried inside botocore (the client's
retry mode); what reaches this module is final, and becomes a :class:`ServiceCallError` that
names the operation, the model, the AWS error code and message.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from lookout_retraining_handler.deadline import Backoff
from lookout_retraining_handler.reasons import elide, quote

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from mypy_boto3_lookoutequipment.client import LookoutEquipmentClient

    from lookout_retraining_handler.deadline import Deadline
    from lookout_retraining_handler.progress import Progress

logger = logging.getLogger(__name__)

RESOURCE_NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ConflictException"
THROTTLING = "ThrottlingException"
# botocore's retries ride out most throttling, but a service kept busy by a large stack (many
# handlers at once, each retrying) can throttle one call through all of its attempts. A
# throttled call changed nothing, so it is made again after a pause, while the deadline leaves
# time for the pause: throttling fails a request only when its time is up.
THROTTLED_CALL_PAUSES = Backoff(initial_seconds=1.0, factor=2.0, cap_seconds=20.0)
ACCESS_DENIED = "AccessDeniedException"
# IAM is eventually consistent: CloudFormation attaches a scheduler's grant policy and invokes
# the handler right after, and a new grant can take seconds to apply (IAM User Guide, "Changes
# that I make are not always immediately visible"). A denied call is made again after the first
# pauses (1 + 2 + 4 + 8 s with the default pauses) before the denial is reported.
ACCESS_DENIED_RETRIES = 4
PENDING = "PENDING"
RUNNING = "RUNNING"
STOPPED = "STOPPED"
# Stop is allowed from PENDING or RUNNING (StopRetrainingScheduler API reference); both count
# as a started scheduler.
STARTED_STATUSES = (PENDING, RUNNING)


class ServiceCallError(Exception):
    """A Lookout for Equipment call that failed for good (after botocore's retries).

    Attributes
    ----------
    operation:
        The API operation, such as ``StopRetrainingScheduler``.
    model_name:
        The model whose scheduler the call concerned.
    code:
        The AWS error code (``ConflictException``) or, for a failure without an answer from the
        service, the botocore exception name (``ReadTimeoutError``).
    message:
        The service's message, or the botocore exception's text.
    refused:
        Whether the service answered with a 4xx error: it refused the call, which changed
        nothing. After a 5xx answer or none at all, the call may have taken effect.
    """

    def __init__(
        self, operation: str, model_name: str, code: str, message: str, *, refused: bool = False
    ) -> None:
        super().__init__(
            f"{operation} on model {quote(model_name)} failed: {code}: {elide(message, 120)}"
        )
        self.operation = operation
        self.model_name = model_name
        self.code = code
        self.message = message
        self.refused = refused


@dataclass(frozen=True)
class Scheduler:
    """A retraining scheduler as DescribeRetrainingScheduler returns it."""

    model_name: str
    model_arn: str
    status: str
    retraining_frequency: str | None = None
    lookback_window: str | None = None
    promote_mode: str | None = None
    retraining_start_date: datetime.datetime | None = None
    created_at: datetime.datetime | None = None


def start_date_timestamp(day: datetime.date) -> datetime.datetime:
    """Return the start of a UTC day, the form RetrainingStartDate is sent in.

    The service truncates the start date to its UTC day (CreateRetrainingScheduler API
    reference), so midnight UTC of the declared day means exactly that day.
    """
    return datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=datetime.UTC)


class SchedulerApi:
    """The six retraining scheduler operations of one invocation.

    Parameters
    ----------
    client:
        A ``lookoutequipment`` boto3 client (a botocore Stubber may stand behind it).
    deadline:
        Checked before every call: a cancelled or expired invocation makes no call.
    progress:
        Records the call in progress and supplies the log fields.
    retry_pauses:
        Pauses before a call is made again after botocore's own retries gave up on throttling,
        or after an AccessDeniedException. Default :data:`THROTTLED_CALL_PAUSES`.
    """

    def __init__(
        self,
        client: LookoutEquipmentClient,
        deadline: Deadline,
        progress: Progress,
        retry_pauses: Backoff = THROTTLED_CALL_PAUSES,
    ) -> None:
        self._client = client
        self._deadline = deadline
        self._progress = progress
        self._retry_pauses = retry_pauses

    def describe(self, model_name: str) -> Scheduler:
        """Return the scheduler of ``model_name``.

        Raises
        ------
        ServiceCallError
            ``ResourceNotFoundException`` when the scheduler or the model does not exist.
        """
        response = self._call(
            "DescribeRetrainingScheduler",
            model_name,
            lambda: self._client.describe_retraining_scheduler(ModelName=model_name),
        )
        return Scheduler(
            model_name=response.get("ModelName", model_name),
            model_arn=response.get("ModelArn", ""),
            status=response.get("Status", ""),
            retraining_frequency=response.get("RetrainingFrequency"),
            lookback_window=response.get("LookbackWindow"),
            promote_mode=response.get("PromoteMode"),
            retraining_start_date=response.get("RetrainingStartDate"),
            created_at=response.get("CreatedAt"),
        )

    def describe_or_none(self, model_name: str) -> Scheduler | None:
        """Return the scheduler of ``model_name``, or None when it (or the model) is gone."""
        try:
            return self.describe(model_name)
        except ServiceCallError as error:
            if error.code != RESOURCE_NOT_FOUND:
                raise
            logger.debug(
                "No retraining scheduler on model %s: %s",
                model_name,
                error.message,
                extra=self._progress.log_fields(model=model_name),
            )
            return None

    def create(self, model_name: str, settings: Mapping[str, Any], client_token: str) -> None:
        """Create the scheduler of ``model_name``.

        ``settings`` holds the API's own parameter names (RetrainingFrequency, ...).
        """
        self._call(
            "CreateRetrainingScheduler",
            model_name,
            lambda: self._client.create_retraining_scheduler(
                ModelName=model_name, ClientToken=client_token, **settings
            ),
        )

    def update(self, model_name: str, changes: Mapping[str, Any]) -> None:
        """Change the settings in ``changes`` (API parameter names) of the scheduler."""
        self._call(
            "UpdateRetrainingScheduler",
            model_name,
            lambda: self._client.update_retraining_scheduler(ModelName=model_name, **changes),
        )

    def start(self, model_name: str) -> str:
        """Start the scheduler; return the status the service reports."""
        response = self._call(
            "StartRetrainingScheduler",
            model_name,
            lambda: self._client.start_retraining_scheduler(ModelName=model_name),
        )
        return response.get("Status", "")

    def stop(self, model_name: str) -> str:
        """Stop the scheduler; return the status the service reports."""
        response = self._call(
            "StopRetrainingScheduler",
            model_name,
            lambda: self._client.stop_retraining_scheduler(ModelName=model_name),
        )
        return response.get("Status", "")

    def delete(self, model_name: str) -> None:
        """Delete the scheduler (the service requires it STOPPED)."""
        self._call(
            "DeleteRetrainingScheduler",
            model_name,
            lambda: self._client.delete_retraining_scheduler(ModelName=model_name),
        )

    def _call(
        self, operation: str, model_name: str, send: Callable[[], Mapping[str, Any]]
    ) -> Mapping[str, Any]:
        doing = f"calling {operation} for model {quote(model_name)}"
        pauses = self._retry_pauses.delays()
        denials = 0
        while True:
            self._deadline.check(doing)
            self._progress.working_on(model_name)
            self._progress.step(doing)
            try:
                response = send()
                break
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code") or "UnknownError")
                message = str(error.get("Message") or "")
                self._log_failure(operation, model_name, code, message)
                pause = next(pauses)
                denials += code == ACCESS_DENIED
                again = code == THROTTLING or (
                    code == ACCESS_DENIED and denials <= ACCESS_DENIED_RETRIES
                )
                if again and self._deadline.remaining() > pause:
                    self._deadline.sleep(pause, doing)
                    continue
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                raise ServiceCallError(
                    operation, model_name, code, message, refused=400 <= status < 500
                ) from exc
            except BotoCoreError as exc:
                code = type(exc).__name__
                self._log_failure(operation, model_name, code, str(exc))
                raise ServiceCallError(operation, model_name, code, str(exc)) from exc
        level = logging.DEBUG if operation.startswith("Describe") else logging.INFO
        logger.log(
            level,
            "%s succeeded for model %s",
            operation,
            model_name,
            extra=self._progress.log_fields(
                model=model_name, operation=operation, status=response.get("Status")
            ),
        )
        return response

    def _log_failure(self, operation: str, model_name: str, code: str, message: str) -> None:
        # Not-found and conflict answers are expected on several paths; the lifecycle decides
        # whether they are failures and logs the decision.
        expected = code in (RESOURCE_NOT_FOUND, CONFLICT)
        logger.log(
            logging.INFO if expected else logging.WARNING,
            "%s for model %s answered %s: %s",
            operation,
            model_name,
            code,
            message,
            extra=self._progress.log_fields(model=model_name, operation=operation, error_code=code),
        )
