"""Fixtures for the RetrainingScheduler construct tests.

Starting jsii costs seconds per process, so synthesized stacks are built once per session and
shared by the assertions that read them.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Before aws_cdk starts its jsii process, which reads the variable once.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from lookout_retraining import (
    LookbackWindow,
    PromoteMode,
    RetrainingFrequency,
    RetrainingScheduler,
)
from lookout_retraining.provider import RetrainingSchedulerProvider

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Callable, Iterable

REALISTIC_PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "Reference",
    "AWS::URLSuffix": "amazonaws.com",
}
# The longest each pseudo parameter can be in any partition in use today.
WORST_CASE_PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws-us-gov",
    "AWS::Region": "us-isof-south-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "S" * 128,
    "AWS::URLSuffix": "amazonaws.com",
}


@dataclass
class SynthesizedStack:
    """A stack synthesized once and read by many tests."""

    stack: cdk.Stack
    template: dict[str, Any]
    assertions: Template
    outdir: Path
    template_path: Path
    schedulers: dict[str, RetrainingScheduler]

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def logical_id(self, scheduler: str) -> str:
        resource = self.schedulers[scheduler].custom_resource.node.default_child
        return str(self.stack.resolve(resource.logical_id))

    def asset_directory(self) -> Path:
        (function,) = self.resources_of_type("AWS::Lambda::Function").values()
        asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        return self.outdir / f"asset.{asset_hash}"


def iam_characters(document: Any) -> int:
    """IAM's size measure of a resolved policy: its JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


@pytest.fixture(scope="session")
def new_app(recommended_context: dict[str, Any]) -> Callable[..., cdk.App]:
    """Return a factory of apps with the recommended feature flags.

    CDK's built-in CloudFormation schema validation is off unless asked for: it costs seconds
    per process, and cfn-lint checks the same templates in their own tests.
    """

    def factory(**kwargs: Any) -> cdk.App:
        context = {**recommended_context, **kwargs.pop("context", {})}
        kwargs.setdefault("builtin_cloud_formation_validation", False)
        return cdk.App(context=context, **kwargs)

    return factory


def synthesize(
    app: cdk.App, stack: cdk.Stack, schedulers: dict[str, RetrainingScheduler]
) -> SynthesizedStack:
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    return SynthesizedStack(
        stack=stack,
        template=artifact.template,
        assertions=Template.from_json(artifact.template),
        outdir=Path(assembly.directory),
        template_path=Path(artifact.template_full_path),
        schedulers=schedulers,
    )


@pytest.fixture(scope="session")
def reference(new_app: Callable[..., cdk.App]) -> SynthesizedStack:
    """A stack with three schedulers: defaults only, every prop set, and a dated one."""
    app = new_app()
    stack = cdk.Stack(app, "Reference")
    model_parameter = cdk.CfnParameter(stack, "ModelParam", type="String")
    schedulers = {
        "defaults": RetrainingScheduler(
            stack,
            "Defaults",
            model_name="pump-1",
            retraining_frequency=RetrainingFrequency.days(30),
            lookback_window=LookbackWindow.DAYS_180,
        ),
        "everything": RetrainingScheduler(
            stack,
            "Everything",
            model_name=model_parameter.value_as_string,
            retraining_frequency=RetrainingFrequency.months(2),
            lookback_window=LookbackWindow.DAYS_360,
            promote_mode=PromoteMode.MANUAL,
            retraining_start_date=datetime.datetime(
                2026, 3, 1, 23, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-2))
            ),
            client_token="token-everything",
            running=False,
            adopt_existing=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        ),
        "dated": RetrainingScheduler(
            stack,
            "Dated",
            model_name="pump-3",
            retraining_frequency=RetrainingFrequency.of("P3M15D"),
            lookback_window=LookbackWindow.DAYS_720,
            promote_mode=PromoteMode.MANAGED,
            retraining_start_date=datetime.date(2026, 1, 5),
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        ),
    }
    return synthesize(app, stack, schedulers)


@dataclass
class SynthesizedFleet:
    """A stack of ``count`` schedulers, synthesized once per test session into a shared folder."""

    count: int
    template: dict[str, Any]
    template_path: Path
    estimated_grant_characters: list[int]
    models_per_grant: list[int]
    grant_logical_ids: list[str]
    """The grant policies' logical ids, in packing order."""
    parameter_models: int
    """How many of the first model names are CfnParameters."""

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    @property
    def outdir(self) -> Path:
        return self.template_path.parent

    def metadata(self) -> dict[str, list[dict[str, Any]]]:
        """The construct metadata the CLI reads: path -> entries (warnings, acknowledgements)."""
        metadata: dict[str, list[dict[str, Any]]] = json.loads(
            (self.outdir / f"Fleet{self.count}.metadata.json").read_text()
        )
        return metadata

    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report


