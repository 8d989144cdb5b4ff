"""Validation rules for a retraining scheduler's properties.

One set of rules serves both sides: the CDK construct checks every value it knows at synth time,
and the Lambda handler checks the resolved properties at deploy time. The rules follow the
``lookoutequipment`` 2020-12-15 service model and the CreateRetrainingScheduler API reference.
This module needs only the standard library and isodate, as it runs inside the Lambda asset.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

MODEL_NAME_PATTERN = re.compile(r"^[0-9a-zA-Z_-]{1,200}$")
# ASCII: the service validates with a Java pattern, whose \d matches 0-9 only; Python's \d
# would also take other scripts' digits (Arabic-Indic, fullwidth...), which the service refuses.
RETRAINING_FREQUENCY_PATTERN = re.compile(r"^P(?:(\d)Y)?(?:(\d{1,2})M)?(?:(\d{1,3})D)?$", re.ASCII)
MIN_RETRAINING_DAYS = 30
MAX_RETRAINING_DAYS = 365
DAYS_PER_MONTH = 30
DAYS_PER_YEAR = 365
CALENDAR_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}(?:\Z|T)")
LOOKBACK_WINDOWS = ("P180D", "P360D", "P540D", "P720D")
PROMOTE_MODES = ("MANAGED", "MANUAL")
DESIRED_STATES = ("RUNNING", "STOPPED")
MAX_CLIENT_TOKEN_LENGTH = 256

REQUIRED_PROPERTIES = ("ModelName", "RetrainingFrequency", "LookbackWindow")
OPTIONAL_PROPERTIES = (
    "PromoteMode",
    "RetrainingStartDate",
    "ClientToken",
    "DesiredState",
    "AdoptExisting",
)
# CloudFormation adds these to every custom resource's properties; they are not ours to reject.
CLOUDFORMATION_PROPERTIES = ("ServiceToken", "ServiceTimeout")

_ECHO_LIMIT = 80


class PropertyValidationError(ValueError):
    """A property value that breaks a rule.

    Attributes
    ----------
    property_name:
        The property as the caller knows it (``ModelName`` in a template, ``model_name`` in
        the construct).
    value:
        The offending value, unchanged.
    """

    def __init__(self, property_name: str, value: object, message: str) -> None:
        super().__init__(message)
        self.property_name = property_name
        self.value = value


def echo(value: object) -> str:
    """Return a short, printable rendering of a value for an error message."""
    text = repr(value)
    if len(text) <= _ECHO_LIMIT:
        return text
    return f"{text[: _ECHO_LIMIT - 20]}...{text[-12:]} ({len(text)} characters)"


def _require_string(value: object, property_name: str) -> str:
    if not isinstance(value, str):
        raise PropertyValidationError(
            property_name,
            value,
            f"{property_name} must be a string, got {type(value).__name__} {echo(value)}",
        )
    return value


def validate_model_name(value: object, property_name: str = "ModelName") -> str:
    """Return the model name if it matches ``^[0-9a-zA-Z_-]{1,200}$``.

    Raises
    ------
    PropertyValidationError
        If the value is not a string or does not match the pattern.
    """
    text = _require_string(value, property_name)
    # fullmatch, not match: "$" also matches before a trailing newline, which the service refuses.
    if not MODEL_NAME_PATTERN.fullmatch(text):
        raise PropertyValidationError(
            property_name,
            value,
            f"{property_name} {echo(text)} is not a valid model name: use 1 to 200 characters "
            "from A-Z, a-z, 0-9, '_' and '-'",
        )
    return text


def retraining_frequency_days(value: object, property_name: str = "RetrainingFrequency") -> int:
    """Return the length of a retraining frequency in days, after checking it.

    The API accepts an ISO 8601 duration in years, months and days (``P1Y``, ``P2M``,
    ``P3M15D``, ``P150D``), from 30 days (P30D) to one year (P1Y). A month counts as 30 days and
    a year as 365.

    Raises
    ------
    PropertyValidationError
        If the value is not such a duration or falls outside 30 to 365 days.
    """
    text = _require_string(value, property_name)
    match = RETRAINING_FREQUENCY_PATTERN.fullmatch(text)
    if not match:
        raise PropertyValidationError(
            property_name,
            value,
            f"{property_name} {echo(text)} is not an ISO 8601 duration in years, months and "
            "days such as P30D, P2M, P3M15D or P1Y (pattern ^P(\\dY)?(\\d{1,2}M)?(\\d{1,3}D)?$)",
        )
    years, months, days = (int(part) if part else 0 for part in match.groups())
    total_days = years * DAYS_PER_YEAR + months * DAYS_PER_MONTH + days
    if total_days < MIN_RETRAINING_DAYS:
        raise PropertyValidationError(
            property_name,
            value,
            f"{property_name} {echo(text)} is shorter than the minimum of "
            f"{MIN_RETRAINING_DAYS} days (P30D); it counts {total_days} days",
        )
    if total_days > MAX_RETRAINING_DAYS:
        raise PropertyValidationError(
            property_name,
            value,
            f"{property_name} {echo(text)} is longer than the maximum of one year "
            f"({MAX_RETRAINING_DAYS} days, P1Y); it counts {total_days} days "
            "(a month is 30 days, a year 365)",
        )
    return total_days


def _validate_choice(value: object, property_name: str, choices: tuple[str, ...], what: str) -> str:
    text = _require_string(value, property_name)
    if text not in choices:
        raise PropertyValidationError(
            property_name,
            value,
            f"{property_name} {echo(text)} is not {what}: use one of {', '.join(choices)}",
        )
    return text


def validate_lookback_window(value: object, property_name: str = "LookbackWindow") -> str:
    """Return the lookback window if it is one of P180D, P360D, P540D or P720D."""
    return _validate_choice(value, property_name, LOOKBACK_WINDOWS, "an allowed lookback window")


def validate_promote_mode(value: object, property_name: str = "PromoteMode") -> str:
    """Return the promote mode if it is MANAGED or MANUAL."""
    return _validate_choice(value, property_name, PROMOTE_MODES, "a promote mode")


def validate_desired_state(value: object, property_name: str = "DesiredState") -> str:
    """Return the declared running state if it is RUNNING or STOPPED."""
    return _validate_choice(value, property_name, DESIRED_STATES, "a scheduler state")


def validate_client_token(value: object, property_name: str = "ClientToken") -> str:
    """Return the client token if it holds 1 to 256 ASCII characters."""
    text = _require_string(value, property_name)
    if not 1 <= len(text) <= MAX_CLIENT_TOKEN_LENGTH or not text.isascii():
        raise PropertyValidationError(
            property_name,
            value,
            f"{property_name} {echo(text)} must hold 1 to {MAX_CLIENT_TOKEN_LENGTH} ASCII "
            f"characters; it holds {len(text)} characters"
            + ("" if text.isascii() else ", some of them not ASCII"),
        )
    return text


def parse_boolean(value: object, property_name: str) -> bool:
    """Return a flag given as a boolean or as CloudFormation's ``"true"``/``"false"`` string."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise PropertyValidationError(
        property_name,
        value,
        f"{property_name} {echo(value)} is not a flag: use true or false",
    )


