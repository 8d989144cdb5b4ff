"""The emulator's run-time settings and its record of each call."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]+$")
_DURATION_FIELDS = ("pending_seconds", "stopping_seconds")


@dataclass
class EmulatorSettings:
    """Switches and delays of the emulator, read on every call, so they can change at run time.

    Parameters
    ----------
    account_id:
        The account in every ARN the emulator issues. Default ``"123456789012"``.
    create_starts_scheduler:
        The API reference leaves open whether CreateRetrainingScheduler starts the scheduler.
        ``True`` (the default): Create leaves it PENDING, which becomes RUNNING after
        ``pending_seconds``. ``False``: Create leaves it STOPPED.
    update_requires_stopped:
        The API reference leaves open whether UpdateRetrainingScheduler may change a running
        scheduler. ``False`` (the default): Update works in every state. ``True``: Update is a
        ConflictException unless the scheduler is STOPPED.
    pending_seconds:
        How long a scheduler stays PENDING before it is RUNNING. Default ``0.0``.
    stopping_seconds:
        How long a scheduler stays STOPPING before it is STOPPED. Default ``0.0``.
    default_region:
        The region of a call that carries no SigV4 ``Authorization`` header, and of
        :meth:`Emulator.create_model` when no region is given. Default ``"us-east-1"``.

    Raises
    ------
    ValueError
        When a value is set (at construction or later) that is out of range: an account id
        other than 12 digits, a negative or non-finite delay, a malformed region.
    """

    account_id: str = "123456789012"
    create_starts_scheduler: bool = True
    update_requires_stopped: bool = False
    pending_seconds: float = 0.0
    stopping_seconds: float = 0.0
    default_region: str = "us-east-1"

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "account_id" and not (isinstance(value, str) and _ACCOUNT_ID.match(value)):
            raise ValueError(f"account_id {value!r} must be 12 digits, such as '123456789012'")
        if name == "default_region" and not (isinstance(value, str) and _REGION.match(value)):
            raise ValueError(f"default_region {value!r} is not a region name such as 'us-east-1'")
        if name in _DURATION_FIELDS and not _is_duration(value):
            raise ValueError(f"{name} {value!r} must be a finite number of seconds, 0 or more")
        super().__setattr__(name, value)


def _is_duration(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


@dataclass(frozen=True)
class CallRecord:
    """One call the emulator answered, as the call log keeps it.

    Attributes
    ----------
    operation:
        The operation named by ``X-Amz-Target`` (also for operations the emulator does not
        implement); empty when the header was missing.
    request:
        The parsed JSON request body; ``{}`` when the body was not a JSON object.
    status:
        The HTTP status of the response.
    error_code:
        The ``__type`` of an error response; ``None`` on success.
    started_at, finished_at:
        Wall-clock times (``time.time()``) when the request arrived and when its response was
        ready, injected delays included.
    region:
        From the credential scope of the SigV4 ``Authorization`` header, else the default region.
    access_key_id:
        From the credential scope; ``None`` for an unsigned call.
    """

    operation: str
    request: dict[str, Any] = field(hash=False)
    status: int
    error_code: str | None
    started_at: float
    finished_at: float
    region: str
    access_key_id: str | None
