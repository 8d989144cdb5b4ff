"""``make demo``: a retraining scheduler stack's whole lifecycle, on this machine, in a minute.

No AWS account, no Docker, no network. The demo synthesizes the example app (``app.py``)
in-process, starts a Lookout for Equipment emulator holding the models the app needs, and
deploys with the local deployer, which runs the real Lambda asset in Lambda-like processes:

1. create the stack;
2. an in-place change: ``app.py`` edited so that the compressor retrains every two months;
3. a change of model: ``app.py`` edited so that the compressor scheduler moves to another
   model, which replaces it (a new scheduler, then the old one deleted in cleanup);
4. destroy the stack;

and ends with the emulator's state. Each step's outcome is checked; the exit status is 0
only if every step did what it should.

Run it as ``python -m lookout_retraining.local.demo [--app PATH] [--work-dir DIR]``.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.deployer import DeployerError, LocalDeployer
from lookout_retraining.local.emulator import Emulator, EmulatorSettings

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from lookout_retraining.local.deployer import DeploymentResult

SCHEDULER_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"
STACK_NAME = "LookoutRetrainingExample"
COMPRESSOR_ID = "CompressorScheduler"
OLD_COMPRESSOR_MODEL = "compressor-line-1"
NEW_COMPRESSOR_MODEL = "compressor-line-2"
TOTAL_STEPS = 4


class DemoError(Exception):
    """The demo cannot run: the example app is missing or no longer reads as expected."""


@dataclass(frozen=True)
class Release:
    """A version of ``app.py``: the example app with some text replaced, as a user edits it."""

    name: str
    description: str
    edits: tuple[tuple[str, str], ...] = ()


IN_PLACE_EDIT = ("RetrainingFrequency.months(1)", "RetrainingFrequency.months(2)")
MODEL_EDIT = (f'model_name="{OLD_COMPRESSOR_MODEL}"', f'model_name="{NEW_COMPRESSOR_MODEL}"')
RELEASES = (
    Release("v1", "the example app as it is"),
    Release(
        "v2",
        "the compressor retrains every 2 months (P2M) instead of every month",
        (IN_PLACE_EDIT,),
    ),
    Release(
        "v3",
        f"the compressor scheduler moves from model {OLD_COMPRESSOR_MODEL} to "
        f"{NEW_COMPRESSOR_MODEL}",
        (IN_PLACE_EDIT, MODEL_EDIT),
    ),
)


@dataclass
class Checks:
    """The expectations of the steps, printed as they are checked."""

    out: TextIO
    failures: list[str] = field(default_factory=list)

    def expect(self, condition: bool, description: str) -> bool:
        """Print whether ``description`` holds; remember it if it does not."""
        self.out.write(f"  {'ok  ' if condition else 'FAIL'}  {description}\n")
        if not condition:
            self.failures.append(description)
        return condition


def find_app(explicit: Path | None) -> Path:
    """Return the example app: ``explicit``, else ``./app.py``, else the repository's.

    Raises
    ------
    DemoError
        If none exists.
    """
    repository_app = Path(__file__).resolve().parents[3] / "app.py"
    for candidate in (explicit, Path.cwd() / "app.py", repository_app):
        if candidate is not None and candidate.is_file():
            return candidate.resolve()
    raise DemoError("app.py not found: run the demo from the repository root, or pass --app")


def edited_source(source: str, edits: Sequence[tuple[str, str]]) -> str:
    """Return ``source`` with each ``(old, new)`` edit applied.

    Raises
    ------
    DemoError
        If an ``old`` text does not occur exactly once.
    """
    for old, new in edits:
        if source.count(old) != 1:
            raise DemoError(
                f"app.py should contain {old!r} exactly once for the demo to change it, but "
                f"it contains it {source.count(old)} times"
            )
        source = source.replace(old, new)
    return source


def synthesize(app_file: Path, context: dict[str, Any], outdir: Path) -> Path:
    """Synthesize the app in ``app_file`` (its ``build_app``) into ``outdir``; return it."""
    import aws_cdk as cdk

    spec = importlib.util.spec_from_file_location(f"demo_app_{outdir.name}", app_file)
    if spec is None or spec.loader is None:
        raise DemoError(f"{app_file} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_app(cdk.App(outdir=str(outdir), context=context)).synth()
    return outdir


def required_models(assemblies: Sequence[Path]) -> list[str]:
    """Return every model name the scheduler resources of the assemblies refer to.

    A literal ``ModelName`` counts as it is; a ``Ref`` to a parameter counts its default.
    """
    models: set[str] = set()
    for assembly in assemblies:
        template = json.loads((assembly / f"{STACK_NAME}.template.json").read_text())
        parameters = template.get("Parameters") or {}
        for resource in (template.get("Resources") or {}).values():
            if resource.get("Type") != SCHEDULER_TYPE:
                continue
            model_name = resource["Properties"]["ModelName"]
            if isinstance(model_name, dict) and "Ref" in model_name:
                model_name = parameters.get(model_name["Ref"], {}).get("Default")
            if isinstance(model_name, str):
                models.add(model_name)
    return sorted(models)


def schedulers_by_model(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Return the emulator's retraining schedulers by model name."""
    return {scheduler["ModelName"]: scheduler for scheduler in emulator.snapshot()["schedulers"]}