def utc_day(moment: datetime.date) -> datetime.date:
    """Return the UTC calendar day of a date or of a timezone-aware datetime.

    Raises
    ------
    ValueError
        If ``moment`` is a naive datetime, whose UTC day cannot be known, or if its UTC day
        falls before the year 1 or after 9999 (0001-01-01T00:00+05:30, say).
    """
    if not isinstance(moment, datetime.datetime):
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no UTC day")
    try:
        return moment.astimezone(datetime.UTC).date()
    except OverflowError as error:
        raise ValueError("its UTC day is outside the years 1 to 9999") from error


def parse_retraining_start_date(
    value: object, property_name: str = "RetrainingStartDate"
) -> datetime.date:
    """Return the UTC day of an ISO 8601 date (``YYYY-MM-DD``) or date-time with an offset.

    The service truncates the start date to its UTC day, so a date-time counts only for the
    day it falls on in UTC. A date-time without an offset is refused, as its day is ambiguous.
    """
    text = _require_string(value, property_name)
    allowed = (
        "use an ISO 8601 date (YYYY-MM-DD) or a date-time with a UTC offset "
        "(YYYY-MM-DDThh:mm:ssZ or +hh:mm)"
    )
    # Imported here rather than at the top: most schedulers declare no start date, and isodate
    # would otherwise add a third of this package's share of every Lambda cold start.
    import isodate

    try:
        # isodate also reads week and ordinal dates (2026-W01-1, 2026-001): the calendar form
        # is the one the API reference shows, so the day must be written YYYY-MM-DD.
        if not CALENDAR_DATE_PREFIX.match(text):
            raise ValueError("not a YYYY-MM-DD calendar date")
        if "T" in text:
            return utc_day(isodate.parse_datetime(text))
        if len(text) != 10:
            raise ValueError("not YYYY-MM-DD")
        return isodate.parse_date(text)
    except ValueError as error:  # isodate.ISO8601Error is a ValueError
        raise PropertyValidationError(
            property_name, value, f"{property_name} {echo(text)} is not a start date: {allowed}"
        ) from error


