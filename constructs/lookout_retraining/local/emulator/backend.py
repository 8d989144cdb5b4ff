"""The emulated service: models, retraining schedulers and the rules that govern them.

The backend receives requests that already passed the service model's validation, applies the
service rules under one lock, and returns plain values for the protocol layer to serialize.
Status changes that take time on the real service (PENDING to RUNNING, STOPPING to STOPPED) are
computed from timestamps whenever a scheduler is read, so no background thread is needed and a
state file read by another process settles the same way.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.emulator.errors import (
    ConflictException,
    ResourceNotFoundException,
    UnknownOperationException,
    ValidationException,
)
from lookout_retraining.local.emulator.patterns import compile_java_pattern
from lookout_retraining.local.emulator.serialization import EPOCH
from lookout_retraining.local.emulator.service_model import (
    MUTATING_OPERATIONS,
    SUPPORTED_OPERATIONS,
    operation_model,
)
from lookout_retraining.local.emulator.state import (
    ClientTokenRecord,
    EmulatorState,
    ModelRecord,
    SchedulerRecord,
)
from lookout_retraining.local.emulator.validation import (
    check_inputs_supported,
    validate_request,
)

if TYPE_CHECKING:
    import re

    from lookout_retraining.local.emulator.settings import EmulatorSettings
    from lookout_retraining.local.emulator.state import StateFile

logger = logging.getLogger(__name__)

PENDING = "PENDING"
RUNNING = "RUNNING"
STOPPING = "STOPPING"
STOPPED = "STOPPED"
DEFAULT_PROMOTE_MODE = "MANAGED"
MODEL_STATUS = "SUCCESS"
DEFAULT_LIST_PAGE_SIZE = 50
SECONDS_PER_DAY = 86_400
# CreateRetrainingScheduler API reference: "at least 30 days ... at most one year"; a month
# counts as 30 days and a year as 365.
MIN_RETRAINING_DAYS = 30
MAX_RETRAINING_DAYS = 365
DAYS_PER_UNIT = {"Y": 365, "M": 30, "D": 1}

_Handler = Callable[["RequestContext", Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class RequestContext:
    """Who called, as read from the SigV4 credential scope (never verified)."""

    region: str
    access_key_id: str | None = None


class LookoutEquipmentBackend:
    """State and rules of one emulated account, safe to call from many threads.

    Parameters
    ----------
    settings:
        Read on every call, so switches and delays may change at run time.
    state_file:
        Where to load the state from now and save it after every mutating call; ``None``
        (the default) keeps the state in memory only. Mutating calls need the file held
        (:meth:`hold_state_file`).
    clock:
        Wall clock in epoch seconds. Default :func:`time.time`.

    Raises
    ------
    StateFileError
        If ``state_file`` exists but does not hold an emulator state.
    UnsupportedShapeError
        If an implemented operation's input has a member that the validation cannot check.
    """

    def __init__(
        self,
        settings: EmulatorSettings,
        state_file: StateFile | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._state_file = state_file
        self._clock = clock
        self._lock = threading.RLock()
        self._state = state_file.load() if state_file is not None else EmulatorState()
        self._handlers: dict[str, _Handler] = {
            "CreateRetrainingScheduler": self._create_retraining_scheduler,
            "DescribeRetrainingScheduler": self._describe_retraining_scheduler,
            "UpdateRetrainingScheduler": self._update_retraining_scheduler,
            "StartRetrainingScheduler": self._start_retraining_scheduler,
            "StopRetrainingScheduler": self._stop_retraining_scheduler,
            "DeleteRetrainingScheduler": self._delete_retraining_scheduler,
            "ListRetrainingSchedulers": self._list_retraining_schedulers,
            "CreateModel": self._create_model,
            "DescribeModel": self._describe_model,
            "DeleteModel": self._delete_model,
        }
        missing = SUPPORTED_OPERATIONS.symmetric_difference(self._handlers)
        if missing:
            raise RuntimeError(f"Handlers and supported operations disagree on {sorted(missing)}")
        check_inputs_supported(SUPPORTED_OPERATIONS)

    def handle(
        self, operation: str, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Apply one validated request and return its output values.

        A successful mutating call is saved to the state file before this returns.

        Raises
        ------
        ServiceError
            The subclass for the rule the request breaks.
        RuntimeError
            If the call would change a state file that this backend does not hold.
        """
        handler = self._handlers.get(operation)
        if handler is None:
            raise UnknownOperationException(
                f"The emulator does not implement {operation}; it implements "
                f"{', '.join(sorted(self._handlers))}"
            )
        state_file = self._state_file if operation in MUTATING_OPERATIONS else None
        with self._lock:
            if state_file is not None and not state_file.held:
                raise RuntimeError(
                    f"The emulator does not hold its state file {state_file.path}: start it "
                    f"before {operation}, so that no other emulator's changes are overwritten"
                )
            result = handler(context, request)
            if state_file is not None:
                state_file.save(self._state)
        return result

    def hold_state_file(self) -> None:
        """Take the state file, if any, and reload the state from it.

        Reloading under the lock picks up whatever another emulator saved since this one was
        made, so that the first save does not overwrite it.

        Raises
        ------
        StateFileInUseError
            If another emulator holds the file.
        StateFileError
            If the file no longer holds an emulator state.
        """
        if self._state_file is None:
            return
        self._state_file.hold()
        try:
            state = self._state_file.load()
        except BaseException:
            self._state_file.release()
            raise
        with self._lock:
            self._state = state

    def release_state_file(self) -> None:
        """Let another emulator take the state file; idempotent.

        Under the lock, so that a call already past the check that the file is held saves
        before the file is let go, instead of failing with its change unsaved.
        """
        if self._state_file is not None:
            with self._lock:
                self._state_file.release()

    def create_model(
        self, model_name: str, *, region: str, dataset_name: str = "emulator-dataset"
    ) -> str:
        """Create a model as CreateModel would and return its ARN.

        Raises
        ------
        ValidationException
            If the names break the service model's constraints.
        ConflictException
            If the model already exists.
        """
        request = {
            "ModelName": model_name,
            "DatasetName": dataset_name,
            "ClientToken": str(uuid.uuid4()),
        }
        validate_request(operation_model("CreateModel"), request)
        response = self.handle("CreateModel", RequestContext(region=region), request)
        return str(response["ModelArn"])

    def snapshot(self) -> dict[str, Any]:
        """Return the models and retraining schedulers as a JSON-able document.

        Statuses are settled to the present moment; times are ISO 8601 strings in UTC.
        """
        with self._lock:
            now = self._clock()
            models = [
                {
                    "Region": model.region,
                    "ModelName": model.model_name,
                    "ModelArn": model.model_arn,
                    "Status": MODEL_STATUS,
                    "CreatedAt": _iso(_from_millis(model.created_at_ms)),
                }
                for model in sorted(self._state.models.values(), key=_record_order)
            ]
            schedulers = []
            for scheduler in sorted(self._state.schedulers.values(), key=_record_order):
                self._settle(scheduler, now)
                start_date = scheduler.retraining_start_date
                schedulers.append(
                    {
                        "Region": scheduler.region,
                        "ModelName": scheduler.model_name,
                        "ModelArn": scheduler.model_arn,
                        "Status": scheduler.status,
                        "RetrainingFrequency": scheduler.retraining_frequency,
                        "LookbackWindow": scheduler.lookback_window,
                        "PromoteMode": scheduler.promote_mode,
                        "RetrainingStartDate": (
                            None if start_date is None else _iso(_from_seconds(start_date))
                        ),
                        "CreatedAt": _iso(_from_millis(scheduler.created_at_ms)),
                        "UpdatedAt": _iso(_from_millis(scheduler.updated_at_ms)),
                    }
                )
        return {
            "account_id": self.settings.account_id,
            "models": models,
            "schedulers": schedulers,
        }

    def _create_retraining_scheduler(
        self, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        operation = "CreateRetrainingScheduler"
        model_name = request["ModelName"]
        _check_retraining_frequency(request["RetrainingFrequency"])
        replayed = self._replay(context, operation, request)
        if replayed is not None:
            return replayed
        model = self._require_model(context.region, model_name)
        existing = self._state.schedulers.get((context.region, model_name))
        if existing is not None:
            self._settle(existing, self._clock())
            raise ConflictException(
                f"Model {model_name!r} already has a retraining scheduler (status "
                f"{existing.status}, created {_iso(_from_millis(existing.created_at_ms))}); a "
                "model can have only one. Change it with UpdateRetrainingScheduler, or stop and "
                "delete it first. A retry of the request that created it must send that "
                "request's ClientToken."
            )

        now = self._clock()
        now_ms = _millis(now)
        status = PENDING if self.settings.create_starts_scheduler else STOPPED
        self._state.schedulers[(context.region, model_name)] = SchedulerRecord(
            region=context.region,
            model_name=model_name,
            model_arn=model.model_arn,
            retraining_frequency=request["RetrainingFrequency"],
            lookback_window=request["LookbackWindow"],
            promote_mode=request.get("PromoteMode", DEFAULT_PROMOTE_MODE),
            retraining_start_date=_utc_day_start(request.get("RetrainingStartDate")),
            status=status,
            status_changed_at=now,
            created_at_ms=now_ms,
            updated_at_ms=now_ms,
        )
        logger.debug("Created the retraining scheduler of %s (%s)", model_name, status)
        response = {"ModelName": model_name, "ModelArn": model.model_arn, "Status": status}
        self._remember(context, operation, request, response)
        return response

    def _describe_retraining_scheduler(
        self, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        scheduler = self._require_scheduler(context.region, request["ModelName"])
        start_date = scheduler.retraining_start_date
        return {
            "ModelName": scheduler.model_name,
            "ModelArn": scheduler.model_arn,
            "RetrainingStartDate": None if start_date is None else _from_seconds(start_date),
            "RetrainingFrequency": scheduler.retraining_frequency,
            "LookbackWindow": scheduler.lookback_window,
            "Status": scheduler.status,
            "PromoteMode": scheduler.promote_mode,
            "CreatedAt": _from_millis(scheduler.created_at_ms),
            "UpdatedAt": _from_millis(scheduler.updated_at_ms),
        }

    def _update_retraining_scheduler(
        self, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        if "RetrainingFrequency" in request:
            _check_retraining_frequency(request["RetrainingFrequency"])
        scheduler = self._require_scheduler(context.region, request["ModelName"])
        if self.settings.update_requires_stopped and scheduler.status != STOPPED:
            raise ConflictException(
                f"The retraining scheduler of model {scheduler.model_name!r} is "
                f"{scheduler.status}; UpdateRetrainingScheduler requires it to be STOPPED (this "
                "emulator runs with update_requires_stopped). Stop it with "
                "StopRetrainingScheduler, wait for STOPPED, update it, then start it again."
            )

        if "RetrainingFrequency" in request:
            scheduler.retraining_frequency = request["RetrainingFrequency"]
        if "LookbackWindow" in request:
            scheduler.lookback_window = request["LookbackWindow"]
        if "PromoteMode" in request:
            scheduler.promote_mode = request["PromoteMode"]
        if "RetrainingStartDate" in request:
            scheduler.retraining_start_date = _utc_day_start(request["RetrainingStartDate"])
        scheduler.updated_at_ms = _millis(self._clock())
        logger.debug("Updated the retraining scheduler of %s", scheduler.model_name)
        return {}

    def _start_retraining_scheduler(
        self, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        scheduler = self._require_scheduler(context.region, request["ModelName"])
        if scheduler.status != STOPPED:
            hint = {
                PENDING: "it is already starting",
                RUNNING: "it is already running",
                STOPPING: "wait until it is STOPPED, then start it",
            }[scheduler.status]
            raise ConflictException(
                f"The retraining scheduler of model {scheduler.model_name!r} is "
                f"{scheduler.status}; StartRetrainingScheduler requires it to be STOPPED: {hint}."
            )
        self._set_status(scheduler, PENDING)
        return _status_response(scheduler)

    def _stop_retraining_scheduler(
        self, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        scheduler = self._require_scheduler(context.region, request["ModelName"])
        if scheduler.status not in (PENDING, RUNNING):
            hint = {
                STOPPING: "it is already stopping; wait until it is STOPPED",
                STOPPED: "it is already stopped",
            }[scheduler.status]
            raise ConflictException(
                f"The retraining scheduler of model {scheduler.model_name!r} is "
                f"{scheduler.status}; StopRetrainingScheduler requires it to be PENDING or "
                f"RUNNING: {hint}."
            )
        self._set_status(scheduler, STOPPING)
        return _status_response(scheduler)

    def _delete_retraining_scheduler(
        self, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        scheduler = self._require_scheduler(context.region, request["ModelName"])
        if scheduler.status != STOPPED:
            hint = (
                "wait until it is STOPPED"
                if scheduler.status == STOPPING
                else "stop it with StopRetrainingScheduler and wait until it is STOPPED"
            )
            raise ConflictException(
                f"The retraining scheduler of model {scheduler.model_name!r} is "
                f"{scheduler.status}; DeleteRetrainingScheduler requires it to be STOPPED: "
                f"{hint}."
            )
        del self._state.schedulers[(scheduler.region, scheduler.model_name)]
        logger.debug("Deleted the retraining scheduler of %s", scheduler.model_name)
        return {}

    def _list_retraining_schedulers(
        self, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        prefix = request.get("ModelNameBeginsWith", "")
        status_filter = request.get("Status")
        page_size = request.get("MaxResults", DEFAULT_LIST_PAGE_SIZE)
        filters = _filters_fingerprint(context.region, prefix, status_filter)
        after = _decode_next_token(request.get("NextToken"), filters)

        now = self._clock()
        matching = []
        for scheduler in sorted(self._state.schedulers.values(), key=_record_order):
            self._settle(scheduler, now)
            if scheduler.region != context.region:
                continue
            if not scheduler.model_name.startswith(prefix):
                continue
            if status_filter is not None and scheduler.status != status_filter:
                continue
            if after is not None and scheduler.model_name <= after:
                continue
            matching.append(scheduler)
        page = matching[:page_size]
        more = len(matching) > page_size
        return {
            "RetrainingSchedulerSummaries": [_summary(scheduler) for scheduler in page],
            "NextToken": _encode_next_token(page[-1].model_name, filters) if more else None,
        }

    def _create_model(self, context: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        operation = "CreateModel"
        model_name = request["ModelName"]
        replayed = self._replay(context, operation, request)
        if replayed is not None:
            return replayed
        existing = self._state.models.get((context.region, model_name))
        if existing is not None:
            raise ConflictException(
                f"Model {model_name!r} already exists ({existing.model_arn}); choose another "
                "name, or delete it first"
            )

        account = self.settings.account_id
        model_arn = (
            f"arn:aws:lookoutequipment:{context.region}:{account}:model/{model_name}/{uuid.uuid4()}"
        )
        dataset_name = request["DatasetName"]
        described = {name: request[name] for name in _echoed_model_members() if name in request}
        described["DatasetName"] = dataset_name
        described["DatasetArn"] = (
            f"arn:aws:lookoutequipment:{context.region}:{account}:dataset/{dataset_name}/"
            f"{uuid.uuid4()}"
        )
        self._state.models[(context.region, model_name)] = ModelRecord(
            region=context.region,
            model_name=model_name,
            model_arn=model_arn,
            created_at_ms=_millis(self._clock()),
            described=described,
        )
        logger.debug("Created model %s", model_arn)
        response = {"ModelArn": model_arn, "Status": MODEL_STATUS}
        self._remember(context, operation, request, response)
        return response

    def _describe_model(
        self, context: RequestContext, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        model = self._require_model(context.region, request["ModelName"])
        scheduler = self._state.schedulers.get((model.region, model.model_name))
        if scheduler is not None:
            self._settle(scheduler, self._clock())
        created_at = _from_millis(model.created_at_ms)
        return {
            **model.described,
            "ModelName": model.model_name,
            "ModelArn": model.model_arn,
            "Status": MODEL_STATUS,
            "CreatedAt": created_at,
            "LastUpdatedTime": created_at,
            "RetrainingSchedulerStatus": None if scheduler is None else scheduler.status,
        }

    def _delete_model(self, context: RequestContext, request: Mapping[str, Any]) -> dict[str, Any]:
        model = self._require_model(context.region, request["ModelName"])
        key = (model.region, model.model_name)
        # The API reference does not say what happens to a model's retraining scheduler; the
        # emulator deletes it with the model, whatever its status (see the README).
        scheduler = self._state.schedulers.pop(key, None)
        del self._state.models[key]
        if scheduler is not None:
            logger.info(
                "Deleted model %s and, with it, its %s retraining scheduler",
                model.model_name,
                scheduler.status,
            )
        return {}

    def _require_model(self, region: str, model_name: str) -> ModelRecord:
        model = self._state.models.get((region, model_name))
        if model is None:
            raise ResourceNotFoundException(
                f"Model {model_name!r} does not exist in account {self.settings.account_id}, "
                f"region {region}"
            )
        return model

    def _require_scheduler(self, region: str, model_name: str) -> SchedulerRecord:
        self._require_model(region, model_name)
        scheduler = self._state.schedulers.get((region, model_name))
        if scheduler is None:
            raise ResourceNotFoundException(
                f"Model {model_name!r} has no retraining scheduler; create one with "
                "CreateRetrainingScheduler"
            )
        self._settle(scheduler, self._clock())
        return scheduler

    def _settle(self, scheduler: SchedulerRecord, now: float) -> None:
        transitions = {
            PENDING: (RUNNING, self.settings.pending_seconds),
            STOPPING: (STOPPED, self.settings.stopping_seconds),
        }
        transition = transitions.get(scheduler.status)
        if transition is None:
            return
        next_status, delay = transition
        if now - scheduler.status_changed_at < delay:
            return
        scheduler.status = next_status
        scheduler.status_changed_at += delay

    def _set_status(self, scheduler: SchedulerRecord, status: str) -> None:
        logger.debug(
            "Retraining scheduler of %s: %s -> %s", scheduler.model_name, scheduler.status, status
        )
        scheduler.status = status
        scheduler.status_changed_at = self._clock()

    def _replay(
        self, context: RequestContext, operation: str, request: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Return the remembered response of an earlier request with this ClientToken, if any.

        Raises
        ------
        ConflictException
            If the token was used for a request with other parameters.
        """
        token = request["ClientToken"]
        remembered = self._state.client_tokens.get((context.region, operation, token))
        if remembered is None:
            return None
        parameters = _parameters(request)
        if parameters != remembered.parameters:
            differing = sorted(
                name
                for name in parameters.keys() | remembered.parameters.keys()
                if parameters.get(name) != remembered.parameters.get(name)
            )
            raise ConflictException(
                f"ClientToken {token!r} was already used for a {operation} request with other "
                f"parameters (they differ in {', '.join(differing)}); send a new ClientToken "
                "for a different request"
            )
        logger.debug("Replaying the response of %s for ClientToken %s", operation, token)
        return dict(remembered.response)

    def _remember(
        self,
        context: RequestContext,
        operation: str,
        request: Mapping[str, Any],
        response: dict[str, Any],
    ) -> None:
        token = request["ClientToken"]
        self._state.client_tokens[(context.region, operation, token)] = ClientTokenRecord(
            region=context.region,
            operation=operation,
            client_token=token,
            parameters=_parameters(request),
            response=dict(response),
        )


def _check_retraining_frequency(retraining_frequency: str) -> None:
    """Refuse a retraining frequency shorter than 30 days or longer than one year.

    The emulator counts the days itself rather than borrowing the handler's rule, so that a
    mistake in either one shows up in the handler's tests against the emulator.

    Raises
    ------
    ValidationException
        If the frequency does not match the service model's pattern, or counts fewer than 30
        or more than 365 days.
    """
    pattern = _retraining_frequency_pattern()
    match = pattern.fullmatch(retraining_frequency)
    if match is None:
        raise ValidationException(
            f"RetrainingFrequency {retraining_frequency!r} is not an ISO 8601 duration in "
            f"years, months and days: it must match {pattern.pattern}"
        )
    # Each group of the model's pattern is a number followed by its unit: "1Y", "3M", "15D".
    days = sum(int(part[:-1]) * DAYS_PER_UNIT[part[-1]] for part in match.groups() if part)
    counted = f"it counts {days} days (a month is 30 days, a year 365)"
    if days < MIN_RETRAINING_DAYS:
        raise ValidationException(
            f"RetrainingFrequency {retraining_frequency!r} is shorter than the minimum of "
            f"{MIN_RETRAINING_DAYS} days (P30D); {counted}"
        )
    if days > MAX_RETRAINING_DAYS:
        raise ValidationException(
            f"RetrainingFrequency {retraining_frequency!r} is longer than the maximum of one year "
            f"({MAX_RETRAINING_DAYS} days, P1Y); {counted}"
        )


@functools.cache
def _retraining_frequency_pattern() -> re.Pattern[str]:
    """Return the service model's pattern of RetrainingFrequency, compiled."""
    input_shape = operation_model("CreateRetrainingScheduler").input_shape
    if input_shape is None:
        raise RuntimeError("The service model gives CreateRetrainingScheduler no input shape")
    shape = input_shape.members["RetrainingFrequency"]
    return compile_java_pattern(shape.metadata["pattern"])


def _parameters(request: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in request.items() if name != "ClientToken"}


def _status_response(scheduler: SchedulerRecord) -> dict[str, Any]:
    return {
        "ModelName": scheduler.model_name,
        "ModelArn": scheduler.model_arn,
        "Status": scheduler.status,
    }


def _summary(scheduler: SchedulerRecord) -> dict[str, Any]:
    start_date = scheduler.retraining_start_date
    return {
        "ModelName": scheduler.model_name,
        "ModelArn": scheduler.model_arn,
        "Status": scheduler.status,
        "RetrainingStartDate": None if start_date is None else _from_seconds(start_date),
        "RetrainingFrequency": scheduler.retraining_frequency,
        "LookbackWindow": scheduler.lookback_window,
    }


@functools.cache
def _echoed_model_members() -> frozenset[str]:
    """Return the CreateModel members that DescribeModel returns under the same name and shape."""
    request_shape = operation_model("CreateModel").input_shape
    response_shape = operation_model("DescribeModel").output_shape
    if request_shape is None or response_shape is None:
        return frozenset()
    response_members = response_shape.members
    return frozenset(
        name
        for name, shape in request_shape.members.items()
        if name in response_members and response_members[name].name == shape.name
    )


def _filters_fingerprint(region: str, prefix: str, status: str | None) -> str:
    text = json.dumps([region, prefix, status])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _encode_next_token(after: str, filters: str) -> str:
    document = json.dumps({"after": after, "filters": filters}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode("utf-8")).decode("ascii")


def _decode_next_token(next_token: str | None, filters: str) -> str | None:
    if not next_token:
        return None
    invalid = ValidationException(
        f"NextToken {next_token[:40]!r} is not valid for this request: pass the NextToken of "
        "the previous ListRetrainingSchedulers response unchanged, with the same "
        "ModelNameBeginsWith and Status"
    )
    try:
        document = json.loads(base64.urlsafe_b64decode(next_token.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError) as error:
        raise invalid from error
    if not isinstance(document, dict) or document.get("filters") != filters:
        raise invalid
    after = document.get("after")
    if not isinstance(after, str):
        raise invalid
    return after


def _record_order(record: ModelRecord | SchedulerRecord) -> tuple[str, str]:
    return (record.region, record.model_name)


def _utc_day_start(epoch_seconds: float | None) -> int | None:
    # "Lookout for Equipment truncates the time you provide to the nearest UTC day."
    if epoch_seconds is None:
        return None
    return int(epoch_seconds // SECONDS_PER_DAY) * SECONDS_PER_DAY


def _millis(epoch_seconds: float) -> int:
    return int(epoch_seconds * 1000)


def _from_millis(epoch_millis: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(milliseconds=epoch_millis)


def _from_seconds(epoch_seconds: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(seconds=epoch_seconds)


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
