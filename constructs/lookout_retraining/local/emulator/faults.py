"""Fault injection: throttled, failed and delayed calls, and a calls-per-second limit."""

from __future__ import annotations

import difflib
import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lookout_retraining.local.emulator.errors import (
    InternalServerException,
    ServiceError,
    ThrottlingException,
)
from lookout_retraining.local.emulator.service_model import all_operation_names

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)


@dataclass
class _DelayRule:
    seconds: float
    remaining: int | None


class _TokenBucket:
    """Admits ``rate`` calls per second on average, with bursts up to ``max(1, rate)`` calls."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated_at = now

    def try_take(self, now: float) -> bool:
        # A wall clock may step back (an NTP correction); that must not take tokens away.
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated_at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class FaultInjector:
    """Faults to inject into the next calls, shared by every request thread.

    Throttles and failures queue up per operation and are spent in the order they were
    injected: ``throttle(op, count=2)`` then ``fail(op, count=1)`` throttles the next two calls
    of ``op`` and fails the third. An injected fault answers before the request is validated or
    reaches the service state, so a faulted call changes nothing. A delay holds back the
    response of a call that has already taken effect, like a slow network on the way back.

    Parameters
    ----------
    clock:
        The clock, in seconds, that refills the rate limit. Default :func:`time.monotonic`
        (:class:`Emulator` passes its own clock).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._queued: dict[str, deque[type[ServiceError]]] = {}
        self._delays: dict[str, _DelayRule] = {}
        self._bucket: _TokenBucket | None = None

    def throttle(self, operation: str, count: int = 1) -> None:
        """Answer the next ``count`` calls of ``operation`` with ThrottlingException (HTTP 429).

        Raises
        ------
        ValueError
            If ``operation`` is not in the service model or ``count`` is not a positive integer.
        """
        self._enqueue(operation, count, ThrottlingException)

    def fail(self, operation: str, count: int = 1) -> None:
        """Answer the next ``count`` calls of ``operation`` with InternalServerException (500).

        Raises
        ------
        ValueError
            If ``operation`` is not in the service model or ``count`` is not a positive integer.
        """
        self._enqueue(operation, count, InternalServerException)

    def delay(self, operation: str, seconds: float, count: int | None = None) -> None:
        """Hold back the responses of ``operation`` by ``seconds``.

        The call takes effect at once; only its response waits (without blocking other calls).
        A new delay for the same operation replaces the previous one.

        Parameters
        ----------
        operation:
            An operation name of the service model.
        seconds:
            The delay; ``0`` removes the operation's delay.
        count:
            How many calls to delay; ``None`` (the default) delays every call.

        Raises
        ------
        ValueError
            On an unknown operation, a negative delay or a count below 1.
        """
        _check_operation(operation)
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"Delay of {seconds!r} seconds must be a finite number, 0 or more")
        if count is not None:
            _check_count(count)
        with self._lock:
            if seconds == 0:
                self._delays.pop(operation, None)
                return
            self._delays[operation] = _DelayRule(seconds=seconds, remaining=count)
        logger.debug("Delaying %s responses by %s s (count %s)", operation, seconds, count)

    def rate_limit(self, calls_per_second: float | None) -> None:
        """Limit all operations together to ``calls_per_second``; ``None`` lifts the limit.

        A token bucket admits bursts of up to ``max(1, calls_per_second)`` calls; each call
        beyond the limit is answered with ThrottlingException (HTTP 429).

        Raises
        ------
        ValueError
            If ``calls_per_second`` is not a positive finite number.
        """
        if calls_per_second is not None and not (
            math.isfinite(calls_per_second) and calls_per_second > 0
        ):
            raise ValueError(
                f"calls_per_second {calls_per_second!r} must be a positive number, or None to "
                "lift the limit"
            )
        with self._lock:
            self._bucket = (
                None if calls_per_second is None else _TokenBucket(calls_per_second, self._clock())
            )

    def clear(self) -> None:
        """Remove every queued fault, delay and the rate limit."""
        with self._lock:
            self._queued.clear()
            self._delays.clear()
            self._bucket = None

    def admit(self, operation: str) -> None:
        """Spend the rate limit and the next queued fault of a call to ``operation``.

        Raises
        ------
        ThrottlingException
            If the rate limit is exceeded or a throttle was queued for the operation.
        InternalServerException
            If a failure was queued for the operation.
        """
        with self._lock:
            if self._bucket is not None and not self._bucket.try_take(self._clock()):
                raise ThrottlingException(
                    f"Rate exceeded: the emulator admits {self._bucket.rate:g} calls per second"
                )
            queue = self._queued.get(operation)
            injected = queue.popleft() if queue else None
        if injected is None:
            return
        logger.debug("Injecting %s into a %s call", injected.code, operation)
        if injected is ThrottlingException:
            raise ThrottlingException("Rate exceeded (a fault injected by the emulator)")
        raise injected(f"{operation} failed (a fault injected by the emulator)")

    def take_delay(self, operation: str) -> float:
        """Return the delay for this response of ``operation`` and spend one of its count."""
        with self._lock:
            rule = self._delays.get(operation)
            if rule is None:
                return 0.0
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    del self._delays[operation]
            return rule.seconds

    def _enqueue(self, operation: str, count: int, error: type[ServiceError]) -> None:
        _check_operation(operation)
        _check_count(count)
        with self._lock:
            self._queued.setdefault(operation, deque()).extend([error] * count)
        logger.debug("Queued %s for the next %d %s calls", error.code, count, operation)


def _check_operation(operation: str) -> None:
    known = all_operation_names()
    if operation in known:
        return
    suggestions = difflib.get_close_matches(operation, sorted(known), n=1)
    hint = f"; did you mean {suggestions[0]}?" if suggestions else ""
    raise ValueError(f"{operation!r} is not an operation of the lookoutequipment API{hint}")


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count {count!r} must be a positive integer")
