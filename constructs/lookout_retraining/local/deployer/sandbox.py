"""Lambda-like sandboxes: one isolated Python process per handler invocation.

Each invocation runs ``python -I -S -B -u bootstrap.py`` in a new session, with:

- ``sys.path``: the function's code folder first, then the standard library, then a runtime
  folder that exposes boto3 and its runtime dependencies (symlinks into this environment) and
  nothing else, as the Lambda Python runtime ships boto3 and the asset must bring the rest;
- an environment built from scratch: the function's variables and the ones Lambda sets, never
  the caller's (so no credential or setting leaks in from the developer's shell);
- its standard output and error captured line by line as the function's log;
- a kill of the whole process group at the function's timeout, or when the caller asks.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
_RUNTIME_ROOT_DISTRIBUTION = "boto3"
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_KILL_POLL_SECONDS = 0.005
_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class FunctionConfig:
    """What the sandbox needs to know about a Lambda function.

    Attributes
    ----------
    function_name, function_arn:
        The function's name (its physical id) and ARN.
    handler:
        The handler string, such as ``package.module.function``.
    runtime:
        The Lambda runtime identifier, such as ``python3.13``.
    timeout_seconds:
        The function's timeout (Lambda's default is 3 seconds).
    memory_mb:
        The configured memory size (informational: the sandbox does not limit memory).
    environment:
        The function's ``Environment.Variables``.
    code_folder:
        The folder that stands for ``/var/task``: the published asset.
    log_group_name:
        The function's log group.
    """

    function_name: str
    function_arn: str
    handler: str
    runtime: str
    timeout_seconds: float
    memory_mb: int
    environment: Mapping[str, str]
    code_folder: Path
    log_group_name: str


@dataclass(frozen=True)
class RunningInvocation:
    """A handler process that is running: what a ``kill_when`` callback is shown.

    Attributes
    ----------
    logical_id, request_type, request_id:
        The custom resource request it serves.
    attempt:
        1 for the first delivery, 2 and 3 for Lambda's retries of a failed invocation.
    function_name:
        The Lambda function that runs.
    started_at:
        ``time.monotonic()`` when the process started.
    """

    logical_id: str
    request_type: str
    request_id: str
    attempt: int
    function_name: str
    started_at: float

    @property
    def elapsed_seconds(self) -> float:
        """Return the seconds since the process started."""
        return time.monotonic() - self.started_at


@dataclass
class ProcessOutcome:
    """How one sandbox process ended.

    Attributes
    ----------
    exit_code:
        The process's exit status (negative: killed by that signal).
    stopped_by:
        None when the process ended by itself; ``"timeout"`` when the function's timeout
        killed it; ``"kill_when"`` when the caller's callback did; ``"deadline"`` when it was
        still running past the point the caller would wait; ``"cancelled"`` when the caller
        was interrupted.
    log_lines:
        Its output, with Lambda's START, END and REPORT lines around it.
    started_at:
        Wall-clock start (``time.time()``).
    duration_seconds:
        Time from start to exit.
    """

    exit_code: int | None
    stopped_by: str | None
    log_lines: list[str] = field(default_factory=list)
    started_at: float = 0.0
    duration_seconds: float = 0.0


def _distribution_modules(distribution: importlib.metadata.Distribution) -> set[str]:
    top_level = distribution.read_text("top_level.txt")
    if top_level:
        return {line.strip() for line in top_level.splitlines() if line.strip()}
    modules = set()
    for file in distribution.files or []:
        first = file.parts[0]
        if first in ("..", "__pycache__") or first.endswith((".dist-info", ".egg-info")):
            continue
        if len(file.parts) == 1:
            if first.endswith(".py"):
                modules.add(first.removesuffix(".py"))
        else:
            modules.add(first)
    return modules


def runtime_modules(root: str = _RUNTIME_ROOT_DISTRIBUTION) -> dict[str, Path]:
    """Return the importable top-level modules of ``root`` and its installed dependencies.

    Requirements that only an extra needs (``botocore[crt]``) are left out, as the Lambda
    runtime does not ship them.

    Returns
    -------
    dict
        Module name to its package folder or module file in this environment.
    """
    seen: set[str] = set()
    pending = [root]
    modules: dict[str, Path] = {}
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for requirement in distribution.requires or []:
            if "extra ==" in requirement.replace('"', "'").replace("extra==", "extra =="):
                continue
            match = _REQUIREMENT_NAME.match(requirement)
            if match:
                pending.append(match.group(1))
        for module in _distribution_modules(distribution):
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None:
                continue
            origin = Path(spec.origin)
            modules[module] = origin.parent if origin.name == "__init__.py" else origin
    return modules


class LambdaRuntime:
    """A folder exposing boto3 and its runtime dependencies only, and a scratch folder.

    The runtime folder holds one link per top-level module of boto3 and its dependencies
    (:func:`runtime_modules`); the bootstrap runs from the deployer's package, not from here.
    Use it as a context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(self) -> None:
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self.modules: dict[str, Path] = {}

    def __enter__(self) -> LambdaRuntime:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        """Return the runtime folder (the stand-in for ``/var/runtime``)."""
        if self._directory is None:
            raise RuntimeError("the LambdaRuntime is not started: call start() first")
        return Path(self._directory.name) / "runtime"

    @property
    def work_dir(self) -> Path:
        """Return a scratch folder for per-invocation files (the stand-in for ``/tmp``)."""
        if self._directory is None:
            raise RuntimeError("the LambdaRuntime is not started: call start() first")
        return Path(self._directory.name) / "tmp"

    def start(self) -> None:
        """Create the runtime folder and link boto3 and its dependencies into it."""
        if self._directory is not None:
            return
        self._directory = tempfile.TemporaryDirectory(prefix="lookout-lambda-runtime-")
        self.path.mkdir()
        self.work_dir.mkdir()
        self.modules = runtime_modules()
        if "boto3" not in self.modules:
            raise RuntimeError("boto3 is not installed: the Lambda runtime stand-in needs it")
        for source in self.modules.values():
            (self.path / source.name).symlink_to(source)
        logger.debug("Lambda runtime folder holds %s", ", ".join(sorted(self.modules)))

    def close(self) -> None:
        """Remove the runtime folder."""
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None


