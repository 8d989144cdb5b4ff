"""The custom resource protocol: deliver one request to a Lambda handler and judge its answer.

CloudFormation invokes a custom resource's function asynchronously with an event that holds
a presigned ``ResponseURL``, then waits, at most ``ServiceTimeout`` seconds, for one JSON
response on that URL. Lambda retries an asynchronous invocation that fails (the handler
raised, crashed or timed out) twice, whether or not it had answered on the ResponseURL: Lambda
knows nothing of that URL. This module plays both parts against a
:class:`~lookout_retraining.local.responses.ResponseRecorder`, and reports every way a
handler can get the protocol wrong: no answer, two answers, a late answer, an invalid body.
"""

from __future__ import annotations

import copy
import datetime
import logging
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.deployer.reporting import redact_text, redact_url
from lookout_retraining.local.deployer.sandbox import RunningInvocation, run_handler

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from lookout_retraining.local.deployer.reporting import EventPrinter
    from lookout_retraining.local.deployer.sandbox import FunctionConfig, LambdaRuntime
    from lookout_retraining.local.deployer.state import StateStore
    from lookout_retraining.local.responses import RecordedResponse, ResponseRecorder

logger = logging.getLogger(__name__)

# CloudFormation's default and maximum wait for a custom resource response.
DEFAULT_SERVICE_TIMEOUT_SECONDS = 3600
MAX_PHYSICAL_ID_LENGTH = 1024


class FailureKind:
    """Why a request failed; :attr:`Delivery.failure_kind` holds one of these strings."""

    FAILED_RESPONSE = "FAILED_RESPONSE"
    """The handler answered with Status FAILED."""
    INVALID_RESPONSE = "INVALID_RESPONSE"
    """The first answer was unusable: over 4,096 bytes, not JSON, missing fields, wrong ids."""
    NO_RESPONSE = "NO_RESPONSE"
    """Every attempt ended (returned, raised, crashed or was killed) without an answer."""
    TIMED_OUT = "TIMED_OUT"
    """The function's timeout stopped the last attempt before it answered."""
    SERVICE_TIMEOUT = "SERVICE_TIMEOUT"
    """No answer came within ServiceTimeout; the function was still running."""
    LATE_RESPONSE = "LATE_RESPONSE"
    """The first answer came after ServiceTimeout: CloudFormation had already given up."""
    NOT_INVOKED = "NOT_INVOKED"
    """The request could not be delivered: no such function, or a runtime the sandbox lacks."""


class CustomResourceEvent:
    """A custom resource request, exactly as the handler receives it.

    It holds a working ``ResponseURL``, so redelivering the same object delivers the same
    request. ``repr()`` and :meth:`redacted` hide the URL's query string.

    Parameters
    ----------
    payload:
        The event object (copied). Any shape is accepted, so that tests can deliver
        malformed events.
    """

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self._payload: dict[str, Any] = copy.deepcopy(dict(payload))

    @property
    def payload(self) -> dict[str, Any]:
        """Return a copy of the whole event, ResponseURL included: keep it out of logs."""
        return copy.deepcopy(self._payload)

    def get(self, key: str, default: Any = None) -> Any:
        """Return one top-level field of the event (a copy)."""
        return copy.deepcopy(self._payload.get(key, default))

    @property
    def request_type(self) -> str:
        """Return ``RequestType``, or ``""`` when absent."""
        return str(self._payload.get("RequestType", ""))

    @property
    def request_id(self) -> str:
        """Return ``RequestId``, or ``""`` when absent."""
        return str(self._payload.get("RequestId", ""))

    @property
    def logical_id(self) -> str:
        """Return ``LogicalResourceId``, or ``""`` when absent."""
        return str(self._payload.get("LogicalResourceId", ""))

    @property
    def response_url(self) -> str:
        """Return ``ResponseURL``, or ``""`` when absent: a credential, never log it."""
        value = self._payload.get("ResponseURL", "")
        return value if isinstance(value, str) else ""

    def redacted(self) -> dict[str, Any]:
        """Return a copy of the event with the ResponseURL's query string replaced."""
        payload = self.payload
        if isinstance(payload.get("ResponseURL"), str):
            payload["ResponseURL"] = redact_url(payload["ResponseURL"])
        return payload

    def __repr__(self) -> str:
        return f"CustomResourceEvent({self.redacted()!r})"


