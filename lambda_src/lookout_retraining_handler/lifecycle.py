"""The lifecycle of a ``Custom::LookoutEquipmentRetrainingScheduler``: create, update, delete.

:func:`run_lifecycle` decides, from one CloudFormation request and what the service reports,
which calls to make and what to answer. It takes the boto3 client as a parameter, so the same
code runs against AWS, the local emulator, or a botocore Stubber.

Ownership is the rule that every path keeps: the physical id names the scheduler this resource
owns (:mod:`lookout_retraining_handler.physical_id`), and a scheduler the resource does not own
is never stopped, changed or deleted, whatever the properties say. A scheduler becomes owned
when this resource's CreateRetrainingScheduler succeeds and the scheduler then on the model has
the settings it sent (the ClientToken ties a redelivered request to what it created, but the
service replays its answer to a reused token even once another scheduler has taken the first
one's place), or when an adoption the template opted into has converged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lookout_retraining_handler.api import (
    CONFLICT,
    RESOURCE_NOT_FOUND,
    RUNNING,
    STARTED_STATUSES,
    STOPPED,
    THROTTLED_CALL_PAUSES,
    SchedulerApi,
    ServiceCallError,
    start_date_timestamp,
)
from lookout_retraining_handler.deadline import Backoff, Deadline, DeadlineExceeded
from lookout_retraining_handler.physical_id import (
    OwnedScheduler,
    PreviousScheduler,
    epoch_millis,
    not_created,
    parse_physical_id,
)
from lookout_retraining_handler.progress import Progress
from lookout_retraining_handler.reasons import quote
from lookout_retraining_handler.rules import (
    PropertyValidationError,
    SchedulerProperties,
    parse_resource_properties,
    utc_day,
)

if TYPE_CHECKING:
    from mypy_boto3_lookoutequipment.client import LookoutEquipmentClient

    from lookout_retraining_handler.api import Scheduler

logger = logging.getLogger(__name__)

SUCCESS = "SUCCESS"
FAILED = "FAILED"
REQUEST_TYPES = ("Create", "Update", "Delete")
# The namespace of derived ClientTokens: fixed forever, or a redelivered request made by a
# newer handler version would no longer match what the older one created.
CLIENT_TOKEN_NAMESPACE = uuid.UUID("5eb18dfc-5496-4121-b929-a7ad2bc3131c")
# A ConflictException on Start, Stop or Delete means the status moved under us; re-reading it
# settles that within a few rounds. A service that keeps refusing is reported, not retried
# until the deadline.
MAX_CONFLICTS_PER_STEP = 5
# What the service applies when CreateRetrainingScheduler gets no PromoteMode.
SERVICE_DEFAULT_PROMOTE_MODE = "MANAGED"
_LONG_TIME = 900.0


@dataclass(frozen=True)
class Request:
    """The fields of a CloudFormation custom resource request that the lifecycle uses.

    ``physical_resource_id`` is None for a Create; ``old_resource_properties`` is given for an
    Update only.
    """

    request_type: str
    request_id: str
    stack_id: str
    logical_resource_id: str
    resource_properties: object
    physical_resource_id: str | None = None
    old_resource_properties: object = None


@dataclass(frozen=True)
class Outcome:
    """The answer to one request.

    Attributes
    ----------
    status:
        ``SUCCESS`` or ``FAILED``.
    physical_resource_id:
        The id to answer with.
    reason:
        Why it failed, without the log location (the handler appends it); empty on success.
    data:
        ``ModelArn``, ``ModelName`` and ``Status`` after a Create or Update that succeeded.
    points_to_logs:
        Whether the logs help with this failure; a validation failure says all there is.
    """

    status: str
    physical_resource_id: str
    reason: str = ""
    data: Mapping[str, str] = field(default_factory=dict)
    points_to_logs: bool = True


class _Failure(Exception):
    """A decided FAILED answer, raised from deep in a path to the top of the lifecycle."""

    def __init__(
        self, reason: str, physical_resource_id: str | None = None, *, points_to_logs: bool = True
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.physical_resource_id = physical_resource_id
        self.points_to_logs = points_to_logs


def derive_client_token(stack_id: str, logical_resource_id: str, request_id: str) -> str:
    """Return the ClientToken of a request that sets none.

    The same request delivered again (Lambda retries an invocation that failed; CloudFormation
    may resend an event) yields the same token, so CreateRetrainingScheduler returns the
    original answer instead of creating a second scheduler or refusing with a conflict.
    """
    return str(uuid.uuid5(CLIENT_TOKEN_NAMESPACE, f"{stack_id}|{logical_resource_id}|{request_id}"))


def settings_changes(scheduler: Scheduler, properties: SchedulerProperties) -> dict[str, Any]:
    """Return the UpdateRetrainingScheduler parameters whose declared value differs.

    RetrainingFrequency and LookbackWindow compare as exact strings (the service stores the
    string it received). PromoteMode and RetrainingStartDate count only when declared, as an
    undeclared one leaves the service's value alone; start dates compare as UTC days, because
    the service truncates them to the day.
    """
    changes: dict[str, Any] = {}
    if scheduler.retraining_frequency != properties.retraining_frequency:
        changes["RetrainingFrequency"] = properties.retraining_frequency
    if scheduler.lookback_window != properties.lookback_window:
        changes["LookbackWindow"] = properties.lookback_window
    if properties.promote_mode is not None and scheduler.promote_mode != properties.promote_mode:
        changes["PromoteMode"] = properties.promote_mode
    declared_day = properties.retraining_start_date
    current = scheduler.retraining_start_date
    if declared_day is not None and (current is None or utc_day(current) != declared_day):
        changes["RetrainingStartDate"] = start_date_timestamp(declared_day)
    return changes


def creation_settings(properties: SchedulerProperties) -> dict[str, Any]:
    """Return the CreateRetrainingScheduler parameters besides ModelName and ClientToken."""
    settings: dict[str, Any] = {
        "RetrainingFrequency": properties.retraining_frequency,
        "LookbackWindow": properties.lookback_window,
    }
    if properties.promote_mode is not None:
        settings["PromoteMode"] = properties.promote_mode
    if properties.retraining_start_date is not None:
        settings["RetrainingStartDate"] = start_date_timestamp(properties.retraining_start_date)
    return settings


def run_lifecycle(
    request: Request,
    client: LookoutEquipmentClient,
    *,
    deadline: Deadline | None = None,
    progress: Progress | None = None,
    backoff: Backoff | None = None,
    retry_pauses: Backoff | None = None,
) -> Outcome:
    """Carry out one Create, Update or Delete request and return the answer to send.

    Parameters
    ----------
    request:
        The request, with its properties as CloudFormation sent them (validated here).
    client:
        A ``lookoutequipment`` client.
    deadline:
        Bounds every call and wait. Default: 15 minutes from now, the longest a Lambda runs.
    progress:
        Receives each step, for the handler to report if it gives up. Default: a private one.
    backoff:
        Delays between two status reads while waiting. Default :class:`Backoff` ().
    retry_pauses:
        Pauses before a throttled or denied call is made again.
        Default :data:`~lookout_retraining_handler.api.THROTTLED_CALL_PAUSES`.

    Raises
    ------
    ValueError
        If ``request.request_type`` is not Create, Update or Delete.
    lookout_retraining_handler.deadline.Cancelled
        If the deadline is cancelled: the handler has answered, and no call follows.
    """
    if request.request_type not in REQUEST_TYPES:
        raise ValueError(
            f"RequestType {request.request_type!r} is not one of {', '.join(REQUEST_TYPES)}"
        )
    deadline = deadline or Deadline(_LONG_TIME)
    progress = progress or Progress(
        request.physical_resource_id or not_created(request.request_id),
        request_type=request.request_type,
        logical_id=request.logical_resource_id,
    )
    api = SchedulerApi(client, deadline, progress, retry_pauses or THROTTLED_CALL_PAUSES)
    return _Lifecycle(request, api, deadline, progress, backoff or Backoff()).run()


class _Lifecycle:
    def __init__(
        self,
        request: Request,
        api: SchedulerApi,
        deadline: Deadline,
        progress: Progress,
        backoff: Backoff,
    ) -> None:
        self._request = request
        self._deadline = deadline
        self._progress = progress
        self._backoff = backoff
        self._api = api

    def run(self) -> Outcome:
        handlers = {"Create": self._create, "Update": self._update, "Delete": self._delete}
        try:
            return handlers[self._request.request_type]()
        except _Failure as failure:
            return self._failed(
                failure.reason, failure.physical_resource_id, points_to_logs=failure.points_to_logs
            )
        except ServiceCallError as error:
            return self._failed(str(error))
        except DeadlineExceeded as exceeded:
            return self._failed(_reason_of(exceeded))

    # Create

    def _create(self) -> Outcome:
        not_owned = not_created(self._request.request_id)
        self._progress.answer_with(not_owned)
        properties = self._validated(not_owned)
        return self._create_or_adopt(properties, not_owned)

    def _create_or_adopt(self, properties: SchedulerProperties, not_owned: str) -> Outcome:
        """Create the scheduler, or adopt the existing one if the template opted in."""
        model_name = properties.model_name
        self._progress.working_on(model_name)
        self._info("Creating the retraining scheduler", model_name)
        # If the invocation gives up while this call is in flight, the scheduler may exist
        # without the resource owning it; the FAILED reason must say so.
        in_flight_note = "it may have created the scheduler: adopt it (AdoptExisting) or delete it"
        try:
            self._create_scheduler(properties, in_flight_note)
        except ServiceCallError as error:
            if error.code != CONFLICT:
                reason = self._create_failure_reason(error, in_flight_note)
                raise _Failure(reason, not_owned) from error
            return self._adopt_on_conflict(properties, error, not_owned)
        return self._take_created(OwnedScheduler(model_name), properties, not_owned, in_flight_note)

    def _create_scheduler(
        self, properties: SchedulerProperties, in_flight_note: str | None
    ) -> None:
        """Call CreateRetrainingScheduler; ``in_flight_note`` says what a give-up would leave."""
        self._progress.leaving_behind(in_flight_note)
        try:
            self._api.create(
                properties.model_name,
                creation_settings(properties),
                self._client_token(properties),
            )
        finally:
            self._progress.leaving_behind(None)

    def _adopt_on_conflict(
        self, properties: SchedulerProperties, conflict: ServiceCallError, not_owned: str
    ) -> Outcome:
        model_name = properties.model_name
        existing = self._api.describe_or_none(model_name)
        if existing is None:
            raise _Failure(
                self._token_conflict_reason(properties, conflict),
                not_owned,
                points_to_logs=properties.client_token is None,
            )
        return self._adopt_or_leave(
            existing,
            OwnedScheduler(model_name),
            properties,
            not_owned,
            _foreign_scheduler_reason(model_name),
        )

    def _adopt_or_leave(
        self,
        existing: Scheduler,
        new_owned: OwnedScheduler,
        properties: SchedulerProperties,
        not_owned: str,
        refusal: str,
    ) -> Outcome:
        """Adopt a scheduler this resource did not create if the template opted in.

        Without the opt-in, fail with ``refusal`` and ``not_owned``, leaving it untouched.
        """
        model_name = new_owned.model_name
        if not properties.adopt_existing:
            self._info("A scheduler this stack did not create exists; leaving it", model_name)
            raise _Failure(refusal, not_owned, points_to_logs=False)
        self._info("Adopting the existing scheduler (AdoptExisting is true)", model_name)
        model_arn, status = self._adopt(existing, properties, not_owned)
        # Owned only now: a failed adoption answers not-created, so the rollback Delete leaves
        # the scheduler where it was instead of deleting what someone else made.
        self._own(new_owned)
        return self._succeeded(new_owned, model_arn, status)

    def _read_created(
        self,
        properties: SchedulerProperties,
        not_owned: str,
        in_flight_note: str | None,
        *,
        owned: bool,
    ) -> Scheduler:
        """Read the scheduler a successful Create answered for.

        ``owned`` says whether the resource already owns it. If not, which scheduler the Create
        answered for is unknown until it is read: a failure (or a give-up) now answers
        ``not_owned``, with ``in_flight_note`` on what may exist. If so, a failure answers the
        owned id, and the rollback Delete removes the scheduler.
        """
        model_name = properties.model_name
        self._progress.leaving_behind(None if owned else in_flight_note)
        try:
            scheduler = self._api.describe_or_none(model_name)
        except (ServiceCallError, DeadlineExceeded) as error:
            if owned:
                raise
            note = "" if in_flight_note is None else f"; {in_flight_note}"
            raise _Failure(f"{_reason_of(error)}{note}", not_owned) from error
        finally:
            self._progress.leaving_behind(None)
        if scheduler is not None:
            return scheduler
        # Create succeeded yet nothing exists: the service replayed the answer of an earlier
        # create with the same ClientToken, whose scheduler was deleted since.
        self._progress.answer_with(not_owned)
        if properties.client_token is None:
            reason = (
                f"CreateRetrainingScheduler replayed the answer to an earlier delivery of this "
                f"request, but model {quote(model_name)} has no scheduler: it was deleted since. "
                "Deploy again to create it"
            )
        else:
            reason = (
                f"CreateRetrainingScheduler replayed an earlier answer for ClientToken "
                f"{quote(properties.client_token, 40)}, but model {quote(model_name)} has no "
                "scheduler: the token was already used. Set a new ClientToken, or remove it"
            )
        raise _Failure(reason, not_owned, points_to_logs=False)

    # Update

    def _update(self) -> Outcome:
        current_id = self._request.physical_resource_id or ""
        self._progress.answer_with(current_id)
        properties = self._without_removed_promote_mode(self._validated(current_id))
        owned = parse_physical_id(current_id)
        if owned is None:
            # Nothing is owned yet (an id this handler never issued): converge the way a
            # Create would, adoption rules included.
            self._info("The physical id owns no scheduler; creating one", properties.model_name)
            return self._create_or_adopt(properties, current_id)
        if owned.model_name == properties.model_name:
            return self._update_in_place(owned, properties)
        self._refuse_unchanged_client_token(owned, properties)
        return self._replace(owned, properties)

    def _without_removed_promote_mode(self, properties: SchedulerProperties) -> SchedulerProperties:
        """Declare the service's default PromoteMode when this update removes a declared one.

        An undeclared PromoteMode leaves the service's value alone, but a value the previous
        properties declared was set by this resource: an update (or the rollback of one) to
        properties without it means the default again, as on a scheduler created without one.
        """
        old_properties = self._request.old_resource_properties
        if properties.promote_mode is not None or not isinstance(old_properties, Mapping):
            return properties
        if old_properties.get("PromoteMode") is None:
            return properties
        return replace(properties, promote_mode=SERVICE_DEFAULT_PROMOTE_MODE)

    def _update_in_place(self, owned: OwnedScheduler, properties: SchedulerProperties) -> Outcome:
        model_name = owned.model_name
        self._info("Updating the retraining scheduler in place", model_name)
        existing = self._api.describe_or_none(model_name)
        if existing is None:
            return self._recreate(owned, properties)
        model_arn, status = self._converge(existing, properties)
        return self._succeeded(owned, model_arn, status)

    def _recreate(self, owned: OwnedScheduler, properties: SchedulerProperties) -> Outcome:
        """Create again the owned scheduler that vanished (deleted by hand)."""
        model_name = owned.model_name
        self._info("The scheduler vanished; creating it again", model_name)
        # The physical id owns this model's scheduler, whatever it is: one that appeared between
        # the read and the create (refused, or answered by a replay) takes its place, and a
        # Delete would remove whatever this call leaves behind, so no note is needed.
        try:
            self._create_scheduler(properties, None)
        except ServiceCallError as error:
            if error.code != CONFLICT:
                raise _Failure(self._create_failure_reason(error, None)) from error
            existing = self._api.describe_or_none(model_name)
            if existing is None:
                raise _Failure(self._token_conflict_reason(properties, error)) from error
            model_arn, status = self._converge(existing, properties)
            return self._succeeded(owned, model_arn, status)
        return self._take_created(owned, properties, str(owned), None, owns_model=True)

    def _refuse_unchanged_client_token(
        self, owned: OwnedScheduler, properties: SchedulerProperties
    ) -> None:
        old_properties = self._request.old_resource_properties
        old_token = (
            old_properties.get("ClientToken") if isinstance(old_properties, Mapping) else None
        )
        if properties.client_token is None or old_token != properties.client_token:
            return
        raise _Failure(
            f"ClientToken {quote(properties.client_token, 40)} did not change while ModelName "
            f"changed from {quote(owned.model_name, 50)} to {quote(properties.model_name, 50)}: "
            "the service refuses a token reused with other parameters. Change ClientToken "
            "together with ModelName, or remove it",
            points_to_logs=False,
        )

    def _replace(self, owned: OwnedScheduler, properties: SchedulerProperties) -> Outcome:
        """Move the resource to the scheduler of another model."""
        new_model = properties.model_name
        self._info(
            "ModelName changed from %s; replacing the scheduler", new_model, owned.model_name
        )
        existing = self._api.describe_or_none(new_model)
        if existing is not None:
            return self._move_to_existing(owned, existing, properties)
        previous = self._previous_of(owned)
        in_flight_note = _replacement_note(new_model)
        try:
            self._create_scheduler(properties, in_flight_note)
        except ServiceCallError as error:
            if error.code != CONFLICT:
                raise _Failure(self._create_failure_reason(error, in_flight_note)) from error
            appeared = self._api.describe_or_none(new_model)
            if appeared is None:
                raise _Failure(self._token_conflict_reason(properties, error)) from error
            return self._move_to_existing(owned, appeared, properties)
        return self._take_created(
            OwnedScheduler(new_model, previous), properties, str(owned), in_flight_note
        )

    def _move_to_existing(
        self, owned: OwnedScheduler, existing: Scheduler, properties: SchedulerProperties
    ) -> Outcome:
        new_model = properties.model_name
        previous = owned.previous
        if (
            previous is not None
            and previous.model_name == new_model
            and existing.created_at is not None
            and epoch_millis(existing.created_at) == previous.created_at_millis
        ):
            # The rollback of a replacement: this is the scheduler the resource owned before,
            # recognised by its creation time.
            self._info("The scheduler is the one this resource owned before; reusing it", new_model)
            model_arn, status = self._converge(existing, properties)
            new_owned = OwnedScheduler(new_model)
            self._own(new_owned)
            return self._succeeded(new_owned, model_arn, status)
        if self._created_by_this_request(properties):
            self._info("An earlier delivery of this request created the scheduler", new_model)
            new_owned = OwnedScheduler(new_model, self._previous_of(owned))
            return self._take_created(
                new_owned, properties, str(owned), _replacement_note(new_model)
            )
        if not properties.adopt_existing:
            self._info("A scheduler this stack did not create exists; leaving it", new_model)
            raise _Failure(_foreign_scheduler_reason(new_model), points_to_logs=False)
        self._info("Adopting the existing scheduler (AdoptExisting is true)", new_model)
        previous_now = self._previous_of(owned)
        model_arn, status = self._adopt(existing, properties, None)
        new_owned = OwnedScheduler(new_model, previous_now)
        self._own(new_owned)
        return self._succeeded(new_owned, model_arn, status)

    def _created_by_this_request(self, properties: SchedulerProperties) -> bool:
        """Tell whether an earlier delivery of this request created the model's scheduler.

        Lambda retries an invocation that failed, and CloudFormation may send a request again;
        the second delivery finds the scheduler the first one created. CreateRetrainingScheduler
        with the request's ClientToken tells: the service replays its answer to a token it has
        seen with the same parameters, and refuses (ConflictException) otherwise.
        """
        try:
            self._create_scheduler(properties, _replacement_note(properties.model_name))
        except ServiceCallError as error:
            if error.code != CONFLICT:
                raise
            return False
        return True

    def _take_created(
        self,
        new_owned: OwnedScheduler,
        properties: SchedulerProperties,
        not_owned: str,
        in_flight_note: str | None,
        *,
        owns_model: bool = False,
    ) -> Outcome:
        """Converge the scheduler a successful Create answered for, and answer that it is owned.

        With a ClientToken of the user's, success does not prove that this request created the
        scheduler now on the model: the service replays its first answer to a token it has
        seen with the same parameters, even when the scheduler it created then is gone and
        another is there now (made by hand since, or a retained one changed since). Settings
        that differ from the ones just sent tell such a scheduler apart: it is adopted with the
        opt-in, and otherwise left untouched by a FAILED answer with ``not_owned``. One whose
        declared settings all match cannot be told from a scheduler this request created.

        A derived token belongs to this request alone, so whatever its Create answered for is
        this resource's. Settings that differ then mean a later change (a Lambda retry of this
        request that comes after the stack moved on) or the service's own spelling of a value:
        they are left as they are, and only the running state is converged. ``owns_model`` is
        for a scheduler created again under a physical id that already owns the model's
        scheduler, whatever it is.

        A Create owns its scheduler as soon as it is known to be this resource's: if a later
        step fails, the FAILED answer carries the owned id and CloudFormation's rollback Delete
        removes it. CloudFormation ignores the physical id of a failed Update, so nothing would
        ever delete it: an Update removes it before answering.
        """
        owned_at_once = owns_model or self._request.request_type == "Create"
        user_token = properties.client_token is not None and not owns_model
        if owned_at_once and not user_token:
            self._own(new_owned)
        scheduler = self._read_created(
            properties, not_owned, in_flight_note, owned=owned_at_once and not user_token
        )
        differing = not owns_model and bool(settings_changes(scheduler, properties))
        if differing and user_token:
            self._info(
                "CreateRetrainingScheduler replayed an earlier answer: the scheduler's settings "
                "differ from the declared ones",
                new_owned.model_name,
            )
            return self._adopt_or_leave(
                scheduler,
                new_owned,
                properties,
                not_owned,
                self._stale_replay_reason(scheduler, properties),
            )
        if differing:
            logger.debug(
                "The scheduler's settings differ from the ones this request sent, a later change "
                "or the service's spelling of a value: leaving them",
                extra=self._progress.log_fields(model=new_owned.model_name),
            )
        if owned_at_once:
            if user_token:
                self._own(new_owned)
            model_arn, status = self._settle_created(scheduler, properties, differing)
            return self._succeeded(new_owned, model_arn, status)
        model_name = new_owned.model_name
        left_behind = _created_by_update(model_name)
        self._progress.leaving_behind(f"{left_behind} may remain: delete it")
        try:
            model_arn, status = self._settle_created(scheduler, properties, differing)
        except (ServiceCallError, DeadlineExceeded, _Failure) as error:
            cleanup = self._remove_created(model_name, left_behind)
            raise _Failure(f"{_reason_of(error)}{cleanup}") from error
        self._progress.leaving_behind(None)
        self._own(new_owned)
        return self._succeeded(new_owned, model_arn, status)

    def _settle_created(
        self, scheduler: Scheduler, properties: SchedulerProperties, keep_settings: bool
    ) -> tuple[str, str]:
        """Converge a created scheduler; with ``keep_settings``, its running state only."""
        if not keep_settings:
            return self._converge(scheduler, properties)
        status = self._converge_running_state(
            scheduler.model_name, properties.desired_state, scheduler.status
        )
        return scheduler.model_arn, status

    def _adopt(
        self, existing: Scheduler, properties: SchedulerProperties, not_owned: str | None
    ) -> tuple[str, str]:
        """Converge a scheduler the resource does not own yet; return (model ARN, status).

        A failed adoption answers an id that owns nothing, so no later request would undo what
        it changed: the scheduler is put back as it was before failing.
        """
        try:
            return self._converge(existing, properties)
        except (ServiceCallError, DeadlineExceeded, _Failure) as error:
            restored = self._restore(existing)
            raise _Failure(f"{_reason_of(error)}; {restored}", not_owned) from error

    def _restore(self, before: Scheduler) -> str:
        """Put a scheduler's settings and running state back; return a clause for the reason."""
        model_name = before.model_name
        self._info("Adoption failed; restoring the scheduler as it was", model_name)
        try:
            with self._deadline.cleanup():
                current = self._api.describe_or_none(model_name)
                if current is None:
                    return f"the scheduler of model {quote(model_name)} is gone"
                now = _settings_of(current)
                changes = {
                    name: value
                    for name, value in _settings_of(before).items()
                    if value is not None and value != now[name]
                }
                status = self._apply_changes(current, changes)
                was_started = before.status in STARTED_STATUSES
                desired_state = RUNNING if was_started else STOPPED
                self._converge_running_state(model_name, desired_state, status)
        except (ServiceCallError, DeadlineExceeded, _Failure) as error:
            logger.error(
                "Could not restore the scheduler after the failed adoption: %s",
                error,
                extra=self._progress.log_fields(model=model_name, outcome="FAILED"),
            )
            return f"restoring its previous settings failed ({_reason_of(error)}): check them"
        return "its previous settings and running state were restored"

    def _previous_of(self, owned: OwnedScheduler) -> PreviousScheduler | None:
        """Return the current scheduler's identity for the new id, or None if it is gone."""
        current = self._api.describe_or_none(owned.model_name)
        if current is None or current.created_at is None:
            return None
        return PreviousScheduler(owned.model_name, epoch_millis(current.created_at))

    def _remove_created(self, model_name: str, description: str) -> str:
        """Stop and delete what this request created; return a clause for the reason.

        The clause starts with "; ", and is empty when there was nothing to remove.
        """
        self._info("Removing the scheduler this request created", model_name)
        try:
            with self._deadline.cleanup():
                removed = self._stop_and_delete(model_name)
        except (ServiceCallError, DeadlineExceeded) as error:
            logger.error(
                "Could not remove the scheduler this request created: %s",
                error,
                extra=self._progress.log_fields(model=model_name, outcome="FAILED"),
            )
            return f"; {description} could not be removed ({_reason_of(error)}): delete it"
        self._progress.leaving_behind(None)
        return f"; {description} was removed" if removed else ""

    # Delete

    def _delete(self) -> Outcome:
        current_id = self._request.physical_resource_id or ""
        owned = parse_physical_id(current_id)
        if owned is None:
            logger.info(
                "The physical id owns no scheduler; nothing to delete",
                extra=self._progress.log_fields(),
            )
            return Outcome(SUCCESS, current_id)
        self._progress.working_on(owned.model_name)
        self._info("Deleting the retraining scheduler", owned.model_name)
        self._stop_and_delete(owned.model_name)
        return Outcome(SUCCESS, current_id)

    def _stop_and_delete(self, model_name: str) -> bool:
        """Stop, wait for STOPPED and delete; return False if the scheduler or model was gone."""
        scheduler = self._api.describe_or_none(model_name)
        if scheduler is None:
            self._info("The scheduler or its model is already gone", model_name)
            return False
        status: str | None = scheduler.status
        for attempt in range(1, MAX_CONFLICTS_PER_STEP + 1):
            if not self._ensure_stopped(model_name, status):
                self._info("The scheduler or its model is already gone", model_name)
                return False
            try:
                self._api.delete(model_name)
            except ServiceCallError as error:
                if error.code == RESOURCE_NOT_FOUND:
                    return False
                if error.code != CONFLICT or attempt == MAX_CONFLICTS_PER_STEP:
                    raise
                logger.debug(
                    "Delete refused (%s); waiting for STOPPED again",
                    error.message,
                    extra=self._progress.log_fields(model=model_name),
                )
                status = None
                continue
            return True
        return False  # not reached: the last refused attempt raises

    # Converging settings and running state

    def _converge(self, scheduler: Scheduler, properties: SchedulerProperties) -> tuple[str, str]:
        """Apply the declared settings and running state; return (model ARN, status)."""
        changes = settings_changes(scheduler, properties)
        if changes and properties.desired_state == STOPPED and scheduler.status != STOPPED:
            # It is to be stopped anyway: stopping first spares the update that a service
            # refusing to update a running scheduler would refuse, and a restart after it.
            stopped = self._converge_running_state(scheduler.model_name, STOPPED, scheduler.status)
            scheduler = replace(scheduler, status=stopped)
        status = self._apply_changes(scheduler, changes)
        status = self._converge_running_state(
            scheduler.model_name, properties.desired_state, status
        )
        return scheduler.model_arn, status

    def _apply_changes(self, scheduler: Scheduler, changes: Mapping[str, Any]) -> str:
        """Update what differs; return the status afterwards."""
        model_name = scheduler.model_name
        if not changes:
            logger.debug(
                "Settings match the declaration; no update",
                extra=self._progress.log_fields(model=model_name),
            )
            return scheduler.status
        logger.debug(
            "Settings differ in %s; updating",
            ", ".join(sorted(changes)),
            extra=self._progress.log_fields(model=model_name),
        )
        try:
            self._api.update(model_name, changes)
            return scheduler.status
        except ServiceCallError as error:
            if error.code != CONFLICT or scheduler.status == STOPPED:
                raise
        # Whether Update may change a running scheduler is not documented; a service that
        # refuses gets a stopped one, and the declared running state is restored after.
        self._info("Update refused while %s; stopping to update", model_name, scheduler.status)
        was_started = scheduler.status in STARTED_STATUSES
        if not self._ensure_stopped(model_name, scheduler.status):
            raise _Failure(f"The scheduler of model {quote(model_name)} vanished while stopping")
        try:
            self._api.update(model_name, changes)
        except (ServiceCallError, DeadlineExceeded) as error:
            left_stopped = (
                self._restart_after_failed_update(model_name, error) if was_started else ""
            )
            if not left_stopped:
                raise
            raise _Failure(f"{_reason_of(error)}{left_stopped}") from error
        return STOPPED

    def _restart_after_failed_update(self, model_name: str, error: Exception) -> str:
        """Start the scheduler stopped for an update that failed; return a clause for the reason.

        The clause starts with "; ", and is empty when the scheduler was started again.
        """
        self._info("Update failed after stopping; restarting the scheduler", model_name)
        try:
            with self._deadline.cleanup():
                self._ensure_started(model_name, STOPPED)
        except (ServiceCallError, DeadlineExceeded) as restart_error:
            logger.error(
                "Could not restart the scheduler after the failed update (%s): %s",
                error,
                restart_error,
                extra=self._progress.log_fields(model=model_name, outcome="FAILED"),
            )
            # The update's error leads the reason; the restart's is in the log.
            return "; starting the scheduler again failed, so it was left STOPPED: start it"
        return ""

    def _converge_running_state(self, model_name: str, desired_state: str, status: str) -> str:
        """Start or stop the scheduler to the declared state; return the status afterwards."""
        if desired_state == STOPPED:
            if not self._ensure_stopped(model_name, status):
                raise _Failure(
                    f"The scheduler of model {quote(model_name)} vanished while stopping"
                )
            return STOPPED
        return self._ensure_started(model_name, status)

    def _ensure_stopped(self, model_name: str, status: str | None) -> bool:
        """Stop the scheduler and wait for STOPPED; return False if it is gone."""
        delays = self._backoff.delays()
        conflicts = 0
        while True:
            if status is None:
                scheduler = self._api.describe_or_none(model_name)
                if scheduler is None:
                    return False
                status = scheduler.status
            if status == STOPPED:
                return True
            if status in STARTED_STATUSES:
                try:
                    status = self._api.stop(model_name)
                except ServiceCallError as error:
                    if error.code == RESOURCE_NOT_FOUND:
                        return False
                    conflicts += 1
                    if error.code != CONFLICT or conflicts >= MAX_CONFLICTS_PER_STEP:
                        raise
                    logger.debug(
                        "Stop refused (%s); reading the status again",
                        error.message,
                        extra=self._progress.log_fields(model=model_name),
                    )
                if status == STOPPED:
                    return True
            self._wait(model_name, "STOPPED", next(delays))
            status = None

    def _ensure_started(self, model_name: str, status: str | None) -> str:
        """Start the scheduler unless it is PENDING or RUNNING; return its status."""
        delays = self._backoff.delays()
        conflicts = 0
        while True:
            if status is None:
                status = self._api.describe(model_name).status
            if status in STARTED_STATUSES:
                return status
            if status == STOPPED:
                try:
                    return self._api.start(model_name)
                except ServiceCallError as error:
                    conflicts += 1
                    if error.code != CONFLICT or conflicts >= MAX_CONFLICTS_PER_STEP:
                        raise
                    logger.debug(
                        "Start refused (%s); reading the status again",
                        error.message,
                        extra=self._progress.log_fields(model=model_name),
                    )
            # STOPPING (Start needs STOPPED), or a refused Start: read again after a pause.
            self._wait(model_name, "STOPPED before starting it", next(delays))
            status = None

    def _wait(self, model_name: str, target: str, seconds: float) -> None:
        doing = f"waiting for the scheduler of model {quote(model_name)} to reach {target}"
        self._progress.step(doing)
        self._deadline.sleep(seconds, doing)

    # Helpers

    def _validated(self, physical_resource_id: str) -> SchedulerProperties:
        try:
            return parse_resource_properties(self._request.resource_properties)
        except PropertyValidationError as error:
            logger.info(
                "Invalid properties: %s",
                error.property_name,
                extra=self._progress.log_fields(outcome="FAILED"),
            )
            raise _Failure(str(error), physical_resource_id, points_to_logs=False) from error

    def _client_token(self, properties: SchedulerProperties) -> str:
        if properties.client_token is not None:
            return properties.client_token
        return derive_client_token(
            self._request.stack_id,
            self._request.logical_resource_id,
            self._request.request_id,
        )

    def _own(self, owned: OwnedScheduler) -> None:
        self._progress.answer_with(str(owned))
        logger.debug("The resource owns %s", owned, extra=self._progress.log_fields())

    def _info(self, message: str, model_name: str, *args: object) -> None:
        logger.info(message, *args, extra=self._progress.log_fields(model=model_name))

    def _create_failure_reason(self, error: ServiceCallError, uncertain_note: str | None) -> str:
        """Say why CreateRetrainingScheduler failed, and what it may have left if unanswered.

        ``uncertain_note`` is added when the service did not refuse the call (a 5xx, or no
        answer after botocore's retries): the scheduler may exist all the same.
        """
        if error.code == RESOURCE_NOT_FOUND:
            return (
                f"Model {quote(error.model_name)} was not found: CreateRetrainingScheduler "
                f"answered {error.code}. Create the model first, or fix ModelName"
            )
        if uncertain_note is not None and not error.refused:
            return f"{error}; {uncertain_note}"
        return str(error)

    def _token_conflict_reason(
        self, properties: SchedulerProperties, conflict: ServiceCallError
    ) -> str:
        if properties.client_token is None:
            return str(conflict)
        return (
            f"CreateRetrainingScheduler refused ClientToken {quote(properties.client_token, 40)} "
            f"({conflict.code}) and model {quote(properties.model_name)} has no scheduler: the "
            "token was already used with other parameters. Set a new ClientToken, or remove it"
        )

    def _stale_replay_reason(self, scheduler: Scheduler, properties: SchedulerProperties) -> str:
        differing = ", ".join(sorted(settings_changes(scheduler, properties)))
        return (
            f"ClientToken {quote(self._client_token(properties), 40)} replayed an earlier "
            f"request: the scheduler on model {quote(properties.model_name)} differs in "
            f"{differing}, so this stack did not create it and left it untouched. Set a new "
            "ClientToken, or AdoptExisting to true"
        )

    def _succeeded(self, owned: OwnedScheduler, model_arn: str, status: str) -> Outcome:
        return Outcome(
            SUCCESS,
            str(owned),
            data={"ModelArn": model_arn, "ModelName": owned.model_name, "Status": status},
        )

    def _failed(
        self, reason: str, physical_resource_id: str | None = None, *, points_to_logs: bool = True
    ) -> Outcome:
        answer_id = physical_resource_id or self._progress.snapshot().physical_resource_id
        return Outcome(FAILED, answer_id, reason, points_to_logs=points_to_logs)


def _foreign_scheduler_reason(model_name: str) -> str:
    return (
        f"A retraining scheduler already exists on model {quote(model_name)} that this stack "
        "did not create; it was left untouched. Set AdoptExisting to true to manage it here, "
        "or delete it"
    )


def _settings_of(scheduler: Scheduler) -> dict[str, Any]:
    """Return a scheduler's settings by their API names (None where the service gave none)."""
    return {
        "RetrainingFrequency": scheduler.retraining_frequency,
        "LookbackWindow": scheduler.lookback_window,
        "PromoteMode": scheduler.promote_mode,
        "RetrainingStartDate": scheduler.retraining_start_date,
    }


def _created_by_update(model_name: str) -> str:
    return f"the scheduler this update created on model {quote(model_name)}"


def _replacement_note(model_name: str) -> str:
    """Say what an Update's CreateRetrainingScheduler may have left if it got no answer."""
    return f"it may have created {_created_by_update(model_name)}: delete it"


def _reason_of(error: Exception) -> str:
    if isinstance(error, _Failure):
        return error.reason
    if isinstance(error, DeadlineExceeded):
        return f"Ran out of time (the Lambda's deadline) while {error.doing}"
    return str(error)
