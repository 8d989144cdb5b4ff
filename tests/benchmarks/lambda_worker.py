"""A Lambda execution environment stand-in for the benchmarks: init once, then invocations.

The benchmark starts it as ``python -I -S -B lambda_worker.py`` with the function's environment,
as the local deployer starts its sandboxes, and writes JSON lines to its standard input:

- the first line sets it up: ``{"task_root": ..., "runtime_dir": ..., "handler": ...,
  "init": "handler" | "floor"}``. The import path becomes the asset folder, the standard library
  and the runtime folder (boto3 and its dependencies only). ``"handler"`` imports the handler's
  module, which initialises it; ``"floor"`` imports boto3 and crhelper and builds one
  ``lookoutequipment`` client, the least any crhelper handler of this service must do. The
  worker answers with the wall and CPU seconds that took.
- every further line is one invocation, ``{"event": ..., "context": {...}}``, answered with
  the seconds the handler ran and the error it raised, if any. Several invocations in one
  process are a warm Lambda environment reused, as Lambda reuses one between invocations.

Answers go to the original standard output; whatever the handler prints goes to standard error.
This file imports the standard library only: it runs before anything else is importable.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
from typing import Any, TextIO

_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(message)s"


class LambdaContext:
    """The context object the Lambda runtime passes to a Python handler."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.aws_request_id: str = values["aws_request_id"]
        self.function_name: str = values["function_name"]
        self.function_version: str = "$LATEST"
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


def _answer(stream: TextIO, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def _initialise(setup: dict[str, Any]) -> Any:
    """Do the init phase of ``setup["init"]``; return the handler function, or None."""
    if setup["init"] == "floor":
        # The imports are what is being measured.
        import boto3
        import crhelper  # noqa: F401

        boto3.session.Session().client(
            "lookoutequipment", region_name=os.environ.get("AWS_REGION") or None
        )
        return None
    module_name, _, function_name = str(setup["handler"]).rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)


def main() -> int:
    """Set up from the first input line, time the init phase, then serve invocations."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    setup = json.loads(sys.stdin.readline())
    sys.path.insert(0, setup["task_root"])
    sys.path.append(setup["runtime_dir"])
    # The root handler the Lambda runtime installs before the init phase.
    handler_stream = logging.StreamHandler(sys.stderr)
    handler_stream.setFormatter(logging.Formatter(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S"))
    logging.getLogger().addHandler(handler_stream)

    wall_started, cpu_started = time.perf_counter(), time.process_time()
    handler = _initialise(setup)
    _answer(
        answers,
        {
            "init_seconds": time.perf_counter() - wall_started,
            "init_cpu_seconds": time.process_time() - cpu_started,
            "modules": len(sys.modules),
        },
    )

    for line in sys.stdin:
        invocation = json.loads(line)
        started = time.perf_counter()
        error = None
        try:
            if handler is None:
                raise RuntimeError("this worker has no handler: it was set up as the floor")
            handler(invocation["event"], LambdaContext(invocation["context"]))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        _answer(answers, {"seconds": time.perf_counter() - started, "error": error})
    return 0


if __name__ == "__main__":
    sys.exit(main())
