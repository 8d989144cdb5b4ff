"""Benchmarks: RetrainingScheduler beside one AwsCustomResource per scheduler, and the floor.

``make bench`` runs this file: ``.venv/bin/python tests/benchmarks/run.py``. It measures, in one
run on this machine, and prints a table with every figure beside its target and the baseline;
it also writes ``tests/benchmarks/template-size.png`` (template bytes and resources against N)
and ``.bench/results.json`` (every sample). ``--quick`` runs a small version for a smoke test
(and writes its chart under ``.bench`` instead). Targets are reported, never asserted.

What each figure means
----------------------
Synth, for N = 1, 10, 100 and 400 schedulers in one stack. "Ours" declares N
RetrainingSchedulers; the baseline declares N ``AwsCustomResource`` constructs, each calling
CreateRetrainingScheduler, UpdateRetrainingScheduler and DeleteRetrainingScheduler, with the
model name as physical id and ``AwsCustomResourcePolicy.from_sdk_calls`` on the model's ARN.
At N=400 the baseline's stack has more than 500 resources and CDK refuses to synthesize it; the
check is lifted for the baseline (``@aws-cdk/core:stackResourceLimit`` 0) to measure it anyway.

- synth time: wall time of one synth as ``cdk synth`` does it, median of several runs, ours and
  the baseline interleaved in this one process after jsii has started. Included: ``cdk.App``
  with the context the CDK CLI passes and cdk.json's flags, building the N constructs,
  ``app.synth()`` with asset staging and our local bundling (the asset cache is cleared before
  each run, as every ``cdk synth`` starts without it), writing the cloud assembly, and CDK's
  built-in CloudFormation validation (on by default). Not included, because both pay them once
  per ``cdk synth`` process: starting Python, importing aws_cdk with jsii's start, and the extra
  cost of the first synth in a process; both are printed beside the table. The ratio is the
  median, over runs, of ours over the baseline run right before or after it at the same N
  (paired, so that a busy moment on a shared machine weighs on both). Synth CPU adds this
  process's CPU time and jsii's node processes': the same comparison, less sensitive to load.
- template bytes: the size of ``Schedulers.template.json`` as CDK writes it (path metadata on,
  as with the CLI). Bytes per added scheduler: ``(bytes(N) - bytes(1)) / (N - 1)``.
- resources: all resources in the stack; "besides the N" leaves out the N scheduler resources
  and ``AWS::CDK::Metadata``, which the CLI's version reporting adds to every stack.
- IAM: each policy resolved with partition ``aws``, region ``us-east-1`` and account
  ``123456789012`` (CloudFormation-generated names for the rest), measured as IAM counts it,
  JSON without whitespace: the role's inline policies together (``AWS::IAM::Policy`` resources
  on the role included; quota 10,240), its largest customer managed policy (6,144) and the
  managed policies attached to it, AWS managed ones included (10). CloudFormation: 500
  resources, a 1 MB template, 200 parameters and 200 outputs.
- Lambda asset: the function's code folder zipped (deflate, level 9), ours and the baseline's
  provider.

Handler, our N=1 stack deployed with the local deployer against the emulator.

- cold start: the init phase in a fresh process whose import path is the published asset and
  boto3 only (``python -I -S -B``, so nothing is compiled to disk, as in Lambda's read-only
  /var/task), with the function's environment as the construct sets it and Lambda adds to it.
  The floor imports boto3 and crhelper and builds one ``lookoutequipment`` client; ours
  imports the handler module, which builds its client and crhelper resource. Medians of wall
  and CPU time over interleaved rounds (after one round not counted, which brings the files
  into the page cache), and the median of each round's ratio to the floor's that round.
  For information: ours without ``AWS_SAM_LOCAL`` (crhelper then builds three more clients),
  and ours from an asset precompiled by this interpreter (what bytecode in the asset would
  save; not shipped, as bytecode is specific to the Python version and the function runs on a
  newer Python than the one that synthesizes).
- lifecycle: Create, a no-op Update, an in-place Update (RetrainingFrequency changed) and
  Delete, each delivered by ``LocalDeployer.deliver`` to a fresh sandbox process, against an
  emulator whose schedulers stay PENDING 0.5 s and STOPPING 2 s. API calls come from the
  emulator's call log; writes are calls of mutating operations. Wall time runs from the
  delivery to the response on the ResponseURL, cold start included. For Delete, the time from
  the moment the service reached STOPPED (its Stop call plus the stop delay) to the response.
- scale: 200 Create events, 10 at a time, against the emulator limited to 5 calls per second.
  Ten Lambda stand-in processes (``lambda_worker.py``: same import path and environment) start
  together and each takes the next event when it has answered one, as Lambda reuses warm
  execution environments; a process per event would make this 2-core machine's CPU, not the
  rate limit, the bottleneck. The ten start and initialise at once before the clock starts
  (timed apart: ten cold starts at once on two cores take several times one, where Lambda
  gives each its own CPU). Success is read from the ResponseURL. The bound is the calls the
  service answered successfully divided by the rate; the ratio is the total time, from the
  first event handed out to the last response, over that bound.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bench_handler import HandlerFigures
    from bench_synth import SynthFigures

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WORKDIR = REPO_ROOT / ".bench"
DEFAULT_CHART = Path(__file__).with_name("template-size.png")


@dataclass(frozen=True)
class Plan:
    """How much to measure."""

    counts: tuple[int, ...] = (1, 10, 100, 400)
    synth_runs: int = 5
    synth_runs_at_largest: int = 3
    cold_start_rounds: int = 21
    lifecycle_cycles: int = 3
    scale_events: int = 200
    scale_concurrency: int = 10
    scale_calls_per_second: float = 5.0

    @classmethod
    def quick(cls) -> Plan:
        """Return a plan that runs in about a minute, for a smoke test."""
        return cls(
            counts=(1, 10),
            synth_runs=2,
            synth_runs_at_largest=2,
            cold_start_rounds=3,
            lifecycle_cycles=1,
            scale_events=20,
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--quick", action="store_true", help="a small run for a smoke test (about a minute)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help="scratch folder for assemblies, state and results (default: .bench)",
    )
    parser.add_argument(
        "--chart",
        type=Path,
        default=None,
        help="where to write the chart (default: tests/benchmarks/template-size.png, or the "
        "workdir with --quick)",
    )
    return parser


def _version_of(command: Sequence[str]) -> str:
    try:
        completed = subprocess.run(
            list(command), capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return completed.stdout.strip() or "unknown"


def machine() -> dict[str, str]:
    """Return what the figures depend on: cores, Python, Node and library versions."""
    cli_package = REPO_ROOT / "node_modules" / "aws-cdk" / "package.json"
    cli_version = (
        json.loads(cli_package.read_text())["version"] if cli_package.exists() else "unknown"
    )
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "machine": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "node": _version_of([shutil.which("node") or "node", "--version"]),
        "aws-cdk-lib": importlib.metadata.version("aws-cdk-lib"),
        "cdk cli": cli_version,
        "boto3": importlib.metadata.version("boto3"),
        "crhelper": importlib.metadata.version("crhelper"),
    }


def _shown(path: Path) -> str:
    """Return a path as the table prints it: from the repository's root when inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO_ROOT) if resolved.is_relative_to(REPO_ROOT) else resolved)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


