"""Time limits, cancellation and backoff for one invocation.

The lifecycle runs in a worker thread while the handler's main path waits for it until the
answer deadline. Two limits apply to the worker: it does its work until the *work* limit, then
has until the *answer* limit to undo what it created (a cleanup reserve), and after the answer
limit the main path answers FAILED on its own and cancels the worker, which then makes no
further call: every API call and every wait checks the deadline first, and a botocore hook
stops botocore's own retries of a call that was in flight when the invocation gave up.
"""

from __future__ import annotations

import itertools
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from botocore.client import BaseClient

# Undoing a replacement (stop, wait for STOPPED, delete) needs a few calls and one wait: keep a
# fifth of the time for it, but no more than a minute of a long Lambda timeout.
CLEANUP_RESERVE_FRACTION = 0.2
MAX_CLEANUP_RESERVE_SECONDS = 60.0
_CANCELLATION_HOOK_ID = "lookout-retraining-handler-cancellation"

_bound = threading.local()


class Cancelled(Exception):
    """The invocation has answered without this worker; it must make no further call."""


class DeadlineExceeded(Exception):
    """The time for the current step ran out.

    Attributes
    ----------
    doing:
        What the worker was doing, for the FAILED reason ("waiting for ... to reach STOPPED").
    """

    def __init__(self, doing: str) -> None:
        super().__init__(f"ran out of time while {doing}")
        self.doing = doing


@dataclass(frozen=True)
class Backoff:
    """Delays between two reads of a scheduler's status.

    Parameters
    ----------
    initial_seconds:
        First delay. Default 0.2 s: a scheduler that stops quickly is seen stopped quickly.
    factor:
        Growth of each delay over the previous one. Default 1.5.
    cap_seconds:
        Longest delay. Default 1.5 s, so a Delete notices STOPPED at most 1.5 s (plus one
        DescribeRetrainingScheduler call) after the service reaches it.
    """

    initial_seconds: float = 0.2
    factor: float = 1.5
    cap_seconds: float = 1.5

    def delays(self) -> Iterator[float]:
        """Yield the delays, forever; the deadline bounds how many are used."""
        for attempt in itertools.count():
            yield min(self.initial_seconds * self.factor**attempt, self.cap_seconds)


class Deadline:
    """The time limits and the cancellation flag of one invocation.

    Parameters
    ----------
    seconds:
        Time from now until the answer limit, after which the handler answers without the
        worker.
    cleanup_reserve_seconds:
        Time before the answer limit kept for undoing what the request created. Default 0.
    clock:
        Monotonic clock in seconds. Default :func:`time.monotonic`.
    """

    def __init__(
        self,
        seconds: float,
        *,
        cleanup_reserve_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._answer_at = clock() + seconds
        self._work_until = self._answer_at - max(0.0, cleanup_reserve_seconds)
        self._limit = self._work_until
        self._cancelled = threading.Event()

    @classmethod
    def with_cleanup_reserve(
        cls, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        """Return a deadline that keeps part of ``seconds`` for cleanup.

        The reserve is :data:`CLEANUP_RESERVE_FRACTION` of the time, capped at
        :data:`MAX_CLEANUP_RESERVE_SECONDS`.
        """
        reserve = min(max(0.0, seconds) * CLEANUP_RESERVE_FRACTION, MAX_CLEANUP_RESERVE_SECONDS)
        return cls(seconds, cleanup_reserve_seconds=reserve, clock=clock)

    @property
    def cancelled(self) -> bool:
        """Return whether the invocation gave up on the worker."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop the worker at its next call or wait."""
        self._cancelled.set()

    def remaining(self) -> float:
        """Return the seconds left before the current limit (negative once it passed)."""
        return self._limit - self._clock()

    def seconds_to_answer(self) -> float:
        """Return the seconds left before the answer limit, never negative."""
        return max(0.0, self._answer_at - self._clock())

    def check(self, doing: str) -> None:
        """Raise if the worker may not start ``doing`` now.

        Raises
        ------
        Cancelled
            If the invocation gave up on the worker.
        DeadlineExceeded
            If the current limit has passed.
        """
        if self._cancelled.is_set():
            raise Cancelled(f"the invocation answered before {doing}")
        if self.remaining() <= 0:
            raise DeadlineExceeded(doing)

    def sleep(self, seconds: float, doing: str) -> None:
        """Wait ``seconds``, or less if the limit comes first; wake at once on cancellation.

        Raises
        ------
        Cancelled
            If the invocation gives up during the wait.
        DeadlineExceeded
            If the current limit passes before or during the wait.
        """
        self.check(doing)
        if self._cancelled.wait(max(0.0, min(seconds, self.remaining()))):
            raise Cancelled(f"the invocation answered while {doing}")
        # The wait, not the call after it, is what ran out of time: say so.
        if self.remaining() <= 0:
            raise DeadlineExceeded(doing)

    @contextmanager
    def cleanup(self) -> Iterator[None]:
        """Extend the current limit to the answer limit while undoing what the request did."""
        previous = self._limit
        self._limit = self._answer_at
        try:
            yield
        finally:
            self._limit = previous

    @contextmanager
    def bound_to_current_thread(self) -> Iterator[None]:
        """Make this deadline the one that the client's send hook checks in this thread."""
        previous = getattr(_bound, "deadline", None)
        _bound.deadline = self
        try:
            yield
        finally:
            _bound.deadline = previous


def refuse_sends_once_cancelled(client: BaseClient) -> None:
    """Make each HTTP request of ``client``, retries included, check the thread's deadline.

    botocore retries throttled and failed calls inside one API call; this hook stops those
    retries from reaching the service once the invocation has answered without the worker.
    Registering twice on the same client has no further effect.
    """
    client.meta.events.register(
        "before-send.lookoutequipment", _refuse_if_cancelled, unique_id=_CANCELLATION_HOOK_ID
    )


def _refuse_if_cancelled(**_: Any) -> None:
    deadline = getattr(_bound, "deadline", None)
    if isinstance(deadline, Deadline) and deadline.cancelled:
        raise Cancelled("the invocation answered before this request was sent")
