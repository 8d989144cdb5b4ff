"""The RetrainingScheduler construct: a retraining scheduler on a Lookout for Equipment model."""

from __future__ import annotations

import datetime
import enum
import functools
from typing import TYPE_CHECKING

from aws_cdk import CustomResource, RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from lookout_retraining.provider import (
    DEFAULT_LOG_RETENTION,
    SERVICE_TIMEOUT,
    RetrainingSchedulerProvider,
)
from lookout_retraining.tokens import is_unresolved
from lookout_retraining.values import LookbackWindow, PromoteMode, RetrainingFrequency
from lookout_retraining_handler import rules

if TYPE_CHECKING:
    from collections.abc import Mapping


RESOURCE_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"

_ALLOWED_REMOVAL_POLICIES = (
    RemovalPolicy.DESTROY,
    RemovalPolicy.RETAIN,
    RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
)


class RetrainingScheduler(Construct):
    """A retraining scheduler on an Amazon Lookout for Equipment model.

    The scheduler is a ``Custom::LookoutEquipmentRetrainingScheduler`` resource whose properties
    carry the CreateRetrainingScheduler API's own names. All schedulers in a stack share one
    Lambda function, whose role may call the retraining-scheduler actions only on the models
    the stack declares. Every value known at synth time is checked here, before anything is
    added to the construct tree.

    Four props accept an unresolved token (a CfnParameter, another construct's attribute):
    ``model_name``, ``retraining_frequency`` (through :meth:`RetrainingFrequency.of` with a
    string token, or ``days``, ``months`` or ``years`` with a number token),
    ``retraining_start_date`` and ``client_token``. A token is passed through and checked by
    the handler, with the same rules, at deploy time. Every other prop needs a literal value of
    its type, and a token given for one is refused.

    Parameters
    ----------
    scope:
        The parent construct; it must be inside a Stack.
    id:
        The construct id.
    model_name:
        The model to retrain: 1 to 200 characters from ``A-Z a-z 0-9 _ -``, or a string token
        (a CfnParameter, another construct's attribute). One scheduler per model: two
        schedulers in one stack on the same literal name, or on the same token, are refused.
        Changing it replaces the scheduler: a new one is created on the new model, then the old
        one is deleted.
    retraining_frequency:
        How often to retrain, 30 days to one year, for example
        ``RetrainingFrequency.months(1)``.
    lookback_window:
        How much past data each retraining uses: a :class:`LookbackWindow`, for example
        ``LookbackWindow.DAYS_360``. Neither a string nor a token is accepted.
    promote_mode:
        Whether a retrained model version is activated automatically (``PromoteMode.MANAGED``)
        or waits for someone (``PromoteMode.MANUAL``); neither a string nor a token is
        accepted. Default None, which sends nothing and leaves the service's default,
        ``MANAGED``.
    retraining_start_date:
        The first day retraining may start: a ``datetime.date``; a timezone-aware
        ``datetime.datetime``, which counts for its UTC day (the service truncates to the UTC
        day); or a string the handler accepts, an ISO 8601 date (``YYYY-MM-DD``) or a date-time
        with a UTC offset (``2026-01-05T08:00:00Z``, ``+01:00``). Rendered as the UTC day,
        ``YYYY-MM-DD``. A string token is passed through. Default None: nothing is sent and the
        service's own default applies.
    client_token:
        The idempotency token for CreateRetrainingScheduler, 1 to 256 ASCII characters, or a
        string token.
        Default None: the handler derives one from the stack id, the logical id and the
        CloudFormation request id, so a redelivered request creates nothing twice and every
        new Create gets a new token. A token given here is used for every Create this resource
        makes, and the service refuses the same token with other parameters; so when
        ``model_name`` changes, or a scheduler that vanished must be created again, give a new
        ``client_token`` too.
    running:
        The declared state: True (default) keeps the scheduler RUNNING; False keeps it STOPPED,
        so retraining pauses without deleting the scheduler.
    adopt_existing:
        What a Create does when the model already has a scheduler that this resource did not
        create: False (default) fails and leaves that scheduler untouched; True takes it over,
        converging it to these properties, and from then on this resource manages it,
        deleting it with the stack.
    removal_policy:
        What happens to the scheduler when the resource leaves the stack or is replaced:
        ``DESTROY`` (default) stops and deletes it; ``RETAIN`` leaves it running;
        ``RETAIN_ON_UPDATE_OR_DELETE`` deletes it only when its own creation fails.
        ``SNAPSHOT`` is refused: a scheduler holds no data to snapshot.
    log_retention:
        How long the shared Lambda function's log group keeps its events; default
        ``RetentionDays.THREE_MONTHS``. The schedulers of a stack share that log group, so they
        must all give the same value.

    Raises
    ------
    PropertyValidationError
        If a prop breaks a rule; the message names the prop, echoes the value and states what
        is allowed. Also when another scheduler in the stack uses the same ``model_name``
        (literal or token) or another ``log_retention``.
    SchedulerCapacityError
        If IAM's quotas cannot grant the stack's role one more model (the message says how many
        fit); split the schedulers across stacks.

    Attributes
    ----------
    model_name:
        The model name as given (a token stays a token).
    attr_model_arn:
        The model's ARN, read from the custom resource (``Fn::GetAtt ... ModelArn``).
    attr_status:
        The scheduler's status after the handler's last call (``Fn::GetAtt ... Status``), for
        example ``RUNNING`` or ``STOPPED``.
    custom_resource:
        The underlying ``aws_cdk.CustomResource``, for escape hatches.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_name: str,
        retraining_frequency: RetrainingFrequency,
        lookback_window: LookbackWindow,
        promote_mode: PromoteMode | None = None,
        retraining_start_date: datetime.date | str | None = None,
        client_token: str | None = None,
        running: bool = True,
        adopt_existing: bool = False,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
    ) -> None:
        properties = scheduler_properties(
            model_name=model_name,
            retraining_frequency=retraining_frequency,
            lookback_window=lookback_window,
            promote_mode=promote_mode,
            retraining_start_date=retraining_start_date,
            client_token=client_token,
            running=running,
            adopt_existing=adopt_existing,
        )
        _validate_removal_policy(removal_policy)
        _validate_member("log_retention", log_retention, logs.RetentionDays)
        provider = RetrainingSchedulerProvider.check_new_scheduler(
            scope, model_name=model_name, log_retention=log_retention
        )

        super().__init__(scope, id)

        if provider is None:
            provider = RetrainingSchedulerProvider.of(self, log_retention=log_retention)
        grant = provider.add_scheduler(model_name, self)
        self.custom_resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            service_timeout=SERVICE_TIMEOUT,
            resource_type=RESOURCE_TYPE,
            properties=dict(properties),
            removal_policy=removal_policy,
        )
        # The grant must outlive the scheduler: CloudFormation deletes dependents first.
        self.custom_resource.node.add_dependency(grant)

        self.model_name = model_name

    @functools.cached_property
    def attr_model_arn(self) -> str:
        """The model's ARN, read from the custom resource (``Fn::GetAtt ... ModelArn``)."""
        return self.custom_resource.get_att_string("ModelArn")

    @functools.cached_property
    def attr_status(self) -> str:
        """The scheduler's status after the handler's last call (``Fn::GetAtt ... Status``)."""
        return self.custom_resource.get_att_string("Status")

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """Set what happens to the scheduler when it leaves the stack or is replaced.

        Raises
        ------
        PropertyValidationError
            For ``RemovalPolicy.SNAPSHOT``, which a scheduler cannot honour.
        """
        _validate_removal_policy(policy)
        self.custom_resource.apply_removal_policy(policy)


