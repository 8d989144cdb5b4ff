"""Deadlines, cancellation and the status polling backoff."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from lookout_retraining_handler.deadline import (
    Backoff,
    Cancelled,
    Deadline,
    DeadlineExceeded,
    refuse_sends_once_cancelled,
)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_default_starts_under_a_second_and_caps_at_one_and_a_half():
    delays = list(itertools.islice(Backoff().delays(), 8))

    assert delays[:4] == pytest.approx([0.2, 0.3, 0.45, 0.675])
    assert delays[0] < 1.0
    assert max(delays) == 1.5
    assert delays[-1] == 1.5


def test_deadline_check_after_limit_raises_deadline_exceeded():
    clock = ManualClock()
    deadline = Deadline(10.0, clock=clock)
    clock.now += 10.0

    with pytest.raises(DeadlineExceeded, match="while waiting"):
        deadline.check("waiting")


def test_deadline_cancelled_check_raises_cancelled():
    deadline = Deadline(10.0)
    deadline.cancel()

    with pytest.raises(Cancelled):
        deadline.check("calling StopRetrainingScheduler")


def test_deadline_cleanup_extends_limit_to_answer_deadline():
    clock = ManualClock()
    deadline = Deadline(10.0, cleanup_reserve_seconds=4.0, clock=clock)
    clock.now += 7.0

    with pytest.raises(DeadlineExceeded):
        deadline.check("updating")
    with deadline.cleanup():
        deadline.check("deleting what this request created")
        assert deadline.remaining() == pytest.approx(3.0)
    assert deadline.remaining() == pytest.approx(-1.0)


def test_deadline_with_cleanup_reserve_keeps_a_fifth_capped_at_a_minute():
    clock = ManualClock()

    assert Deadline.with_cleanup_reserve(100.0, clock).remaining() == pytest.approx(80.0)
    assert Deadline.with_cleanup_reserve(897.0, clock).remaining() == pytest.approx(837.0)


def test_deadline_sleep_wakes_at_once_on_cancellation():
    deadline = Deadline(30.0)
    threading.Timer(0.05, deadline.cancel).start()
    started = time.monotonic()

    with pytest.raises(Cancelled):
        deadline.sleep(20.0, "waiting for STOPPED")

    assert time.monotonic() - started < 2.0


def test_deadline_sleep_cut_short_by_limit_raises_naming_the_wait():
    deadline = Deadline(0.05)

    with pytest.raises(DeadlineExceeded, match="waiting for STOPPED"):
        deadline.sleep(5.0, "waiting for STOPPED")


def test_cancellation_hook_refuses_send_in_cancelled_thread(unit_session):
    client = unit_session.client("lookoutequipment", endpoint_url="https://127.0.0.1:9")
    refuse_sends_once_cancelled(client)
    deadline = Deadline(30.0)
    deadline.cancel()

    with deadline.bound_to_current_thread(), pytest.raises(Cancelled):
        client.describe_retraining_scheduler(ModelName="pump-1")
