"""Handler-side figures: cold start, one lifecycle event at a time, and 200 Creates at scale.

Everything runs our synthesized stack (N=1) against the emulator, through the local deployer:
it deploys the stack, which publishes the Lambda asset and gives the function's environment,
exactly as its sandboxes see them. Lifecycle events go through ``LocalDeployer.deliver``, one
fresh sandbox process per event; cold starts and the scale run use :mod:`lambda_worker`, a
Lambda environment stand-in with the same import path and environment that, unlike a sandbox,
can time its init phase alone and serve several invocations.
"""

from __future__ import annotations

import compileall
import contextlib
import json
import math
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lookout_retraining.local.deployer import LocalDeployer
from lookout_retraining.local.deployer.lifecycle import LAMBDA_FUNCTION_TYPE, function_config
from lookout_retraining.local.emulator import MUTATING_OPERATIONS, Emulator, EmulatorSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from lookout_retraining.local.deployer import CustomResourceEvent, Delivery
    from lookout_retraining.local.deployer.sandbox import FunctionConfig
    from lookout_retraining.local.emulator import CallRecord

WORKER = Path(__file__).with_name("lambda_worker.py")
RESOURCE_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"
PENDING_SECONDS = 0.5
STOPPING_SECONDS = 2.0
CHANGED_RETRAINING_FREQUENCY = "P60D"

FLOOR = "floor"
OURS = "ours"
OURS_WITHOUT_SAM_LOCAL = "ours, AWS_SAM_LOCAL unset"
OURS_PRECOMPILED = "ours, asset precompiled"
COLD_START_VARIANTS = (FLOOR, OURS, OURS_WITHOUT_SAM_LOCAL, OURS_PRECOMPILED)

CREATE = "Create"
NO_OP_UPDATE = "no-op Update"
IN_PLACE_UPDATE = "in-place Update"
DELETE = "Delete"
LIFECYCLE_EVENTS = (CREATE, NO_OP_UPDATE, IN_PLACE_UPDATE, DELETE)


@dataclass(frozen=True)
class LambdaFunction:
    """The deployed function as a sandbox runs it: code, runtime folder and environment."""

    config: FunctionConfig
    runtime_dir: Path
    environment: Mapping[str, str]

    def context_values(self) -> dict[str, Any]:
        """Return the context of one new invocation, its deadline the function's timeout."""
        return {
            "aws_request_id": str(uuid.uuid4()),
            "function_name": self.config.function_name,
            "invoked_function_arn": self.config.function_arn,
            "memory_limit_in_mb": self.config.memory_mb,
            "log_group_name": self.config.log_group_name,
            "log_stream_name": "benchmark",
            "deadline_ms": int((time.time() + self.config.timeout_seconds) * 1000),
        }