def scheduler_properties(
    *,
    model_name: str,
    retraining_frequency: RetrainingFrequency,
    lookback_window: LookbackWindow,
    promote_mode: PromoteMode | None = None,
    retraining_start_date: datetime.date | str | None = None,
    client_token: str | None = None,
    running: bool = True,
    adopt_existing: bool = False,
) -> Mapping[str, str]:
    """Check the props and return the custom resource's properties, defaults left out.

    Parameters are as :class:`RetrainingScheduler`'s. Unresolved tokens are passed through.

    Raises
    ------
    PropertyValidationError
        Naming the first prop, in signature order, that breaks a rule.
    """
    properties: dict[str, str] = {
        "ModelName": _checked_model_name(model_name),
        "RetrainingFrequency": _checked_retraining_frequency(retraining_frequency),
        "LookbackWindow": _validate_member("lookback_window", lookback_window, LookbackWindow),
    }
    if promote_mode is not None:
        properties["PromoteMode"] = _validate_member("promote_mode", promote_mode, PromoteMode)
    if retraining_start_date is not None:
        properties["RetrainingStartDate"] = _rendered_start_date(retraining_start_date)
    if client_token is not None:
        properties["ClientToken"] = _checked_client_token(client_token)
    if not _checked_flag("running", running):
        properties["DesiredState"] = "STOPPED"
    if _checked_flag("adopt_existing", adopt_existing):
        properties["AdoptExisting"] = "true"
    return properties