def print_schedulers(emulator: Emulator, out: TextIO) -> None:
    """Print the emulator's retraining schedulers as a table."""
    schedulers = schedulers_by_model(emulator)
    out.write("  Retraining schedulers in the emulator:\n")
    if not schedulers:
        out.write("    (none)\n")
    for model_name, scheduler in sorted(schedulers.items()):
        out.write(
            f"    {model_name:<20} {scheduler['Status']:<8} every "
            f"{scheduler['RetrainingFrequency']:<7} lookback {scheduler['LookbackWindow']:<6} "
            f"promote {scheduler['PromoteMode']}\n"
        )


def heading(out: TextIO, text: str) -> None:
    """Print a step heading."""
    out.write(f"\n{'=' * 100}\n{text}\n{'=' * 100}\n")


def compressor_id(result: DeploymentResult) -> str:
    """Return the compressor scheduler's logical id (it carries a hash suffix)."""
    for event in result.events:
        if event.logical_id.startswith(COMPRESSOR_ID):
            return event.logical_id
    return COMPRESSOR_ID


def show_diff(out: TextIO, original: str, edited: str) -> None:
    """Print the edit of app.py as a unified diff."""
    lines = difflib.unified_diff(
        original.splitlines(), edited.splitlines(), "app.py", "app.py (edited)", n=1, lineterm=""
    )
    for line in lines:
        out.write(f"    {line}\n")


