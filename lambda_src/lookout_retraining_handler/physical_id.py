"""The physical resource id scheme: which scheduler a resource owns, and nothing else.

Three forms, parsed without ambiguity because a model name cannot hold ``|``, ``=`` or ``@``:

- ``<ModelName>``: the resource owns the retraining scheduler of that model.
- ``<ModelName>|previous=<PreviousModelName>@<CreatedAtEpochMillis>``: the same, after a
  replacement from another model. The suffix names the scheduler the resource owned before, by
  its creation time, so that a rollback Update back to that model recognises it as its own and
  never mistakes a scheduler someone else created there since.
- ``not-created|<RequestId>``: a Create that failed before it owned anything. Deleting it needs
  no call at all.

Anything else is not an id this handler issued, and it owns nothing.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from lookout_retraining_handler.rules import MODEL_NAME_PATTERN

NOT_CREATED_PREFIX = "not-created|"
_PREVIOUS_MARKER = "|previous="
# Epoch milliseconds of a real CreatedAt have 13 digits until the year 2286; 15 leaves room
# without accepting an absurd number.
_EPOCH_MILLIS_PATTERN = re.compile(r"^[0-9]{1,15}$")


@dataclass(frozen=True)
class PreviousScheduler:
    """The scheduler a resource owned before it moved to another model."""

    model_name: str
    created_at_millis: int


@dataclass(frozen=True)
class OwnedScheduler:
    """A physical id that names a scheduler this resource owns."""

    model_name: str
    previous: PreviousScheduler | None = None

    def __str__(self) -> str:
        if self.previous is None:
            return self.model_name
        return (
            f"{self.model_name}{_PREVIOUS_MARKER}"
            f"{self.previous.model_name}@{self.previous.created_at_millis}"
        )


def not_created(request_id: str) -> str:
    """Return the physical id of a Create that failed before it owned a scheduler."""
    return f"{NOT_CREATED_PREFIX}{request_id}"


def parse_physical_id(physical_id: object) -> OwnedScheduler | None:
    """Return the scheduler a physical id owns, or None when it owns nothing.

    ``not-created|...`` ids, ids of any other shape (another provider's, an empty string, a
    model name with surrounding spaces, a malformed ``previous=`` suffix) and non-strings own
    nothing: a Delete of them succeeds without a call.
    """
    if not isinstance(physical_id, str) or physical_id.startswith(NOT_CREATED_PREFIX):
        return None
    model_name, marker, previous_text = physical_id.partition(_PREVIOUS_MARKER)
    if not MODEL_NAME_PATTERN.fullmatch(model_name):
        return None
    if not marker:
        return OwnedScheduler(model_name)
    previous_model, at_sign, millis_text = previous_text.partition("@")
    if (
        not at_sign
        or not MODEL_NAME_PATTERN.fullmatch(previous_model)
        or not _EPOCH_MILLIS_PATTERN.fullmatch(millis_text)
    ):
        return None
    return OwnedScheduler(model_name, PreviousScheduler(previous_model, int(millis_text)))


def epoch_millis(moment: datetime.datetime) -> int:
    """Return a timezone-aware datetime as whole milliseconds since the Unix epoch.

    Integer arithmetic on the timedelta, so the same CreatedAt always yields the same number
    (a float product could round either way at the millisecond boundary).

    Raises
    ------
    ValueError
        If ``moment`` is naive.
    """
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no epoch time")
    elapsed = moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return (elapsed.days * 86_400 + elapsed.seconds) * 1000 + elapsed.microseconds // 1000