def _stop_process_group(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def _wait(
    process: subprocess.Popen[str],
    timeout_at: float,
    stop_at: float | None,
    should_kill: Callable[[], bool] | None,
    on_wait: Callable[[float], None] | None,
    cancel: threading.Event | None,
) -> str | None:
    """Wait for the process to end or be stopped; return what stopped it, or None."""
    started = time.monotonic()
    next_report = started
    while process.poll() is None:
        now = time.monotonic()
        stopped_by: str | None = None
        if now >= timeout_at:
            stopped_by = "timeout"
        elif stop_at is not None and now >= stop_at:
            stopped_by = "deadline"
        elif should_kill is not None and should_kill():
            stopped_by = "kill_when"
        elif cancel is not None and cancel.is_set():
            stopped_by = "cancelled"
        if stopped_by is not None:
            _stop_process_group(process)
            process.wait()
            return stopped_by
        if on_wait is not None and now >= next_report:
            on_wait(now - started)
            next_report = now + 0.05
        time.sleep(_KILL_POLL_SECONDS if should_kill is not None else _POLL_SECONDS)
    return None


def run_handler(
    config: FunctionConfig,
    runtime: LambdaRuntime,
    *,
    event: Mapping[str, Any],
    environment: Mapping[str, str],
    aws_request_id: str,
    log_stream_name: str,
    stop_at: float | None = None,
    should_kill: Callable[[], bool] | None = None,
    on_wait: Callable[[float], None] | None = None,
    timeout_seconds: float | None = None,
    cancel: threading.Event | None = None,
) -> ProcessOutcome:
    """Run the function's handler once on ``event`` in a new sandbox process; wait for it.

    Parameters
    ----------
    config:
        The function to run.
    runtime:
        The started runtime folder.
    event:
        The event passed to the handler.
    environment:
        The process's whole environment.
    aws_request_id, log_stream_name:
        Values of the context object.
    stop_at:
        ``time.monotonic()`` value after which a still running process is killed
        (``stopped_by == "deadline"``). Default None: only the timeout applies.
    should_kill:
        Polled every few milliseconds; the process is killed when it returns True
        (``stopped_by == "kill_when"``). Default None.
    on_wait:
        Called about every 50 ms with the seconds elapsed, for progress output. Default None.
    timeout_seconds:
        Overrides the function's timeout for this run. Default None.
    cancel:
        When set, the process is killed (``stopped_by == "cancelled"``). Default None.

    Returns
    -------
    ProcessOutcome
    """
    timeout = config.timeout_seconds if timeout_seconds is None else timeout_seconds
    started_wall = time.time()
    deadline_ms = int((started_wall + timeout) * 1000)
    invocation = {
        "handler": config.handler,
        "task_root": str(config.code_folder),
        "runtime_dir": str(runtime.path),
        "event": event,
        "context": {
            "aws_request_id": aws_request_id,
            "function_name": config.function_name,
            "function_version": "$LATEST",
            "invoked_function_arn": config.function_arn,
            "memory_limit_in_mb": config.memory_mb,
            "log_group_name": config.log_group_name,
            "log_stream_name": log_stream_name,
            "deadline_ms": deadline_ms,
        },
    }
    lines = [f"START RequestId: {aws_request_id} Version: $LATEST"]
    lines_lock = threading.Lock()
    started = time.monotonic()
    # Isolated (-I), no site-packages (-S), no bytecode written into the asset (-B), and
    # unbuffered (-u) so that a killed process loses no log line.
    process = subprocess.Popen(  # noqa: S603 - the interpreter running this code, fixed flags
        [sys.executable, "-I", "-S", "-B", "-u", str(BOOTSTRAP)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=config.code_folder,
        env=dict(environment),
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )

    def read_output() -> None:
        if process.stdout is None:
            return
        for line in process.stdout:
            with lines_lock:
                lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read_output, name=f"log-{aws_request_id[:8]}", daemon=True)
    reader.start()
    stopped_by: str | None = None
    try:
        if process.stdin is not None:
            try:
                process.stdin.write(json.dumps(invocation))
                process.stdin.close()
            except BrokenPipeError:
                logger.debug("The sandbox process exited before reading its invocation")
        stopped_by = _wait(process, started + timeout, stop_at, should_kill, on_wait, cancel)
    finally:
        # Whatever happens here (a callback raising, Ctrl-C), no sandbox outlives its caller,
        # and nothing the handler started outlives the sandbox, as when Lambda ends one.
        _stop_process_group(process)
        process.wait()
    duration = time.monotonic() - started
    reader.join(timeout=5)

    with lines_lock:
        log_lines = list(lines)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    if stopped_by == "timeout":
        log_lines.append(f"{stamp}Z {aws_request_id} Task timed out after {timeout:.2f} seconds")
    elif stopped_by is not None:
        log_lines.append(
            f"{stamp}Z {aws_request_id} Process killed by the local deployer ({stopped_by})"
        )
    log_lines.append(f"END RequestId: {aws_request_id}")
    log_lines.append(
        f"REPORT RequestId: {aws_request_id}\tDuration: {duration * 1000:.2f} ms\t"
        f"Memory Size: {config.memory_mb} MB"
    )
    logger.debug(
        "Sandbox for %s exited with %s after %.2f s (stopped by %s)",
        config.function_name,
        process.returncode,
        duration,
        stopped_by,
    )
    return ProcessOutcome(
        exit_code=process.returncode,
        stopped_by=stopped_by,
        log_lines=log_lines,
        started_at=started_wall,
        duration_seconds=duration,
    )