def run_demo(app_file: Path, work_dir: Path, out: TextIO) -> list[str]:
    """Run every step; return the expectations that did not hold (empty: all did)."""
    started = time.monotonic()
    checks = Checks(out)
    cdk_json = app_file.parent / "cdk.json"
    context = json.loads(cdk_json.read_text())["context"] if cdk_json.is_file() else {}
    original = app_file.read_text(encoding="utf-8")

    heading(out, "Synthesizing the example app (in-process, as `cdk synth` would)")
    assemblies: dict[str, Path] = {}
    for release in RELEASES:
        source = edited_source(original, release.edits)
        release_file = work_dir / release.name / "app.py"
        release_file.parent.mkdir(parents=True)
        release_file.write_text(source, encoding="utf-8")
        synth_started = time.monotonic()
        assemblies[release.name] = synthesize(
            release_file, context, work_dir / release.name / "cdk.out"
        )
        out.write(
            f"  {release.name}: {release.description}: synthesized in "
            f"{time.monotonic() - synth_started:.1f} s\n"
        )
    models = required_models(list(assemblies.values()))

    with Emulator(EmulatorSettings()) as emulator:
        for model_name in models:
            emulator.create_model(model_name)
        out.write(
            f"\nEmulator at {emulator.endpoint_url} with models: {', '.join(models)}\n"
            f"Deployer state in {work_dir / 'state'}\n"
        )
        deployer = LocalDeployer(
            endpoint_url=emulator.endpoint_url,
            state_dir=work_dir / "state",
            out=out,
        )
        with deployer:
            _step_create(deployer, assemblies["v1"], emulator, checks, out)
            _step_in_place(deployer, assemblies["v2"], emulator, checks, out, original)
            _step_replace(deployer, assemblies["v3"], emulator, checks, out, original)
            _step_destroy(deployer, emulator, checks, out)

        heading(out, "The emulator's state at the end")
        print_schedulers(emulator, out)
        out.write(json.dumps(emulator.snapshot(), indent=2) + "\n")

    elapsed = time.monotonic() - started
    heading(out, "Summary")
    if checks.failures:
        out.write(f"The demo did NOT go as expected ({elapsed:.0f} s):\n")
        for failure in checks.failures:
            out.write(f"  - {failure}\n")
    else:
        out.write(
            f"All {TOTAL_STEPS} lifecycle steps completed as expected in {elapsed:.0f} s: "
            "create, update in place, replacement, destroy.\n"
        )
    return checks.failures


def _step_create(
    deployer: LocalDeployer, assembly: Path, emulator: Emulator, checks: Checks, out: TextIO
) -> None:
    heading(out, f"Step 1 of {TOTAL_STEPS}: create the stack ({RELEASES[0].description})")
    result = deployer.deploy(STACK_NAME, assembly_dir=assembly)
    print_schedulers(emulator, out)
    schedulers = schedulers_by_model(emulator)
    checks.expect(result.status == "CREATE_COMPLETE", f"stack is CREATE_COMPLETE ({result.status})")
    checks.expect(
        len(result.deliveries_for(request_type="Create")) == len(schedulers) == 3,
        "three Create requests, three schedulers",
    )
    compressor = schedulers.get(OLD_COMPRESSOR_MODEL, {})
    checks.expect(
        compressor.get("RetrainingFrequency") == "P1M",
        f"the compressor scheduler on {OLD_COMPRESSOR_MODEL} retrains every P1M",
    )


def _step_in_place(
    deployer: LocalDeployer,
    assembly: Path,
    emulator: Emulator,
    checks: Checks,
    out: TextIO,
    original: str,
) -> None:
    heading(out, f"Step 2 of {TOTAL_STEPS}: an in-place change ({RELEASES[1].description})")
    show_diff(out, original, edited_source(original, RELEASES[1].edits))
    result = deployer.deploy(STACK_NAME, assembly_dir=assembly)
    print_schedulers(emulator, out)
    compressor = compressor_id(result)
    updates = result.deliveries_for(request_type="Update")
    checks.expect(result.status == "UPDATE_COMPLETE", f"stack is UPDATE_COMPLETE ({result.status})")
    checks.expect(
        [delivery.logical_id for delivery in updates] == [compressor],
        f"exactly one Update request, to {compressor}; the other schedulers get none",
    )
    checks.expect(
        bool(updates) and updates[0].physical_resource_id == OLD_COMPRESSOR_MODEL,
        "the Update kept the physical id (updated in place, not replaced)",
    )
    checks.expect(
        schedulers_by_model(emulator).get(OLD_COMPRESSOR_MODEL, {}).get("RetrainingFrequency")
        == "P2M",
        f"the scheduler on {OLD_COMPRESSOR_MODEL} now retrains every P2M",
    )


