"""Typed values for the RetrainingScheduler construct's props.

Each value checks itself with the shared rules in ``lookout_retraining_handler.rules`` as soon as
it is built, so a wrong literal fails on the line that wrote it. A value that holds an unresolved
CDK token (a CfnParameter, another construct's attribute) is passed through unchecked; the Lambda
handler applies the same rules to the resolved value at deploy time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aws_cdk import Token

from lookout_retraining.tokens import is_unresolved
from lookout_retraining_handler import rules

_RETRAINING_FREQUENCY_PROP = "retraining_frequency"


@dataclass(frozen=True)
class _UnitRange:
    smallest: int
    largest: int
    description: str


# The service allows 30 days (P30D) to one year (P1Y), a month counting 30 days and a year 365.
_DAYS_RANGE = _UnitRange(
    rules.MIN_RETRAINING_DAYS,
    rules.MAX_RETRAINING_DAYS,
    "use a whole number of days from 30 to 365 (the service allows 30 days to one year)",
)
_MONTHS_RANGE = _UnitRange(
    1,
    12,
    "use a whole number of months from 1 to 12 (a month counts as 30 days; the service allows "
    "30 days to one year)",
)
_YEARS_RANGE = _UnitRange(
    1, 1, "use 1 (a year counts as 365 days, the longest frequency the service allows)"
)


@dataclass(frozen=True)
class RetrainingFrequency:
    """How often Lookout for Equipment retrains the model: an ISO 8601 duration.

    The service accepts years, months and days only, from 30 days (``P30D``) to one year
    (``P1Y``), counting a month as 30 days and a year as 365. Build one with :meth:`days`,
    :meth:`months`, :meth:`years` or :meth:`of`.

    Attributes
    ----------
    value:
        The duration as CloudFormation receives it, for example ``"P3M15D"``, or a token.
    """

    value: str

    @classmethod
    def days(cls, days: int | float) -> RetrainingFrequency:
        """Retrain every ``days`` days (30 to 365), or a number token.

        Raises
        ------
        PropertyValidationError
            If ``days`` is not a whole number from 30 to 365.
        """
        return cls._of_unit(days, "D", "days", _DAYS_RANGE)

    @classmethod
    def months(cls, months: int | float) -> RetrainingFrequency:
        """Retrain every ``months`` months (1 to 12; a month counts as 30 days), or a number token.

        Raises
        ------
        PropertyValidationError
            If ``months`` is not a whole number from 1 to 12.
        """
        return cls._of_unit(months, "M", "months", _MONTHS_RANGE)

    @classmethod
    def years(cls, years: int | float) -> RetrainingFrequency:
        """Retrain every ``years`` years (only 1 is allowed: the maximum is 365 days).

        Raises
        ------
        PropertyValidationError
            If ``years`` is not 1 (or a number token).
        """
        return cls._of_unit(years, "Y", "years", _YEARS_RANGE)

    @classmethod
    def of(cls, iso_duration: str) -> RetrainingFrequency:
        """Retrain at an ISO 8601 duration such as ``"P45D"``, ``"P3M15D"`` or ``"P1Y"``.

        Parameters
        ----------
        iso_duration:
            Years, months and days only (``^P(\\dY)?(\\d{1,2}M)?(\\d{1,3}D)?$``), 30 to 365 days.
            A string token is passed through and checked by the handler at deploy time.

        Raises
        ------
        PropertyValidationError
            If a literal duration breaks the service's rules.
        """
        frequency = cls(iso_duration)
        frequency.validate()
        return frequency

    @classmethod
    def _of_unit(
        cls, amount: int | float, designator: str, unit: str, allowed: _UnitRange
    ) -> RetrainingFrequency:
        # Only a number can be a number token, and only a finite one reaches jsii intact: NaN or
        # infinity would crash its kernel process, and every CDK call after it.
        is_number = isinstance(amount, int | float) and not isinstance(amount, bool)
        if is_number and is_unresolved(amount):
            return cls(f"P{Token.as_string(amount)}{designator}")
        if not is_number or not isinstance(amount, int):
            raise rules.PropertyValidationError(
                _RETRAINING_FREQUENCY_PROP,
                amount,
                f"{_RETRAINING_FREQUENCY_PROP} takes a whole number of {unit}, "
                f"got {type(amount).__name__} {rules.echo(amount)}",
            )
        # Checked per unit before the duration is built: the caller wrote a number, so an
        # error about an ISO 8601 pattern (P1000D has four digits) would not be theirs.
        if not allowed.smallest <= amount <= allowed.largest:
            raise rules.PropertyValidationError(
                _RETRAINING_FREQUENCY_PROP,
                amount,
                f"{_RETRAINING_FREQUENCY_PROP} RetrainingFrequency.{unit}({rules.echo(amount)}) is "
                f"out of range: {allowed.description}",
            )
        return cls.of(f"P{amount}{designator}")

    @property
    def is_unresolved(self) -> bool:
        """Whether the duration holds a token that only CloudFormation resolves."""
        return is_unresolved(self.value)

    def validate(self, property_name: str = _RETRAINING_FREQUENCY_PROP) -> None:
        """Check a literal duration against the service's rules; a token passes.

        Parameters
        ----------
        property_name:
            The name the error message gives the value; default ``retraining_frequency``.

        Raises
        ------
        PropertyValidationError
            If the duration is not a string, not a years/months/days duration, or outside 30 to
            365 days.
        """
        if isinstance(self.value, str) and self.is_unresolved:
            return
        rules.retraining_frequency_days(self.value, property_name)

    def __str__(self) -> str:
        return self.value


class LookbackWindow(enum.Enum):
    """How much past data each retraining uses: one of the four windows the service allows."""

    DAYS_180 = "P180D"
    """The last 180 days of data."""

    DAYS_360 = "P360D"
    """The last 360 days of data."""

    DAYS_540 = "P540D"
    """The last 540 days of data."""

    DAYS_720 = "P720D"
    """The last 720 days of data."""


class PromoteMode(enum.Enum):
    """What happens to a newly retrained model version.

    When no mode is given, the service applies its default, ``MANAGED``.
    """

    MANAGED = "MANAGED"
    """The service activates the new version for inference if it performs better."""

    MANUAL = "MANUAL"
    """The new version waits until someone activates it."""
