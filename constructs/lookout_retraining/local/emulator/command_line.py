"""Command-line pieces shared by the emulator's own command and ``lookout-retraining-local``."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING

from lookout_retraining.local.emulator.settings import EmulatorSettings

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from lookout_retraining.local.emulator.service import Emulator


def add_switch_arguments(parser: argparse.ArgumentParser, help_prefix: str = "") -> None:
    """Add the switches and delays of :class:`EmulatorSettings` to ``parser``.

    Parameters
    ----------
    parser:
        The parser (or subcommand parser) to extend.
    help_prefix:
        Put before each help text, for example ``"(started emulator) "``; default none.
    """
    parser.add_argument(
        "--create-starts-scheduler",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"{help_prefix}Create leaves a scheduler PENDING, then RUNNING; "
        "with --no-...: STOPPED (on)",
    )
    parser.add_argument(
        "--update-requires-stopped",
        action=argparse.BooleanOptionalAction,
        default=False,
        help=f"{help_prefix}refuse UpdateRetrainingScheduler unless the scheduler is STOPPED (off)",
    )
    parser.add_argument(
        "--pending-seconds",
        type=float,
        default=0.0,
        help=f"{help_prefix}PENDING -> RUNNING delay (0)",
    )
    parser.add_argument(
        "--stopping-seconds",
        type=float,
        default=0.0,
        help=f"{help_prefix}STOPPING -> STOPPED delay (0)",
    )


def settings_from(
    arguments: argparse.Namespace, *, account_id: str, default_region: str = "us-east-1"
) -> EmulatorSettings:
    """Return the settings that the arguments of :func:`add_switch_arguments` describe.

    Raises
    ------
    ValueError
        If a delay is negative or not a number.
    """
    return EmulatorSettings(
        account_id=account_id,
        create_starts_scheduler=arguments.create_starts_scheduler,
        update_requires_stopped=arguments.update_requires_stopped,
        pending_seconds=arguments.pending_seconds,
        stopping_seconds=arguments.stopping_seconds,
        default_region=default_region,
    )


def serve_until_stopped(
    emulator: Emulator, on_start: Callable[[Emulator], None] | None = None
) -> None:
    """Run ``emulator`` until SIGINT or SIGTERM, printing its URL first on standard output.

    The URL is the signal that the emulator is ready: it is printed once ``on_start`` is done.

    Parameters
    ----------
    emulator:
        A stopped emulator; it is started here and stopped on return.
    on_start:
        Called once the emulator listens, before its URL is printed (to create models, say);
        default none.
    """
    stop_requested = threading.Event()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with emulator:
        if on_start is not None:
            on_start(emulator)
        print(emulator.endpoint_url, flush=True)
        while not stop_requested.wait(timeout=1.0):
            pass
