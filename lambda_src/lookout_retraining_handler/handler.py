"""Lambda entry point of ``Custom::LookoutEquipmentRetrainingScheduler``.

The Lambda handler string is ``lookout_retraining_handler.handler.handler``. Importing this
module builds, once per container, the ``lookoutequipment`` client and the crhelper resource
(:func:`build_handler`); each invocation then runs the lifecycle in a worker thread of its own
and answers exactly once, before the Lambda's deadline, even when a call hangs.

crhelper's defaults are set on purpose:

- ``sleep_on_delete=0``: its default sleeps 120 s on every Delete, for log delivery that the
  Lambda runtime already guarantees.
- ``log_level`` from ``LOG_LEVEL`` and ``boto_level="WARNING"``, and its own logger pinned at
  INFO or above (:mod:`lookout_retraining_handler.logs`): at DEBUG it logs the whole event and
  the presigned ResponseURL.
- its timer sends FAILED "Execution timed out" 0.5 s before the deadline; this handler answers
  :data:`ANSWER_MARGIN_SECONDS` before it, so the timer never fires on a live invocation.
- its cut of a long Reason keeps the end; reasons arrive here already within 256 characters.
- on an exception it answers with whatever physical id was set (a random one for a Create);
  here the lifecycle never raises into crhelper and always returns the id to answer with.
- it builds Lambda, EventBridge and Logs clients for its polling mode unless ``AWS_SAM_LOCAL``
  is set; the construct sets it, as this handler never polls.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from crhelper import CfnResource

from lookout_retraining_handler.deadline import (
    Backoff,
    Cancelled,
    Deadline,
    refuse_sends_once_cancelled,
)
from lookout_retraining_handler.events import (
    event_problem,
    fallback_physical_id,
    send_response,
    usable_response_url,
    without_crhelper_keys,
)
from lookout_retraining_handler.lifecycle import (
    FAILED,
    SUCCESS,
    Outcome,
    Request,
    run_lifecycle,
)
from lookout_retraining_handler.logs import (
    install_json_formatter,
    pin_library_loggers,
    resolve_log_level,
)
from lookout_retraining_handler.physical_id import not_created, parse_physical_id
from lookout_retraining_handler.progress import Progress, ProgressSnapshot
from lookout_retraining_handler.reasons import (
    compose_reason,
    elide,
    fit_reason_to_response,
    log_location,
    quote,
    response_body,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_lookoutequipment.client import LookoutEquipmentClient

logger = logging.getLogger(__name__)

# The main path answers this long before the Lambda's deadline: crhelper's own timer fires
# 0.5 s before it, and the response PUT to S3 (TLS handshake included) takes well under a
# second; the rest is slack for a slow send, so that one answer arrives, never two.
ANSWER_MARGIN_SECONDS = 3.0
# Standard retry mode: exponential backoff with jitter for throttling (1 s base) and for 5xx
# and connection errors (50 ms base), capped at 20 s. Ten attempts ride out most throttling
# from a stack that creates many schedulers at once; a call throttled through all of them is
# made again after a pause until the deadline (api.THROTTLED_CALL_PAUSES), which bounds the
# whole call. Adaptive mode's client-side rate limiter learns only within one client, and each
# invocation makes a handful of calls, so it would add unbounded waits and nothing else.
MAX_ATTEMPTS = 10
# The endpoint answers a connection in milliseconds; 5 s tolerates a slow network path and
# still leaves time to retry. The control-plane calls answer within a second; 15 s is generous,
# and a read that times out is retried (every call here is safe to repeat: Create carries its
# ClientToken, Start/Stop/Delete conflicts and not-founds are handled).
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 15.0
CLIENT_CONFIG = Config(
    # total_max_attempts counts every attempt; botocore's max_attempts would count retries.
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
)
# An event without a usable clock still gets its FAILED answer sent within this time.
_FALLBACK_SEND_SECONDS = 10.0


def build_client(config: Config = CLIENT_CONFIG) -> LookoutEquipmentClient:
    """Return a ``lookoutequipment`` client, found the standard boto3 way.

    Region, credentials and endpoint come from the environment (``AWS_REGION``, else boto3's
    own ``AWS_DEFAULT_REGION`` and config files; ``AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT``, ...)
    through a session of its own, so a new client sees the environment as it is now. Its
    requests stop once the invocation that makes them has answered
    (:func:`~lookout_retraining_handler.deadline.refuse_sends_once_cancelled`).
    """
    # botocore reads AWS_DEFAULT_REGION only; AWS_REGION is the variable Lambda reserves for
    # the function's region (and the one the local deployer sets), so it comes first.
    region_name = os.environ.get("AWS_REGION") or None
    client = boto3.session.Session().client(
        "lookoutequipment", region_name=region_name, config=config
    )
    refuse_sends_once_cancelled(client)
    return client


def build_handler(
    client: LookoutEquipmentClient | None = None,
    *,
    answer_margin_seconds: float = ANSWER_MARGIN_SECONDS,
    backoff: Backoff | None = None,
) -> Callable[[Any, Any], None]:
    """Return a Lambda handler function with its own client and crhelper resource.

    The module's :func:`handler` is one of these, built at import; tests build another once
    the environment points at an emulator. The handler reads from the Lambda context
    ``get_remaining_time_in_millis()``, ``aws_request_id``, ``log_group_name`` and
    ``log_stream_name`` (``function_name`` when the log names are missing).

    Parameters
    ----------
    client:
        The ``lookoutequipment`` client. Default: :func:`build_client` ().
    answer_margin_seconds:
        How long before the Lambda's deadline the handler answers on its own. Default
        :data:`ANSWER_MARGIN_SECONDS`.
    backoff:
        Delays between status reads while waiting. Default :class:`Backoff` ().
    """
    return _Handler(client, answer_margin_seconds, backoff or Backoff())


class _Handoff:
    """The worker's outcome, or the main path's decision to answer without it."""

    def __init__(self, deadline: Deadline) -> None:
        self._lock = threading.Lock()
        self._deadline = deadline
        self._outcome: Outcome | None = None

    def publish(self, outcome: Outcome) -> None:
        with self._lock:
            if not self._deadline.cancelled:
                self._outcome = outcome

    def take_or_cancel(self) -> Outcome | None:
        with self._lock:
            if self._outcome is None:
                self._deadline.cancel()
            return self._outcome


class _Handler:
    def __init__(
        self, client: LookoutEquipmentClient | None, answer_margin_seconds: float, backoff: Backoff
    ) -> None:
        install_json_formatter()
        requested_level = os.environ.get("LOG_LEVEL")
        self._level_name, level_usable = resolve_log_level(requested_level)
        if not level_usable:
            logger.warning(
                "LOG_LEVEL %s is not a level name; logging at %s",
                quote(requested_level, 40),
                self._level_name,
            )
        self._helper = CfnResource(
            json_logging=False,
            log_level=self._level_name,
            boto_level="WARNING",
            sleep_on_delete=0,
        )
        self._helper.create(self._on_request)
        self._helper.update(self._on_request)
        self._helper.delete(self._on_request)
        pin_library_loggers(self._level_name)
        self._answer_margin_seconds = answer_margin_seconds
        self._backoff = backoff
        self._client = client
        self._client_problem = ""
        if client is None:
            try:
                self._client = build_client()
            except Exception as error:
                # Every invocation then answers FAILED with this (a Delete of an id that owns
                # nothing still succeeds): better than failing the import, which answers nothing.
                self._client_problem = f"{type(error).__name__}: {error}"
                logger.error(
                    "Could not create the Lookout for Equipment client: %s", self._client_problem
                )

    def __call__(self, event: Any, context: Any) -> None:
        install_json_formatter()
        pin_library_loggers(self._level_name)
        response_url = usable_response_url(event)
        if response_url is None:
            logger.error(
                "The event has no usable ResponseURL (an https URL); nothing can be answered "
                "and nothing was done"
            )
            return
        problem = event_problem(event, context)
        if problem is not None:
            self._answer_malformed(event, context, response_url, problem)
            return
        self._helper(without_crhelper_keys(event), context)

    def _answer_malformed(
        self, event: Mapping[str, Any], context: Any, response_url: str, problem: str
    ) -> None:
        logger.error("Malformed event, answering FAILED without any call: %s", problem)
        physical_id = fallback_physical_id(event)
        reason = compose_reason(f"Malformed custom resource event: {problem}")
        ids = {name: event.get(name) for name in ("StackId", "RequestId", "LogicalResourceId")}
        reason = fit_reason_to_response(
            status=FAILED, physical_resource_id=physical_id, event_ids=ids, reason=reason, data={}
        )
        body = response_body(
            status=FAILED, physical_resource_id=physical_id, event_ids=ids, reason=reason, data={}
        )
        if not send_response(response_url, body, _seconds_to_send(context)):
            logger.error("The FAILED answer to the malformed event was not accepted")

    def _on_request(self, event: Mapping[str, Any], context: Any) -> str:
        """Run one request and set crhelper's answer; return the physical id to answer with."""
        request = Request(
            request_type=event["RequestType"],
            request_id=event["RequestId"],
            stack_id=event["StackId"],
            logical_resource_id=event["LogicalResourceId"],
            resource_properties=event.get("ResourceProperties"),
            physical_resource_id=event.get("PhysicalResourceId"),
            old_resource_properties=event.get("OldResourceProperties"),
        )
        progress = Progress(
            request.physical_resource_id or not_created(request.request_id),
            request_type=request.request_type,
            logical_id=request.logical_resource_id,
            aws_request_id=str(getattr(context, "aws_request_id", "") or ""),
        )
        try:
            outcome = self._outcome_of(request, event, context, progress)
        except Exception as error:
            logger.exception("The handler failed", extra=progress.log_fields(outcome=FAILED))
            outcome = Outcome(
                FAILED,
                progress.snapshot().physical_resource_id,
                f"The handler failed unexpectedly ({type(error).__name__}: {error})",
            )
        reason = ""
        if outcome.status != SUCCESS:
            logs = log_location(context) if outcome.points_to_logs else ""
            reason = fit_reason_to_response(
                status=outcome.status,
                physical_resource_id=outcome.physical_resource_id,
                event_ids=event,
                reason=compose_reason(outcome.reason, logs),
                data=outcome.data,
            )
        self._helper.Status = outcome.status
        self._helper.Reason = reason
        self._helper.Data = dict(outcome.data)
        logger.info(
            "%s finished: %s",
            request.request_type,
            outcome.status,
            extra=progress.log_fields(
                outcome=outcome.status, physical_id=outcome.physical_resource_id
            ),
        )
        if reason:
            logger.info("Reason: %s", reason, extra=progress.log_fields(outcome=outcome.status))
        return outcome.physical_resource_id

    def _outcome_of(
        self, request: Request, event: Mapping[str, Any], context: Any, progress: Progress
    ) -> Outcome:
        logger.info("%s request received", request.request_type, extra=progress.log_fields())
        seconds = self._seconds_to_answer(event, context)
        # Create and Update may have to undo a step (restart a scheduler stopped for an update,
        # remove a scheduler a replacement created); a Delete has nothing to undo.
        deadline = (
            Deadline(seconds)
            if request.request_type == "Delete"
            else Deadline.with_cleanup_reserve(seconds)
        )
        handoff = _Handoff(deadline)
        worker = threading.Thread(
            target=self._work,
            args=(request, deadline, progress, handoff),
            name=f"lifecycle-{elide(request.request_id, 16)}",
            daemon=True,
        )
        worker.start()
        worker.join(deadline.seconds_to_answer())
        outcome = handoff.take_or_cancel()
        if outcome is not None:
            return outcome
        snapshot = progress.snapshot()
        logger.error(
            "No result before the deadline; answering FAILED without the worker",
            extra=progress.log_fields(outcome=FAILED),
        )
        return Outcome(FAILED, snapshot.physical_resource_id, _timed_out_reason(snapshot, seconds))

    def _seconds_to_answer(self, event: Mapping[str, Any], context: Any) -> float:
        """Return the time until the answer is due: before the Lambda's deadline, and before
        CloudFormation's ServiceTimeout, after which it no longer waits for one."""
        seconds = context.get_remaining_time_in_millis() / 1000
        properties = event.get("ResourceProperties")
        service_timeout = (
            properties.get("ServiceTimeout") if isinstance(properties, Mapping) else None
        )
        try:
            if service_timeout is not None and float(service_timeout) > 0:
                seconds = min(seconds, float(service_timeout))
        except (TypeError, ValueError):
            logger.debug("ServiceTimeout is not a number; only the Lambda's deadline counts")
        return seconds - self._answer_margin_seconds

    def _work(
        self, request: Request, deadline: Deadline, progress: Progress, handoff: _Handoff
    ) -> None:
        with deadline.bound_to_current_thread():
            try:
                outcome = self._run(request, deadline, progress)
            except Cancelled:
                logger.info(
                    "Stopped: the invocation answered without waiting for this step",
                    extra=progress.log_fields(),
                )
                return
            except Exception as error:
                logger.exception("The lifecycle failed", extra=progress.log_fields(outcome=FAILED))
                outcome = Outcome(
                    FAILED,
                    progress.snapshot().physical_resource_id,
                    f"The handler failed unexpectedly ({type(error).__name__}: {error})",
                )
            handoff.publish(outcome)

    def _run(self, request: Request, deadline: Deadline, progress: Progress) -> Outcome:
        if self._client is not None:
            return run_lifecycle(
                request, self._client, deadline=deadline, progress=progress, backoff=self._backoff
            )
        physical_id = request.physical_resource_id or ""
        if request.request_type == "Delete" and parse_physical_id(physical_id) is None:
            return Outcome(SUCCESS, physical_id)
        return Outcome(
            FAILED,
            progress.snapshot().physical_resource_id,
            f"Could not create the Lookout for Equipment client ({self._client_problem}); "
            "check the function's region and environment",
        )


def _seconds_to_send(context: Any) -> float:
    """Return how long a fallback answer may take: until just before the Lambda's deadline."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    try:
        return (
            max(0.5, float(remaining()) / 1000 - 0.5)
            if callable(remaining)
            else _FALLBACK_SEND_SECONDS
        )
    except (TypeError, ValueError, ArithmeticError):
        # A context whose clock does not answer is the problem being reported; still answer.
        return _FALLBACK_SEND_SECONDS


def _timed_out_reason(snapshot: ProgressSnapshot, seconds: float) -> str:
    # Each step's description names its model already.
    doing = snapshot.doing or "starting"
    left_behind = f"; {snapshot.left_behind}" if snapshot.left_behind else ""
    return f"Timed out after {max(0.0, seconds):.0f} s while {doing}{left_behind}"


_default_handler = build_handler()


def handler(event: Any, context: Any) -> None:
    """Answer one CloudFormation custom resource event (the Lambda entry point)."""
    _default_handler(event, context)