@dataclass
class InvocationRecord:
    """One run of the handler in one sandbox process (one Lambda attempt).

    Attributes
    ----------
    stack_name, logical_id, request_type, request_id:
        The request it served.
    attempt:
        1 for the first delivery; 2 and 3 for Lambda's retries.
    function_name:
        The function that ran.
    aws_request_id:
        The Lambda request id (the same for every attempt of one delivery).
    log_group_name, log_stream_name:
        Where Lambda would have written its log.
    event:
        The event it received, with the ResponseURL redacted.
    started_at:
        Wall-clock start (``time.time()``).
    duration_seconds:
        From process start to exit.
    exit_code:
        Exit status of the process: 0 returned, 1 raised, 2 failed to import, negative when
        killed by a signal.
    stopped_by:
        None, or why the deployer killed it: ``"timeout"``, ``"kill_when"``, ``"deadline"``.
    log_lines:
        Everything the process wrote, unredacted, between Lambda's START and REPORT lines.
    log_file:
        Where the log was also written, if it was.
    responses:
        The responses received on the ResponseURL while this attempt ran.
    """

    stack_name: str
    logical_id: str
    request_type: str
    request_id: str
    attempt: int
    function_name: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    event: dict[str, Any]
    started_at: float
    duration_seconds: float
    exit_code: int | None
    stopped_by: str | None
    log_lines: list[str] = field(default_factory=list)
    log_file: Path | None = None
    responses: list[RecordedResponse] = field(default_factory=list)

    @property
    def timed_out(self) -> bool:
        """Return True if the function's timeout ended this attempt."""
        return self.stopped_by == "timeout"

    @property
    def finished_at(self) -> float:
        """Return the wall-clock time at which the process ended."""
        return self.started_at + self.duration_seconds

    @property
    def log(self) -> str:
        """Return the log as one text."""
        return "\n".join(self.log_lines)