FLEET_SIZES = (1, 10, 100, 400)
FLEET_PARAMETER_MODELS = {400: 2}
"""The 400-scheduler stack declares its first two model names as CfnParameters."""


def declare_fleet_schedulers(
    stack: cdk.Stack, indices: Iterable[int], parameter_models: int
) -> None:
    """Declare a scheduler ``Pump<index>`` on model ``pump-<index>`` for each index, in order.

    The models of the indices below ``parameter_models`` are CfnParameters ``Model<index>``.
    """
    for index in indices:
        model_name = f"pump-{index:04d}"
        if index < parameter_models:
            model_name = cdk.CfnParameter(stack, f"Model{index}").value_as_string
        RetrainingScheduler(
            stack,
            f"Pump{index:04d}",
            model_name=model_name,
            retraining_frequency=RetrainingFrequency.days(30),
            lookback_window=LookbackWindow.DAYS_180,
        )


def grant_logical_ids(stack: cdk.Stack) -> list[str]:
    """The logical ids of a stack's grant policies, in packing order."""
    provider = RetrainingSchedulerProvider.find(stack)
    assert provider is not None
    return [str(stack.resolve(policy.logical_id)) for policy in provider.grant_policies]


def synthesize_fleet(app: cdk.App, count: int, parameter_models: int, facts_path: Path) -> None:
    stack = cdk.Stack(app, f"Fleet{count}")
    declare_fleet_schedulers(stack, range(count), parameter_models)
    # Synthesis raises on any finding left unacknowledged.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    provider = RetrainingSchedulerProvider.find(stack)
    assert provider is not None
    facts = {
        "estimated_grant_characters": list(provider.estimated_grant_characters),
        "models_per_grant": [
            len(policy.node.scope.model_names) for policy in provider.grant_policies
        ],
        "grant_logical_ids": grant_logical_ids(stack),
    }
    facts_path.write_text(json.dumps(facts))


@pytest.fixture(scope="session")
def fleets(
    new_app: Callable[..., cdk.App],
    built_once: Callable[[str], contextlib.AbstractContextManager[tuple[Path, bool]]],
) -> dict[int, SynthesizedFleet]:
    """Stacks of 1, 10, 100 and 400 schedulers on models ``pump-0000``..., as the CLI writes them.

    Synthesized with cdk-nag's AwsSolutions checks, which raise on any unacknowledged finding.
    Built by the first worker that needs them; the others read the synthesized files.
    """
    fleets = {}
    for count in FLEET_SIZES:
        parameter_models = FLEET_PARAMETER_MODELS.get(count, 0)
        with built_once(f"fleet-{count}") as (directory, built):
            outdir = directory / "cdk.out"
            if not built:
                # Path metadata on, as the CDK CLI writes it: every resource carries its path.
                app = new_app(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
                synthesize_fleet(app, count, parameter_models, directory / "facts.json")
        template_path = outdir / f"Fleet{count}.template.json"
        facts = json.loads((directory / "facts.json").read_text())
        fleets[count] = SynthesizedFleet(
            count=count,
            template=json.loads(template_path.read_text()),
            template_path=template_path,
            estimated_grant_characters=facts["estimated_grant_characters"],
            models_per_grant=facts["models_per_grant"],
            grant_logical_ids=facts["grant_logical_ids"],
            parameter_models=parameter_models,
        )
    return fleets


@pytest.fixture(scope="session")
def fleet_variant_grants(
    new_app: Callable[..., cdk.App],
) -> Callable[[Iterable[int], int], list[str]]:
    """Return ``grants(indices, parameter_models)``: a fleet's grant logical ids, unsynthesized.

    Each call declares the fleet's schedulers for ``indices`` in a new stack of one shared app,
    named as the fleets name theirs, and reads the ids without synthesizing: a grant policy's
    logical id is its content's hash, which neither the stack's name nor synthesis changes.
    """
    app = new_app()
    stacks = itertools.count()

    def grants(indices: Iterable[int], parameter_models: int) -> list[str]:
        stack = cdk.Stack(app, f"Variant{next(stacks)}")
        declare_fleet_schedulers(stack, indices, parameter_models)
        return grant_logical_ids(stack)

    return grants


@pytest.fixture(scope="session")
def iam_size() -> Callable[[Any], int]:
    """Return IAM's size measure of a resolved policy document."""
    return iam_characters


@pytest.fixture(scope="session")
def realistic_pseudo_parameters() -> dict[str, str]:
    """Pseudo parameter values of a typical deployment."""
    return dict(REALISTIC_PSEUDO_PARAMETERS)


@pytest.fixture(scope="session")
def worst_case_pseudo_parameters() -> dict[str, str]:
    """The longest values the pseudo parameters take in any partition in use today."""
    return dict(WORST_CASE_PSEUDO_PARAMETERS)
