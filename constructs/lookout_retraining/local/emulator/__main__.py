"""Run the emulator standalone: ``python -m lookout_retraining.local.emulator --port 8700``.

The first line on standard output is the endpoint URL (useful with ``--port 0``); logs go to
standard error. The emulator serves until interrupted (Ctrl+C) or terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from lookout_retraining.local.emulator.command_line import (
    add_switch_arguments,
    serve_until_stopped,
    settings_from,
)
from lookout_retraining.local.emulator.service import Emulator
from lookout_retraining.local.emulator.state import StateFileError

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Return the command line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m lookout_retraining.local.emulator",
        description=(
            "A local Amazon Lookout for Equipment (retraining scheduler API) for boto3: set "
            "AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT to the URL it prints."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (0)")
    parser.add_argument("--account-id", default="123456789012", help="account in ARNs")
    add_switch_arguments(parser)
    parser.add_argument(
        "--state-file", help="JSON file to load the state from and save it to (none: memory)"
    )
    parser.add_argument(
        "--delay",
        action="append",
        default=[],
        metavar="OPERATION=SECONDS",
        help="delay every response of an operation; repeatable",
    )
    parser.add_argument(
        "--rate-limit", type=float, metavar="CALLS_PER_SECOND", help="throttle calls beyond it"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level on standard error (INFO)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM; return the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        settings = settings_from(arguments, account_id=arguments.account_id)
        emulator = Emulator(
            settings, host=arguments.host, port=arguments.port, state_file=arguments.state_file
        )
        for delay in arguments.delay:
            operation, seconds = _parse_delay(delay)
            emulator.faults.delay(operation, seconds)
        if arguments.rate_limit is not None:
            emulator.faults.rate_limit(arguments.rate_limit)
    except (ValueError, StateFileError) as error:
        parser.error(str(error))

    logging.basicConfig(
        level=arguments.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        serve_until_stopped(
            emulator,
            lambda started: logger.info(
                "Set AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT=%s; press Ctrl+C to stop",
                started.endpoint_url,
            ),
        )
    except StateFileError as error:
        # Another emulator holds the state file, or it changed into something unreadable.
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 1
    return 0


def _parse_delay(delay: str) -> tuple[str, float]:
    operation, separator, seconds = delay.partition("=")
    try:
        if not separator:
            raise ValueError("no '='")
        return operation, float(seconds)
    except ValueError as error:
        raise ValueError(
            f"--delay {delay!r} must read OPERATION=SECONDS, such as DescribeModel=0.5"
        ) from error


if __name__ == "__main__":
    sys.exit(main())