class WarmWorker:
    """One :mod:`lambda_worker` process: a Lambda environment that inits once.

    Parameters
    ----------
    function:
        The function to run.
    init:
        ``"handler"`` to import the handler, or ``"floor"``.
    code_folder:
        Overrides the function's code folder. Default None.
    environment:
        Overrides the function's environment. Default None.
    log:
        Where the process's output (the handler's log) goes. Default None: a temporary file,
        whose end is quoted if the process fails.

    Raises
    ------
    RuntimeError
        If the process ends before it answers.
    """

    def __init__(
        self,
        function: LambdaFunction,
        init: str,
        *,
        code_folder: Path | None = None,
        environment: Mapping[str, str] | None = None,
        log: IO[str] | None = None,
    ) -> None:
        self._function = function
        # Closed by close(): the file outlives this method.
        self._own_log = (
            tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            if log is None
            else None
        )
        self._log = log if log is not None else self._own_log
        folder = code_folder or function.config.code_folder
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=folder,
            env=dict(environment if environment is not None else function.environment),
            text=True,
            encoding="utf-8",
        )
        try:
            self.init = self._exchange(
                {
                    "task_root": str(folder),
                    "runtime_dir": str(function.runtime_dir),
                    "handler": function.config.handler,
                    "init": init,
                }
            )
        except BaseException:
            self.close()
            raise

    def invoke(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Run the handler once on ``event``; return its seconds and error."""
        return self._exchange({"event": event, "context": self._function.context_values()})

    def close(self) -> None:
        """End the process."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._own_log is not None:
            self._own_log.close()

    def _exchange(self, message: Mapping[str, Any]) -> dict[str, Any]:
        if self._process.stdin is None or self._process.stdout is None:
            raise RuntimeError("the worker has no pipes")
        # A process that already exited is reported below, with its log.
        with contextlib.suppress(BrokenPipeError):
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            self._process.wait()
            raise RuntimeError(
                f"the Lambda stand-in exited with status {self._process.returncode}: "
                f"{self._log_tail()}"
            )
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _log_tail(self) -> str:
        if self._own_log is None:
            return "see its log"
        self._own_log.seek(0)
        return self._own_log.read()[-2000:]


# Cold start


@dataclass(frozen=True)
class ColdStartFigures:
    """Init-phase wall and CPU seconds of each variant, one fresh process per sample."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    modules: dict[str, int]

    def median_wall(self, variant: str) -> float:
        """Return the median wall seconds of a variant."""
        return statistics.median(self.wall[variant])

    def median_cpu(self, variant: str) -> float:
        """Return the median CPU seconds of a variant."""
        return statistics.median(self.cpu[variant])

    def paired_ratios(self, variant: str, cpu: bool = False) -> list[float]:
        """Return, round by round, the variant's time over the floor's in the same round."""
        samples = self.cpu if cpu else self.wall
        return [mine / floor for mine, floor in zip(samples[variant], samples[FLOOR], strict=True)]

    def paired_ratio(self, variant: str, cpu: bool = False) -> float:
        """Return the median, over rounds, of the variant's time over the floor's that round."""
        return statistics.median(self.paired_ratios(variant, cpu=cpu))

    def paired_quartiles(self, variant: str) -> tuple[float, float]:
        """Return the first and third quartiles of the wall-time paired ratios: their spread."""
        first, _, third = statistics.quantiles(self.paired_ratios(variant), n=4)
        return first, third


def precompile(code_folder: Path, target: Path) -> Path:
    """Copy the asset to ``target`` and compile its modules with this interpreter."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(code_folder, target)
    compileall.compile_dir(target, quiet=1)
    return target


def measure_cold_starts(
    function: LambdaFunction,
    rounds: int,
    precompiled_folder: Path,
    progress: Callable[[str], None],
) -> ColdStartFigures:
    """Time the init phase of each variant in ``rounds`` fresh processes, interleaved.

    Each round runs every variant once, in an order rotated by one each round. A first round,
    not counted, brings the asset's files into the page cache.
    """
    without_sam_local = {
        name: value for name, value in function.environment.items() if name != "AWS_SAM_LOCAL"
    }
    settings: dict[str, dict[str, Any]] = {
        FLOOR: {"init": "floor"},
        OURS: {"init": "handler"},
        OURS_WITHOUT_SAM_LOCAL: {"init": "handler", "environment": without_sam_local},
        OURS_PRECOMPILED: {"init": "handler", "code_folder": precompiled_folder},
    }
    wall: dict[str, list[float]] = {variant: [] for variant in COLD_START_VARIANTS}
    cpu: dict[str, list[float]] = {variant: [] for variant in COLD_START_VARIANTS}
    modules: dict[str, int] = {}
    for round_index in range(-1, rounds):
        shift = round_index % len(COLD_START_VARIANTS)
        order = COLD_START_VARIANTS[shift:] + COLD_START_VARIANTS[:shift]
        for variant in order:
            worker = WarmWorker(function, **settings[variant])
            worker.close()
            if round_index < 0:
                continue
            wall[variant].append(float(worker.init["init_seconds"]))
            cpu[variant].append(float(worker.init["init_cpu_seconds"]))
            modules[variant] = int(worker.init["modules"])
        if round_index >= 0:
            progress(f"cold starts: round {round_index + 1}/{rounds}")
    return ColdStartFigures(wall=wall, cpu=cpu, modules=modules)


# Lifecycle events


@dataclass
class EventFigures:
    """One kind of lifecycle event, delivered once per cycle."""

    name: str
    calls: list[dict[str, int]] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    succeeded: list[bool] = field(default_factory=list)
    seconds_after_stopped: list[float] = field(default_factory=list)
    """Delete only: from the moment the service reached STOPPED to the response."""

    @property
    def median_seconds(self) -> float:
        """Return the median wall seconds, event sent to response received."""
        return statistics.median(self.seconds)

    @property
    def typical_calls(self) -> dict[str, int]:
        """Return the calls of the first cycle."""
        return self.calls[0]


def _writes(calls: Sequence[CallRecord]) -> int:
    return sum(1 for call in calls if call.operation in MUTATING_OPERATIONS)


def _deliver(
    deployer: LocalDeployer,
    emulator: Emulator,
    stack_name: str,
    event: CustomResourceEvent,
    figures: EventFigures,
) -> Delivery:
    emulator.clear_calls()
    started = time.time()
    delivery = deployer.deliver(stack_name, event)
    calls = emulator.calls
    figures.calls.append(dict(Counter(call.operation for call in calls)))
    figures.writes.append(_writes(calls))
    figures.succeeded.append(delivery.succeeded)
    received = delivery.response.received_at if delivery.response is not None else math.nan
    figures.seconds.append(received - started)
    if figures.name == DELETE:
        stops = [call for call in calls if call.operation == "StopRetrainingScheduler"]
        stopped_at = stops[0].started_at + emulator.settings.stopping_seconds if stops else math.nan
        figures.seconds_after_stopped.append(received - stopped_at)
    return delivery


def measure_lifecycle(
    deployer: LocalDeployer,
    emulator: Emulator,
    stack_name: str,
    properties: Mapping[str, Any],
    cycles: int,
    progress: Callable[[str], None],
) -> dict[str, EventFigures]:
    """Deliver Create, a no-op Update, an in-place Update and Delete, ``cycles`` times.

    Each cycle uses a model of its own; each event runs in a fresh sandbox process.
    """
    figures = {name: EventFigures(name) for name in LIFECYCLE_EVENTS}
    for cycle in range(cycles):
        logical_id = f"Lifecycle{cycle}"
        declared = {**properties, "ModelName": f"lifecycle-{cycle}"}
        changed = {**declared, "RetrainingFrequency": CHANGED_RETRAINING_FREQUENCY}
        emulator.create_model(declared["ModelName"])

        create = deployer.build_event(
            stack_name, logical_id, "Create", properties=declared, resource_type=RESOURCE_TYPE
        )
        created = _deliver(deployer, emulator, stack_name, create, figures[CREATE])
        physical_id = created.physical_resource_id or declared["ModelName"]
        for name, new, old in (
            (NO_OP_UPDATE, declared, declared),
            (IN_PLACE_UPDATE, changed, declared),
        ):
            update = deployer.build_event(
                stack_name,
                logical_id,
                "Update",
                properties=new,
                old_properties=old,
                physical_resource_id=physical_id,
                resource_type=RESOURCE_TYPE,
            )
            _deliver(deployer, emulator, stack_name, update, figures[name])
        delete = deployer.build_event(
            stack_name,
            logical_id,
            "Delete",
            properties=changed,
            physical_resource_id=physical_id,
            resource_type=RESOURCE_TYPE,
        )
        _deliver(deployer, emulator, stack_name, delete, figures[DELETE])
        progress(f"lifecycle: cycle {cycle + 1}/{cycles}")
    return figures


# Scale


@dataclass(frozen=True)
class ScaleFigures:
    """Many Create events at once against a rate-limited emulator."""

    events: int
    concurrency: int
    calls_per_second: float
    succeeded: int
    seconds: float
    calls_needed: dict[str, int]
    """Calls the service answered successfully, by operation: what the work takes at least."""
    throttled: int
    workers_start_seconds: float
    """How long the workers took to start and initialise, all at once, before the clock."""
    failure_reasons: tuple[str, ...]
    timeline: tuple[tuple[float, str, int], ...]
    """Every call: seconds from the start, operation, HTTP status."""

    @property
    def total_calls_needed(self) -> int:
        """Return how many calls the service answered successfully."""
        return sum(self.calls_needed.values())

    @property
    def bound_seconds(self) -> float:
        """Return the least time the rate limit allows for the calls needed."""
        return self.total_calls_needed / self.calls_per_second

    @property
    def ratio(self) -> float:
        """Return the total time over the rate-limit bound."""
        return self.seconds / self.bound_seconds


def measure_scale(
    deployer: LocalDeployer,
    emulator: Emulator,
    function: LambdaFunction,
    stack_name: str,
    properties: Mapping[str, Any],
    *,
    events: int,
    concurrency: int,
    calls_per_second: float,
    log_dir: Path,
    progress: Callable[[str], None],
) -> ScaleFigures:
    """Deliver ``events`` Creates, ``concurrency`` at a time, to warm Lambda stand-ins.

    ``concurrency`` worker processes start together and initialise; the clock starts once all
    are ready (their start is timed apart: ten cold starts at once on a 2-core machine take
    several times what one takes, where Lambda would give each its own CPU). Each worker then
    takes the next event as soon as it has answered the last, as Lambda's execution
    environments would at that concurrency.
    """
    pending: queue.Queue[CustomResourceEvent] = queue.Queue()
    created: list[CustomResourceEvent] = []
    for index in range(events):
        model = f"scale-{index:04d}"
        emulator.create_model(model)
        event = deployer.build_event(
            stack_name,
            f"Scale{index:04d}",
            "Create",
            properties={**properties, "ModelName": model},
            resource_type=RESOURCE_TYPE,
        )
        created.append(event)
        pending.put(event)
    log_dir.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    done = [0]
    lock = threading.Lock()

    def serve(worker: WarmWorker) -> None:
        while True:
            try:
                event = pending.get_nowait()
            except queue.Empty:
                return
            answer = worker.invoke(event.payload)
            with lock:
                done[0] += 1
                if answer.get("error"):
                    errors.append(str(answer["error"]))
                if done[0] % 50 == 0:
                    progress(f"scale: {done[0]}/{events} events answered")

    logs = [
        (log_dir / f"worker-{index}.log").open("w", encoding="utf-8")
        for index in range(concurrency)
    ]
    workers: list[WarmWorker] = []
    try:
        workers_started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as starter:
            workers = list(starter.map(lambda log: WarmWorker(function, "handler", log=log), logs))
        workers_start_seconds = time.perf_counter() - workers_started
        progress(f"scale: {concurrency} workers ready after {workers_start_seconds:.1f} s")

        emulator.clear_calls()
        emulator.faults.rate_limit(calls_per_second)
        started = time.time()
        try:
            with ThreadPoolExecutor(concurrency) as pool:
                for future in [pool.submit(serve, worker) for worker in workers]:
                    future.result()
        finally:
            emulator.faults.rate_limit(None)
    finally:
        for worker in workers:
            worker.close()
        for log in logs:
            log.close()
    calls = emulator.calls

    first_responses = [deployer.responses(event) for event in created]
    answered = [responses[0] for responses in first_responses if responses]
    finished = max((response.received_at for response in answered), default=time.time())
    reasons = [
        str((response.body or {}).get("Reason", ""))
        for response in answered
        if response.status != "SUCCESS"
    ]
    return ScaleFigures(
        events=events,
        concurrency=concurrency,
        calls_per_second=calls_per_second,
        succeeded=sum(1 for response in answered if response.status == "SUCCESS"),
        seconds=finished - started,
        calls_needed=dict(Counter(call.operation for call in calls if call.status == 200)),
        throttled=sum(1 for call in calls if call.error_code == "ThrottlingException"),
        workers_start_seconds=workers_start_seconds,
        failure_reasons=tuple(errors + reasons),
        timeline=tuple(
            (round(call.started_at - started, 3), call.operation, call.status) for call in calls
        ),
    )


# The whole handler phase


class _PhaseClock:
    """Times consecutive phases."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._since = time.perf_counter()

    def end(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = now - self._since
        self._since = now


@dataclass(frozen=True)
class HandlerFigures:
    """Everything the handler phase measured."""

    cold_start: ColdStartFigures
    lifecycle: dict[str, EventFigures]
    scale: ScaleFigures
    pending_seconds: float
    stopping_seconds: float
    phase_seconds: dict[str, float]
    """Wall time of each phase: deploy, cold start, lifecycle, scale."""


def deployed_function(deployer: LocalDeployer, stack_name: str) -> LambdaFunction:
    """Return the stack's one Lambda function as the deployer's sandboxes run it."""
    state = deployer.stack_state(stack_name)
    if state is None:
        raise RuntimeError(f"stack {stack_name} is not deployed")
    (record,) = [
        record
        for record in state.resources.values()
        if record.resource_type == LAMBDA_FUNCTION_TYPE
    ]
    config = function_config(record, deployer.store)
    invoker = deployer.invoker(state.region)
    return LambdaFunction(
        config=config,
        runtime_dir=invoker.runtime.path,
        environment=invoker.environment(config, "benchmark"),
    )


def run_handler(
    assembly: Path,
    stack_name: str,
    workdir: Path,
    *,
    cold_start_rounds: int,
    lifecycle_cycles: int,
    scale_events: int,
    scale_concurrency: int,
    scale_calls_per_second: float,
    progress: Callable[[str], None],
) -> HandlerFigures:
    """Deploy the one-scheduler stack locally and measure the handler figures.

    Parameters
    ----------
    assembly:
        The cloud assembly of our app with one scheduler, on model ``pump-0000``.
    stack_name:
        Its stack.
    workdir:
        A folder for the deployer's state and the workers' logs; emptied first.
    cold_start_rounds, lifecycle_cycles:
        Samples per cold-start variant, and lifecycle cycles.
    scale_events, scale_concurrency, scale_calls_per_second:
        The scale run's Create events, how many run at once, and the emulator's rate limit.
    progress:
        Receives progress lines.
    """
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    settings = EmulatorSettings(pending_seconds=PENDING_SECONDS, stopping_seconds=STOPPING_SECONDS)
    with (
        Emulator(settings) as emulator,
        LocalDeployer(
            assembly,
            endpoint_url=emulator.endpoint_url,
            state_dir=workdir / "deployer",
            write_logs=False,
        ) as deployer,
    ):
        phases = _PhaseClock()
        emulator.create_model("pump-0000")
        deployment = deployer.deploy(stack_name)
        if not deployment.succeeded:
            raise RuntimeError(f"the local deployment failed: {deployment.summary()}")
        function = deployed_function(deployer, stack_name)
        (scheduler,) = [
            record
            for record in deployment.deliveries
            if record.event.get("ResourceType") == RESOURCE_TYPE
        ]
        properties = dict(scheduler.event["ResourceProperties"])
        phases.end("local deploy")

        cold_start = measure_cold_starts(
            function,
            cold_start_rounds,
            precompile(function.config.code_folder, workdir / "asset-precompiled"),
            progress,
        )
        phases.end("cold start")
        lifecycle = measure_lifecycle(
            deployer, emulator, stack_name, properties, lifecycle_cycles, progress
        )
        phases.end("lifecycle")
        scale = measure_scale(
            deployer,
            emulator,
            function,
            stack_name,
            properties,
            events=scale_events,
            concurrency=scale_concurrency,
            calls_per_second=scale_calls_per_second,
            log_dir=workdir / "scale-logs",
            progress=progress,
        )
        phases.end("scale")
    return HandlerFigures(
        cold_start=cold_start,
        lifecycle=lifecycle,
        scale=scale,
        pending_seconds=PENDING_SECONDS,
        stopping_seconds=STOPPING_SECONDS,
        phase_seconds=phases.seconds,
    )