@dataclass
class Delivery:
    """The outcome of one custom resource request, as CloudFormation sees it.

    Attributes
    ----------
    event:
        The event, with the ResponseURL redacted.
    status:
        ``"SUCCESS"`` or ``"FAILED"``.
    reason:
        Why it failed (empty on success), as the stack event shows it.
    failure_kind:
        None on success, else one of the :class:`FailureKind` values.
    physical_resource_id:
        The physical id of the answer that counted; None if none counted.
    data:
        The ``Data`` of the answer that counted (its attributes for ``Fn::GetAtt``).
    response:
        The answer that counted (the first one), if any.
    attempts:
        One :class:`InvocationRecord` per Lambda attempt.
    problems:
        Protocol breaches that did not decide the outcome: a second answer, a late answer.
    """

    event: dict[str, Any]
    status: str
    reason: str = ""
    failure_kind: str | None = None
    physical_resource_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    response: RecordedResponse | None = None
    attempts: list[InvocationRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """Return True if the request succeeded."""
        return self.status == "SUCCESS"

    @property
    def logical_id(self) -> str:
        """Return the request's ``LogicalResourceId``."""
        return str(self.event.get("LogicalResourceId", ""))

    @property
    def request_type(self) -> str:
        """Return the request's ``RequestType``."""
        return str(self.event.get("RequestType", ""))

    @property
    def responses(self) -> list[RecordedResponse]:
        """Return every response received across the attempts, oldest first."""
        return sorted(
            (response for attempt in self.attempts for response in attempt.responses),
            key=lambda response: response.received_at,
        )


@dataclass(frozen=True)
class LambdaSettings:
    """How the Lambda side behaves.

    Attributes
    ----------
    region:
        ``AWS_REGION`` of the functions.
    endpoint_url:
        ``AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT``: the emulator. None leaves it unset.
    credentials:
        ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``.
    extra_environment:
        Variables added to every function's environment, after all others.
    retry_attempts:
        Retries of a failed asynchronous invocation (Lambda's default is 2).
    retry_delay_seconds:
        Pause before each retry (Lambda waits about a minute, then two).
    late_response_grace_seconds:
        After ServiceTimeout, how long a still running handler may go on so that a late
        answer is seen and reported, before it is stopped.
    progress_interval_seconds:
        How often a progress line is printed while a handler runs.
    write_logs:
        Whether each invocation's log is also written under the state directory.
    on_invocation:
        Called with every :class:`InvocationRecord` as soon as its attempt ends.
    """

    region: str
    endpoint_url: str | None
    credentials: Mapping[str, str]
    extra_environment: Mapping[str, str] = field(default_factory=dict)
    retry_attempts: int = 2
    retry_delay_seconds: float = 1.0
    late_response_grace_seconds: float = 2.0
    progress_interval_seconds: float = 5.0
    write_logs: bool = True
    on_invocation: Callable[[InvocationRecord], None] | None = None


def fake_credentials() -> dict[str, str]:
    """Return random, well-formed temporary credentials, as Lambda gives its functions."""
    alphabet = string.ascii_uppercase + string.digits
    return {
        "AWS_ACCESS_KEY_ID": "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16)),
        "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30)[:40],
        "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(180),
    }


def _log_stream_name() -> str:
    day = datetime.datetime.now(datetime.UTC).strftime("%Y/%m/%d")
    return f"{day}/[$LATEST]{uuid.uuid4().hex}"


def _last_error(log_lines: list[str]) -> str:
    """Return the message of the last ERROR line of a log, shortened, or ``""``."""
    for line in reversed(log_lines):
        if line.startswith("[ERROR]"):
            message = line.split("\t", 3)[-1]
            return message if len(message) <= 200 else message[:197] + "..."
    return ""


class CustomResourceInvoker:
    """Deliver custom resource requests to handlers in sandboxes, as CloudFormation would.

    Parameters
    ----------
    runtime:
        The started Lambda runtime stand-in.
    recorder:
        The started response recorder; its CA file is the handlers' ``SSL_CERT_FILE``.
    settings:
        Lambda-side settings.
    printer:
        Where progress lines go.
    store:
        Where logs are written, if ``settings.write_logs``. Default None: nowhere.
    """

    def __init__(
        self,
        runtime: LambdaRuntime,
        recorder: ResponseRecorder,
        settings: LambdaSettings,
        printer: EventPrinter,
        store: StateStore | None = None,
    ) -> None:
        self.runtime = runtime
        self.recorder = recorder
        self.settings = settings
        self.printer = printer
        self.store = store

    def environment(self, config: FunctionConfig, log_stream_name: str) -> dict[str, str]:
        """Return the whole environment of a sandbox process for ``config``."""
        environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC"}
        environment.update(config.environment)
        # Lambda refuses to let a function set its reserved variables, so they come last.
        environment.update(
            {
                "AWS_REGION": self.settings.region,
                "AWS_DEFAULT_REGION": self.settings.region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(config.timeout_seconds)),
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group_name,
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
                "LAMBDA_TASK_ROOT": str(config.code_folder),
                "LAMBDA_RUNTIME_DIR": str(self.runtime.path),
                "_HANDLER": config.handler,
                "TMPDIR": str(self.runtime.work_dir),
                # No shared config or credentials file, and no instance metadata: the
                # environment is all the handler gets, as in Lambda.
                "AWS_CONFIG_FILE": str(self.runtime.work_dir / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.runtime.work_dir / "no-aws-credentials"),
                "AWS_EC2_METADATA_DISABLED": "true",
                "SSL_CERT_FILE": str(self.recorder.ca_file),
                **self.settings.credentials,
            }
        )
        if self.settings.endpoint_url is not None:
            environment["AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT"] = self.settings.endpoint_url
        environment.update(self.settings.extra_environment)
        return environment

    def deliver(
        self,
        stack_name: str,
        event: CustomResourceEvent,
        config: FunctionConfig,
        *,
        service_timeout: float = DEFAULT_SERVICE_TIMEOUT_SECONDS,
        kill_when: Callable[[RunningInvocation], bool] | None = None,
        timeout_seconds: float | None = None,
        retry_attempts: int | None = None,
        cancel: threading.Event | None = None,
    ) -> Delivery:
        """Deliver ``event`` to the function and wait for the outcome, retrying as Lambda does.

        Parameters
        ----------
        stack_name:
            The stack, for log file names.
        event:
            The request.
        config:
            The function behind the ServiceToken.
        service_timeout:
            Seconds CloudFormation waits for an answer. Default 3600.
        kill_when:
            Called every few milliseconds while an attempt runs; True kills that attempt,
            like a crash of the sandbox. Default None.
        timeout_seconds:
            Overrides the function's timeout. Default None.
        retry_attempts:
            Overrides ``settings.retry_attempts``. Default None.
        cancel:
            When set, the running attempt is killed and no retry follows. Default None.

        An attempt that raised, crashed, timed out or was killed by ``kill_when`` is retried
        even if it had answered, as Lambda retries it; the first answer decides the outcome.

        Returns
        -------
        Delivery
        """
        retries = self.settings.retry_attempts if retry_attempts is None else retry_attempts
        started = time.monotonic()
        service_deadline = started + service_timeout
        service_deadline_wall = time.time() + service_timeout
        aws_request_id = str(uuid.uuid4())
        attempts: list[InvocationRecord] = []
        for attempt in range(1, retries + 2):
            if attempt > 1:
                if cancel is not None and cancel.wait(self.settings.retry_delay_seconds):
                    break
                if cancel is None:
                    time.sleep(self.settings.retry_delay_seconds)
                if time.monotonic() >= service_deadline:
                    break
            record = self._run_attempt(
                stack_name,
                event,
                config,
                attempt=attempt,
                aws_request_id=aws_request_id,
                stop_at=service_deadline + self.settings.late_response_grace_seconds,
                service_timeout=service_timeout,
                kill_when=kill_when,
                timeout_seconds=timeout_seconds,
                cancel=cancel,
            )
            attempts.append(record)
            returned = record.exit_code == 0 and record.stopped_by is None
            if returned or record.stopped_by in ("deadline", "cancelled"):
                break
            # Lambda knows nothing of the ResponseURL: it retries an invocation that raised,
            # crashed or timed out even when that invocation had answered first. The first
            # answer stays the outcome; _judge reports every later one.
        return self._judge(event, config, attempts, service_timeout, service_deadline_wall)

    def _run_attempt(
        self,
        stack_name: str,
        event: CustomResourceEvent,
        config: FunctionConfig,
        *,
        attempt: int,
        aws_request_id: str,
        stop_at: float,
        service_timeout: float,
        kill_when: Callable[[RunningInvocation], bool] | None,
        timeout_seconds: float | None,
        cancel: threading.Event | None,
    ) -> InvocationRecord:
        log_stream_name = _log_stream_name()
        started_wall = time.time()
        running = RunningInvocation(
            logical_id=event.logical_id,
            request_type=event.request_type,
            request_id=event.request_id,
            attempt=attempt,
            function_name=config.function_name,
            started_at=time.monotonic(),
        )
        function_timeout = config.timeout_seconds if timeout_seconds is None else timeout_seconds
        interval = self.settings.progress_interval_seconds
        next_progress = [interval]

        def on_wait(elapsed: float) -> None:
            if elapsed < next_progress[0]:
                return
            next_progress[0] += interval
            self.printer.progress(
                f"{event.logical_id}: waiting for the {event.request_type} response "
                f"(attempt {attempt}): {elapsed:.0f} s so far; function timeout "
                f"{function_timeout:g} s, ServiceTimeout {service_timeout:g} s"
            )

        outcome = run_handler(
            config,
            self.runtime,
            event=event.payload,
            environment=self.environment(config, log_stream_name),
            aws_request_id=aws_request_id,
            log_stream_name=log_stream_name,
            stop_at=stop_at,
            should_kill=None if kill_when is None else (lambda: kill_when(running)),
            on_wait=on_wait,
            timeout_seconds=timeout_seconds,
            cancel=cancel,
        )
        log_file = None
        if self.store is not None and self.settings.write_logs:
            log_file = self.store.log_file(stack_name, config.function_name, log_stream_name)
            log_file.write_text("\n".join(outcome.log_lines) + "\n", encoding="utf-8")
        record = InvocationRecord(
            stack_name=stack_name,
            logical_id=event.logical_id,
            request_type=event.request_type,
            request_id=event.request_id,
            attempt=attempt,
            function_name=config.function_name,
            aws_request_id=aws_request_id,
            log_group_name=config.log_group_name,
            log_stream_name=log_stream_name,
            event=event.redacted(),
            started_at=outcome.started_at,
            duration_seconds=outcome.duration_seconds,
            exit_code=outcome.exit_code,
            stopped_by=outcome.stopped_by,
            log_lines=outcome.log_lines,
            log_file=log_file,
            responses=[
                response
                for response in self.responses(event)
                if response.received_at >= started_wall
            ],
        )
        if self.settings.on_invocation is not None:
            self.settings.on_invocation(record)
        return record

    def responses(self, event: CustomResourceEvent) -> list[RecordedResponse]:
        """Return every response received so far on the event's ResponseURL, oldest first.

        A URL this deployer did not issue has none.
        """
        try:
            return self.recorder.responses_for(event.response_url)
        except ValueError:
            return []

    def _judge(
        self,
        event: CustomResourceEvent,
        config: FunctionConfig,
        attempts: list[InvocationRecord],
        service_timeout: float,
        service_deadline_wall: float,
    ) -> Delivery:
        delivery = Delivery(event=event.redacted(), status="FAILED", attempts=attempts)
        responses = delivery.responses
        if len(responses) > 1:
            answering = sum(1 for attempt in attempts if attempt.responses)
            across = f" across {answering} Lambda attempts" if answering > 1 else ""
            delivery.problems.append(
                f"the handler answered {len(responses)} times to one request{across}; "
                "CloudFormation acts on the first answer only"
            )
        late = [r for r in responses[1:] if r.received_at > service_deadline_wall]
        if late:
            delivery.problems.append(
                f"{len(late)} answer(s) arrived after the ServiceTimeout of {service_timeout:g} s"
            )
        if not responses:
            delivery.failure_kind, delivery.reason = self._silence(
                event, config, attempts, service_timeout
            )
            return delivery

        first = responses[0]
        delivery.response = first
        if first.received_at > service_deadline_wall:
            delivery.failure_kind = FailureKind.LATE_RESPONSE
            delivery.reason = (
                f"The handler answered {first.received_at - service_deadline_wall:.1f} s after "
                f"the ServiceTimeout of {service_timeout:g} s; CloudFormation ignores late "
                "answers"
            )
            return delivery
        problem = first.problem or _mismatch(first.body or {}, event)
        if problem:
            delivery.failure_kind = FailureKind.INVALID_RESPONSE
            delivery.reason = f"Invalid response from the custom resource: {problem}"
            return delivery

        body = first.body or {}
        if body["Status"] == "FAILED":
            delivery.failure_kind = FailureKind.FAILED_RESPONSE
            delivery.physical_resource_id = str(body["PhysicalResourceId"])
            delivery.reason = redact_text(
                "Received response status [FAILED] from custom resource. Message returned: "
                f"{body.get('Reason') or '(none)'} (RequestId: {event.request_id})"
            )
            return delivery
        delivery.status = "SUCCESS"
        delivery.physical_resource_id = str(body["PhysicalResourceId"])
        delivery.data = dict(body.get("Data") or {})
        return delivery

    def _silence(
        self,
        event: CustomResourceEvent,
        config: FunctionConfig,
        attempts: list[InvocationRecord],
        service_timeout: float,
    ) -> tuple[str, str]:
        """Return the failure kind and reason of a request that got no answer at all."""
        where = f"see log group {config.log_group_name}"
        if not attempts:
            return FailureKind.SERVICE_TIMEOUT, (
                f"CloudFormation did not receive a response within the ServiceTimeout of "
                f"{service_timeout:g} s"
            )
        last = attempts[-1]
        where = f"{where}, log stream {last.log_stream_name}"
        tries = f" (after {len(attempts)} attempts)" if len(attempts) > 1 else ""
        if last.stopped_by == "deadline":
            return FailureKind.SERVICE_TIMEOUT, (
                "CloudFormation did not receive a response within the ServiceTimeout of "
                f"{service_timeout:g} s; the function was still running and was stopped "
                f"({where})"
            )
        if last.stopped_by == "timeout":
            seconds = last.duration_seconds
            return FailureKind.TIMED_OUT, (
                f"The function timed out after {seconds:.0f} s without sending a response"
                f"{tries} ({where})"
            )
        if last.stopped_by == "kill_when":
            return FailureKind.NO_RESPONSE, (
                f"The function's sandbox was killed before it sent a response{tries} ({where})"
            )
        if last.stopped_by == "cancelled":
            return FailureKind.NO_RESPONSE, (
                f"The deployer was interrupted before the function sent a response ({where})"
            )
        if last.exit_code == 0:
            return FailureKind.NO_RESPONSE, (
                "The function returned without sending a response; CloudFormation would wait "
                f"out the ServiceTimeout of {service_timeout:g} s ({where})"
            )
        error = redact_text(_last_error(last.log_lines)) or f"exit status {last.exit_code}"
        return FailureKind.NO_RESPONSE, (
            f"The function failed without sending a response{tries}: {error} ({where})"
        )


def _mismatch(body: Mapping[str, Any], event: CustomResourceEvent) -> str:
    """Return what in a response does not belong to ``event``, or ``""``."""
    for name in ("RequestId", "LogicalResourceId", "StackId"):
        expected = event.get(name)
        if expected is not None and body.get(name) != expected:
            return f"response {name} {body.get(name)!r} does not match the request's {expected!r}"
    if len(str(body.get("PhysicalResourceId", ""))) > MAX_PHYSICAL_ID_LENGTH:
        return f"PhysicalResourceId is longer than {MAX_PHYSICAL_ID_LENGTH} characters"
    data = body.get("Data")
    if data is not None and not isinstance(data, dict):
        return f"Data must be an object, got {type(data).__name__}"
    return ""
