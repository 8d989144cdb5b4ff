"""End-to-end helpers: synthesize apps with the construct, and read what the emulator holds.

Each app is synthesized in-process into the test's own folder, so that the very asset
CloudFormation would upload runs in the local deployer's Lambda-like sandboxes. A purpose-built
app is a list of :class:`Declared` schedulers, from which a test also derives the state the
emulator must hold (:func:`declared_state`).
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Before aws_cdk starts its jsii process, which reads the variable once.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterable, Mapping

    from lookout_retraining.local.deployer import DeploymentResult, LocalDeployer
    from lookout_retraining.local.emulator import Emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEDULER_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"
EXAMPLE_STACK = "LookoutRetrainingExample"
STATE_KEYS = ("Status", "RetrainingFrequency", "LookbackWindow", "PromoteMode")


@dataclass(frozen=True)
class Declared:
    """One RetrainingScheduler of a purpose-built app, as a test declares it.

    ``model_name`` is the literal model name, or, with ``model_parameter``, the default of the
    CfnParameter of that name which holds it. ``depends_on`` names other schedulers' construct
    ids that this one waits for.
    """

    construct_id: str
    model_name: str
    frequency: str = "P30D"
    lookback: str = "P180D"
    promote_mode: str | None = None
    start_date: datetime.date | None = None
    running: bool = True
    removal_policy: str = "DESTROY"
    model_parameter: str | None = None
    depends_on: tuple[str, ...] = field(default=())

    def changed(self, **changes: Any) -> Declared:
        """Return this declaration with some props changed."""
        return replace(self, **changes)

    def model(self, parameters: Mapping[str, str] | None = None) -> str:
        """Return the model name this scheduler is on, given the deployment's parameters."""
        if self.model_parameter is None:
            return self.model_name
        return (parameters or {}).get(self.model_parameter, self.model_name)


def recommended_context() -> dict[str, Any]:
    """Return the feature flags of the repository's cdk.json."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


@dataclass(frozen=True)
class Synthesized:
    """A synthesized purpose-built app: its cloud assembly and its schedulers' logical ids."""

    outdir: Path
    logical_ids: dict[str, str]

    def template(self, stack_name: str) -> dict[str, Any]:
        """Return the stack's template."""
        template: dict[str, Any] = json.loads(
            (self.outdir / f"{stack_name}.template.json").read_text()
        )
        return template


def synthesize(outdir: Path, stack_name: str, schedulers: Iterable[Declared]) -> Synthesized:
    """Synthesize a one-stack app of ``schedulers`` into ``outdir``."""
    import aws_cdk as cdk

    from lookout_retraining import (
        LookbackWindow,
        PromoteMode,
        RetrainingFrequency,
        RetrainingScheduler,
    )

    app = cdk.App(outdir=str(outdir), context=recommended_context())
    stack = cdk.Stack(app, stack_name)
    built: dict[str, Any] = {}
    for declared in schedulers:
        model_name = declared.model_name
        if declared.model_parameter is not None:
            model_name = cdk.CfnParameter(
                stack,
                declared.model_parameter,
                default=declared.model_name,
                allowed_pattern="^[0-9a-zA-Z_-]{1,200}$",
            ).value_as_string
        scheduler = RetrainingScheduler(
            stack,
            declared.construct_id,
            model_name=model_name,
            retraining_frequency=RetrainingFrequency.of(declared.frequency),
            lookback_window=LookbackWindow(declared.lookback),
            promote_mode=None
            if declared.promote_mode is None
            else PromoteMode(declared.promote_mode),
            retraining_start_date=declared.start_date,
            running=declared.running,
            removal_policy=getattr(cdk.RemovalPolicy, declared.removal_policy),
        )
        for other in declared.depends_on:
            scheduler.node.add_dependency(built[other])
        built[declared.construct_id] = scheduler
    app.synth()
    ids = {
        construct_id: str(stack.resolve(scheduler.custom_resource.node.default_child.logical_id))
        for construct_id, scheduler in built.items()
    }
    return Synthesized(outdir, ids)


def synthesize_example_app(outdir: Path) -> Path:
    """Synthesize the repository's example app (``app.py``), cdk-nag included, into ``outdir``."""
    import aws_cdk as cdk

    spec = importlib.util.spec_from_file_location("example_app", REPO_ROOT / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = cdk.App(outdir=str(outdir), context=recommended_context())
    module.build_app(app).synth()
    return outdir


def start_date_text(day: datetime.date | None) -> str | None:
    """Return a start date as the emulator's snapshot shows it."""
    return None if day is None else f"{day.isoformat()}T00:00:00.000Z"


def declared_state(
    schedulers: Iterable[Declared], parameters: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Return the schedulers the emulator must hold for a declaration, keyed by model name.

    Status is RUNNING or STOPPED (the emulator's PENDING and STOPPING take no time); an
    undeclared PromoteMode is the service's default, MANAGED.
    """
    return {
        declared.model(parameters): {
            "Status": "RUNNING" if declared.running else "STOPPED",
            "RetrainingFrequency": declared.frequency,
            "LookbackWindow": declared.lookback,
            "PromoteMode": declared.promote_mode or "MANAGED",
            "RetrainingStartDate": start_date_text(declared.start_date),
        }
        for declared in schedulers
    }


def observed_state(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Return the emulator's schedulers in the form of :func:`declared_state`."""
    return {
        scheduler["ModelName"]: {
            **{key: scheduler[key] for key in STATE_KEYS},
            "RetrainingStartDate": scheduler["RetrainingStartDate"],
        }
        for scheduler in emulator.snapshot()["schedulers"]
    }


def created_at(emulator: Emulator) -> dict[str, str]:
    """Return each scheduler's CreatedAt, which tells one scheduler from another on a model."""
    return {item["ModelName"]: item["CreatedAt"] for item in emulator.snapshot()["schedulers"]}


def scheduler_ids(result: DeploymentResult, deployer: LocalDeployer) -> dict[str, str]:
    """Return each scheduler resource's physical id after ``result``."""
    state = deployer.stack_state(result.stack_name)
    assert state is not None
    return {
        logical_id: record.physical_id
        for logical_id, record in state.resources.items()
        if record.resource_type == SCHEDULER_TYPE
    }


def answered_once(result: DeploymentResult, figures: Any) -> None:
    """Check that every request of ``result`` got exactly one valid answer; count them."""
    for delivery in result.deliveries:
        assert len(delivery.responses) == 1, (delivery.logical_id, delivery.problems)
        assert delivery.response is not None
        assert delivery.response.problem is None
        assert delivery.problems == [], delivery.problems
    figures.count("end to end: custom resource events delivered", len(result.deliveries))
    figures.count("end to end: handler runs (sandboxed)", len(result.invocations))