class _Progress:
    """Prints progress lines with the seconds since the run started, and times phases."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.phases: dict[str, float] = {}
        self._phase_started = self.started

    def __call__(self, line: str) -> None:
        print(f"  [{time.perf_counter() - self.started:4.0f} s] {line}", flush=True)

    def end_phase(self, name: str) -> None:
        """Record the time since the previous phase ended as phase ``name``."""
        now = time.perf_counter()
        self.phases[name] = now - self._phase_started
        self._phase_started = now


def _results_json(
    environment: dict[str, str], plan: Plan, synth: SynthFigures, handler: HandlerFigures
) -> dict[str, Any]:
    return {
        "machine": environment,
        "plan": dataclasses.asdict(plan),
        "synth": {
            "cdk_import_seconds": synth.cdk_import_seconds,
            "fixed": dataclasses.asdict(synth.fixed),
            "results": [
                {
                    "approach": result.approach,
                    "count": result.count,
                    "samples": [dataclasses.asdict(sample) for sample in result.samples],
                    "figures": dataclasses.asdict(result.figures),
                }
                for result in synth.results.values()
            ],
        },
        "handler": dataclasses.asdict(handler),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark, print the tables and write the chart and the results."""
    arguments = _parser().parse_args(argv)
    plan = Plan.quick() if arguments.quick else Plan()
    workdir: Path = arguments.workdir.resolve()
    chart: Path = arguments.chart or (
        workdir / "template-size.png" if arguments.quick else DEFAULT_CHART
    )
    progress = _Progress()
    environment = machine()
    load_at_start = _load()
    command = " ".join([Path(sys.executable).name, *sys.argv])
    print(f"Benchmarks, {environment['date']}: {command}", flush=True)

    # Imported here, so that the import of aws_cdk and the start of jsii can be timed.
    import_started = time.perf_counter()
    import bench_synth

    cdk_import_seconds = time.perf_counter() - import_started
    import bench_handler
    import bench_report

    synth = bench_synth.run_synth(
        plan.counts,
        plan.synth_runs,
        plan.synth_runs_at_largest,
        workdir / "synth",
        cdk_import_seconds,
        progress,
    )
    progress.end_phase("synth")
    handler = bench_handler.run_handler(
        synth.assembly(bench_synth.OURS, min(plan.counts)),
        bench_synth.STACK_NAME,
        workdir / "handler",
        cold_start_rounds=plan.cold_start_rounds,
        lifecycle_cycles=plan.lifecycle_cycles,
        scale_events=plan.scale_events,
        scale_concurrency=plan.scale_concurrency,
        scale_calls_per_second=plan.scale_calls_per_second,
        progress=progress,
    )
    bench_report.write_chart(synth, chart)
    elapsed = time.perf_counter() - progress.started
    (workdir / "results.json").write_text(
        json.dumps(_results_json(environment, plan, synth, handler), indent=1, default=str)
    )

    lines = [
        "",
        f"Benchmarks, {environment['date']}",
        f"command: {command}",
        "machine: "
        + ", ".join(f"{name} {value}" for name, value in environment.items() if name != "date"),
        f"load average (1, 5, 15 min): {load_at_start} at start, {_load()} at end",
        "",
        f"Synth: N schedulers in one stack; median of {plan.synth_runs} runs "
        f"({plan.synth_runs_at_largest} at N={max(plan.counts)}), ours and the baseline "
        "interleaved in one process",
        *bench_report.synth_table(synth),
        f"Paid once per `cdk synth` process by both, not in the times above: importing aws_cdk "
        f"and starting jsii {synth.cdk_import_seconds:.2f} s; the first synth in a process "
        f"{synth.fixed.first_synth_seconds - synth.fixed.later_synth_seconds:+.2f} s "
        f"(an empty stack: {synth.fixed.first_synth_seconds:.2f} s first, "
        f"{synth.fixed.later_synth_seconds:.2f} s after).",
        "",
        f"Handler cold start: init phase in a fresh process (asset and boto3 only); medians of "
        f"{plan.cold_start_rounds} interleaved rounds, after one not counted",
        *bench_report.cold_start_table(handler),
        "",
        f"Lifecycle events: one fresh sandbox process per event; emulator PENDING "
        f"{handler.pending_seconds:g} s, STOPPING {handler.stopping_seconds:g} s; wall time "
        f"median of {plan.lifecycle_cycles} cycles",
        *bench_report.lifecycle_table(handler),
        "",
        f"Scale: {plan.scale_events} Create events, {plan.scale_concurrency} at a time, emulator "
        f"limited to {plan.scale_calls_per_second:g} calls/s; {plan.scale_concurrency} warm "
        "Lambda stand-in processes",
        *(f"  {line}" for line in bench_report.scale_lines(handler.scale)),
        "",
        f"chart: {_shown(chart)}; every sample: {_shown(workdir / 'results.json')}",
        f"total wall time of this run: {elapsed:.0f} s ("
        + ", ".join(
            f"{name} {seconds:.0f} s"
            for name, seconds in {**progress.phases, **handler.phase_seconds}.items()
        )
        + ")",
    ]
    print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