def _is_token(value: object) -> bool:
    return isinstance(value, str) and is_unresolved(value)


def _checked_model_name(model_name: object) -> str:
    if _is_token(model_name):
        return str(model_name)
    return rules.validate_model_name(model_name, "model_name")


def _checked_retraining_frequency(retraining_frequency: object) -> str:
    if not isinstance(retraining_frequency, RetrainingFrequency):
        raise rules.PropertyValidationError(
            "retraining_frequency",
            retraining_frequency,
            f"retraining_frequency must be a RetrainingFrequency, for example "
            f"RetrainingFrequency.days(30) or RetrainingFrequency.of('P3M15D'); got "
            f"{type(retraining_frequency).__name__} {rules.echo(retraining_frequency)}",
        )
    retraining_frequency.validate("retraining_frequency")
    return retraining_frequency.value


def _checked_client_token(client_token: object) -> str:
    if _is_token(client_token):
        return str(client_token)
    return rules.validate_client_token(client_token, "client_token")


def _checked_flag(property_name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise rules.PropertyValidationError(
            property_name,
            value,
            f"{property_name} must be True or False, got {type(value).__name__} "
            f"{rules.echo(value)}",
        )
    return value


def _rendered_start_date(value: object) -> str:
    if _is_token(value):
        return str(value)
    if isinstance(value, str):
        # The handler's own rule, so a string refused here would be refused at deploy time and
        # one accepted here is rendered as its UTC day, the same day the handler would read.
        return rules.parse_retraining_start_date(value, "retraining_start_date").isoformat()
    allowed = (
        "use a datetime.date, a datetime.datetime with a time zone (its UTC day counts), or an "
        "ISO 8601 string: a date (YYYY-MM-DD) or a date-time with a UTC offset"
    )
    if not isinstance(value, datetime.date):
        raise rules.PropertyValidationError(
            "retraining_start_date",
            value,
            f"retraining_start_date {rules.echo(value)} is not a date: {allowed}",
        )
    try:
        return rules.utc_day(value).isoformat()
    except ValueError as error:
        naive = isinstance(value, datetime.datetime) and value.utcoffset() is None
        problem = (
            "has no time zone, so its UTC day is unknown"
            if naive
            else "has no UTC day within the years 1 to 9999"
        )
        raise rules.PropertyValidationError(
            "retraining_start_date",
            value,
            f"retraining_start_date {rules.echo(value)} {problem}: {allowed}",
        ) from error


def _describe(value: object) -> str:
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return rules.echo(value)


def _validate_member(property_name: str, value: object, choices: type[enum.Enum]) -> str:
    if not isinstance(value, choices):
        names = ", ".join(f"{choices.__name__}.{member.name}" for member in choices)
        if isinstance(value, str | float) and is_unresolved(value):
            raise rules.PropertyValidationError(
                property_name,
                value,
                f"{property_name} {_describe(value)} is an unresolved token, which "
                f"{property_name} does not accept: a {choices.__name__} value is required, one "
                f"of {names}",
            )
        raise rules.PropertyValidationError(
            property_name,
            value,
            f"{property_name} {_describe(value)} is not a {choices.__name__}: use one of {names}",
        )
    return str(value.value)


def _validate_removal_policy(removal_policy: object) -> None:
    _validate_member("removal_policy", removal_policy, RemovalPolicy)
    if removal_policy not in _ALLOWED_REMOVAL_POLICIES:
        names = ", ".join(f"RemovalPolicy.{policy.name}" for policy in _ALLOWED_REMOVAL_POLICIES)
        raise rules.PropertyValidationError(
            "removal_policy",
            removal_policy,
            f"removal_policy {_describe(removal_policy)} is not supported: a retraining "
            f"scheduler holds no data to snapshot; use one of {names}",
        )
