"""The Lambda runtime stand-in: runs one handler invocation in a fresh, isolated process.

The deployer starts it as ``python -I -S -B -u bootstrap.py`` and writes one JSON object to
its standard input: the handler string, the code folder, the runtime folder (boto3 and its
dependencies only), the event and the context values. With ``-I -S`` the process sees neither
the caller's environment variables for Python nor any site-packages, so it imports only the
standard library, the code folder and the runtime folder, in the order the Lambda runtime uses.

This file imports the standard library only: it runs before anything else is importable.

Exit status: 0 when the handler returned, 1 when it raised, 2 when it could not be imported.
The process ends as soon as the handler returns or raises, as Lambda ends the invocation then:
threads the handler left running (daemon or not) are not waited for.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from typing import Any, NoReturn

_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"
_EXIT_HANDLER_ERROR = 1
_EXIT_IMPORT_ERROR = 2


class LambdaContext:
    """The context object the Lambda runtime passes to a Python handler."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.aws_request_id: str = values["aws_request_id"]
        self.function_name: str = values["function_name"]
        self.function_version: str = values["function_version"]
        self.invoked_function_arn: str = values["invoked_function_arn"]
        self.memory_limit_in_mb: str = str(values["memory_limit_in_mb"])
        self.log_group_name: str = values["log_group_name"]
        self.log_stream_name: str = values["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = values["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        """Return the milliseconds left before the function's timeout, as Lambda does."""
        return max(self._deadline_ms - int(time.time() * 1000), 0)


class _RequestIdFilter(logging.Filter):
    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _install_root_handler(request_id: str) -> None:
    """Install the single root handler the Lambda runtime installs: text lines on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter(request_id))
    logging.getLogger().addHandler(handler)


def _log_error(error_type: str, message: str) -> None:
    """Log an error as the Lambda runtime does: type, message, then the traceback if any."""
    trace = traceback.format_exc().rstrip() if sys.exc_info()[0] is not None else ""
    logging.getLogger().error("%s: %s%s", error_type, message, f"\n{trace}" if trace else "")


def main() -> int:
    """Read the invocation from stdin, import the handler and call it once."""
    invocation = json.loads(sys.stdin.read())
    sys.stdin.close()
    sys.path.insert(0, invocation["task_root"])
    sys.path.append(invocation["runtime_dir"])
    context = LambdaContext(invocation["context"])
    _install_root_handler(context.aws_request_id)

    module_name, _, function_name = invocation["handler"].replace("/", ".").rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        _log_error("Runtime.ImportModuleError", f"Unable to import module {module_name!r}: {exc}")
        return _EXIT_IMPORT_ERROR
    handler = getattr(module, function_name, None)
    if not callable(handler):
        _log_error(
            "Runtime.HandlerNotFound",
            f"Handler {function_name!r} missing on module {module_name!r}",
        )
        return _EXIT_IMPORT_ERROR

    try:
        handler(invocation["event"], context)
    except Exception as exc:
        _log_error(type(exc).__name__, str(exc))
        return _EXIT_HANDLER_ERROR
    return 0


def _exit_now(status: int) -> NoReturn:
    """Flush the log and end the process at once, without waiting for any thread.

    ``sys.exit`` would wait for every non-daemon thread the handler started, so a handler that
    answered and returned would be recorded as timing out.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            # A closed or broken stream: there is nothing more to write the log to.
            continue
    logging.shutdown()
    os._exit(status)


if __name__ == "__main__":
    _exit_now(main())