def _step_replace(
    deployer: LocalDeployer,
    assembly: Path,
    emulator: Emulator,
    checks: Checks,
    out: TextIO,
    original: str,
) -> None:
    heading(out, f"Step 3 of {TOTAL_STEPS}: a change of model ({RELEASES[2].description})")
    show_diff(
        out, edited_source(original, RELEASES[1].edits), edited_source(original, RELEASES[2].edits)
    )
    result = deployer.deploy(STACK_NAME, assembly_dir=assembly)
    print_schedulers(emulator, out)
    compressor = compressor_id(result)
    schedulers = schedulers_by_model(emulator)
    update = result.deliveries_for(compressor, "Update")
    delete = result.deliveries_for(compressor, "Delete")
    checks.expect(result.status == "UPDATE_COMPLETE", f"stack is UPDATE_COMPLETE ({result.status})")
    checks.expect(
        bool(update) and (update[0].physical_resource_id or "").startswith(NEW_COMPRESSOR_MODEL),
        f"the Update answered a new physical id on {NEW_COMPRESSOR_MODEL} (a replacement)",
    )
    checks.expect(
        bool(delete) and delete[0].event.get("PhysicalResourceId") == OLD_COMPRESSOR_MODEL,
        f"the cleanup phase sent Delete for the old physical id {OLD_COMPRESSOR_MODEL}",
    )
    order = [
        (event.logical_id, event.status)
        for event in result.events
        if event.logical_id in (compressor, result.stack_name)
    ]
    expected_order = [
        (compressor, "UPDATE_COMPLETE"),
        (result.stack_name, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
        (compressor, "DELETE_COMPLETE"),
        (result.stack_name, "UPDATE_COMPLETE"),
    ]
    checks.expect(
        [step for step in order if step in expected_order] == expected_order,
        "order: the Update completes, then the cleanup phase deletes the old scheduler",
    )
    checks.expect(
        NEW_COMPRESSOR_MODEL in schedulers and OLD_COMPRESSOR_MODEL not in schedulers,
        f"a scheduler on {NEW_COMPRESSOR_MODEL} and none left on {OLD_COMPRESSOR_MODEL}",
    )


def _step_destroy(deployer: LocalDeployer, emulator: Emulator, checks: Checks, out: TextIO) -> None:
    heading(out, f"Step 4 of {TOTAL_STEPS}: destroy the stack")
    result = deployer.destroy(STACK_NAME)
    print_schedulers(emulator, out)
    schedulers = schedulers_by_model(emulator)
    retained = [
        event.logical_id
        for event in result.events
        if event.status == "DELETE_SKIPPED" and event.resource_type == SCHEDULER_TYPE
    ]
    checks.expect(result.status == "DELETE_COMPLETE", f"stack is DELETE_COMPLETE ({result.status})")
    checks.expect(
        NEW_COMPRESSOR_MODEL not in schedulers and "turbine-7" not in schedulers,
        "the compressor and turbine schedulers are deleted",
    )
    checks.expect(
        len(schedulers) == len(retained),
        f"only schedulers with RemovalPolicy.RETAIN are left ({', '.join(sorted(schedulers))})",
    )
    checks.expect(deployer.stack_state(STACK_NAME) is None, "the deployer forgot the stack")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; return 0 if every step went as expected."""
    parser = argparse.ArgumentParser(prog="python -m lookout_retraining.local.demo")
    parser.add_argument("--app", type=Path, help="the example app (./app.py)")
    parser.add_argument(
        "--work-dir", type=Path, help="keep assemblies, state and logs here (a temporary folder)"
    )
    arguments = parser.parse_args(argv)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    out = sys.stdout
    work_dir = arguments.work_dir or Path(tempfile.mkdtemp(prefix="lookout-demo-"))
    try:
        app_file = find_app(arguments.app)
        work_dir.mkdir(parents=True, exist_ok=True)
        failures = run_demo(app_file, work_dir, out)
    except (DemoError, DeployerError) as error:
        out.write(f"\nThe demo could not run: {error}\n")
        return 1
    finally:
        if arguments.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