@dataclass(frozen=True)
class SchedulerProperties:
    """The validated properties of one ``Custom::LookoutEquipmentRetrainingScheduler``."""

    model_name: str
    retraining_frequency: str
    lookback_window: str
    promote_mode: str | None = None
    retraining_start_date: datetime.date | None = None
    client_token: str | None = None
    desired_state: str = "RUNNING"
    adopt_existing: bool = False


def parse_resource_properties(properties: object) -> SchedulerProperties:
    """Check a custom resource's ``ResourceProperties`` the way a native resource would.

    Missing required properties, unknown extra properties, wrong types and values out of range
    are refused. ``ServiceToken`` and ``ServiceTimeout`` belong to CloudFormation and are
    accepted.

    Raises
    ------
    PropertyValidationError
        Naming the first property that breaks a rule, in a fixed order: unknown properties,
        then missing ones, then each property's own rule.
    """
    if not isinstance(properties, Mapping):
        raise PropertyValidationError(
            "ResourceProperties",
            properties,
            f"ResourceProperties must be an object, got {type(properties).__name__}",
        )
    known = REQUIRED_PROPERTIES + OPTIONAL_PROPERTIES + CLOUDFORMATION_PROPERTIES
    unknown = sorted((name for name in properties if name not in known), key=str)
    if unknown:
        named = ", ".join(f"{echo(str(name))} (value {echo(properties[name])})" for name in unknown)
        raise PropertyValidationError(
            str(unknown[0]),
            properties[unknown[0]],
            f"Unknown propert{'y' if len(unknown) == 1 else 'ies'} {named}: the allowed "
            f"properties are {', '.join(REQUIRED_PROPERTIES + OPTIONAL_PROPERTIES)}",
        )
    for name in REQUIRED_PROPERTIES:
        if name not in properties:
            raise PropertyValidationError(name, None, f"{name} is required but missing")

    model_name = validate_model_name(properties["ModelName"])
    retraining_frequency = _require_string(properties["RetrainingFrequency"], "RetrainingFrequency")
    retraining_frequency_days(retraining_frequency)
    lookback_window = validate_lookback_window(properties["LookbackWindow"])
    promote_mode = properties.get("PromoteMode")
    start_date = properties.get("RetrainingStartDate")
    client_token = properties.get("ClientToken")
    return SchedulerProperties(
        model_name=model_name,
        retraining_frequency=retraining_frequency,
        lookback_window=lookback_window,
        promote_mode=None if promote_mode is None else validate_promote_mode(promote_mode),
        retraining_start_date=(
            None if start_date is None else parse_retraining_start_date(start_date)
        ),
        client_token=None if client_token is None else validate_client_token(client_token),
        desired_state=validate_desired_state(properties.get("DesiredState", "RUNNING")),
        adopt_existing=parse_boolean(properties.get("AdoptExisting", "false"), "AdoptExisting"),
    )
