"""Example CDK apps: retraining schedulers declared in a stack, checked by cdk-nag.

``npx cdk synth`` runs this file (see cdk.json). The context value ``example`` chooses which
example app to build (``npx cdk synth -c example=<name>``). Each example is a function that adds
its stacks to the app, registered in ``EXAMPLES``:

``schedulers`` (the default)
    One stack of schedulers, environment-agnostic: no account or region is given, so synth needs
    no AWS account, and ``cdk deploy`` deploys to the account and region of the credentials it
    runs with; the partition, region and account in ARNs are left to CloudFormation.
``pipeline``
    A CDK Pipelines pipeline in a tools account that deploys the same stack of schedulers to a
    staging and a production account, each in its own region. Its synth step installs this
    repository as ``make install`` does and synthesizes this example again. The accounts, regions,
    repository and connection are ``pipeline:*`` context values, from cdk.json's ``context`` or
    ``-c key=value``; a key not given keeps its placeholder, set in code (``PIPELINE_SETTINGS``),
    and the committed cdk.json gives none. A real deployment commits its values to cdk.json,
    where the pipeline's own synth step reads them. Synth looks nothing up and needs no AWS
    account.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import pipelines
from cdk_nag import AwsSolutionsChecks
from constructs import IValidation

from lookout_retraining import (
    LookbackWindow,
    PromoteMode,
    RetrainingFrequency,
    RetrainingScheduler,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from constructs import Construct, IConstruct

EXAMPLE_CONTEXT_KEY = "example"
DEFAULT_EXAMPLE = "schedulers"
SCHEDULERS_STACK_ID = "LookoutRetrainingExample"
PIPELINE_EXAMPLE = "pipeline"
PIPELINE_STACK_ID = "LookoutRetrainingPipeline"


class SchedulersStack(cdk.Stack):
    """Three retraining schedulers: two on literal model names, one on a parameter."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Example: Lookout for Equipment retraining schedulers",
            **kwargs,
        )

        pump_model_name = cdk.CfnParameter(
            self,
            "PumpModelName",
            type="String",
            default="pump-station-3",
            allowed_pattern="^[0-9a-zA-Z_-]{1,200}$",
            description="The Lookout for Equipment model that the pump scheduler retrains",
        )

        schedulers = {
            "Compressor": RetrainingScheduler(
                self,
                "CompressorScheduler",
                model_name="compressor-line-1",
                retraining_frequency=RetrainingFrequency.months(1),
                lookback_window=LookbackWindow.DAYS_180,
            ),
            "Turbine": RetrainingScheduler(
                self,
                "TurbineScheduler",
                model_name="turbine-7",
                retraining_frequency=RetrainingFrequency.of("P3M15D"),
                lookback_window=LookbackWindow.DAYS_360,
                promote_mode=PromoteMode.MANUAL,
                retraining_start_date=datetime.date(2026, 1, 5),
                running=False,
            ),
            "Pump": RetrainingScheduler(
                self,
                "PumpScheduler",
                model_name=pump_model_name.value_as_string,
                retraining_frequency=RetrainingFrequency.days(45),
                lookback_window=LookbackWindow.DAYS_720,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            ),
        }
        for name, scheduler in schedulers.items():
            cdk.CfnOutput(self, f"{name}ModelArn", value=scheduler.attr_model_arn)
            cdk.CfnOutput(self, f"{name}SchedulerStatus", value=scheduler.attr_status)


def add_schedulers_example(app: cdk.App) -> None:
    """Add the example stack of schedulers to ``app``."""
    SchedulersStack(app, SCHEDULERS_STACK_ID)


class ContextSetting(NamedTuple):
    """A context value that configures the pipeline example, and the form it must take.

    Attributes
    ----------
    placeholder:
        The value used when the context does not give one.
    pattern:
        What a given value must match, whole.
    allowed:
        How the error message describes a value that matches.
    """

    placeholder: str
    pattern: re.Pattern[str]
    allowed: str

    def read(self, app: cdk.App, key: str) -> str:
        """Return the value of ``key`` in ``app``'s context, or the placeholder if not given.

        Parameters
        ----------
        app:
            The app whose context holds the value (cdk.json, then ``-c`` on the command line).
        key:
            The context key, such as ``pipeline:stagingAccount``.

        Raises
        ------
        ValueError
            If the value does not match; the message names the key, echoes the value and says
            what is allowed.
        """
        value = app.node.try_get_context(key)
        if value is None:
            return self.placeholder
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise ValueError(f"Context value {key}={value!r} is not {self.allowed}")
        return value


def _account_setting(placeholder: str) -> ContextSetting:
    return ContextSetting(placeholder, re.compile(r"^\d{12}$"), "an AWS account id of 12 digits")


def _region_setting(placeholder: str) -> ContextSetting:
    return ContextSetting(
        placeholder, re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$"), "an AWS region such as eu-west-1"
    )


PIPELINE_SETTINGS = {
    "pipeline:connectionArn": ContextSetting(
        "arn:aws:codestar-connections:eu-west-1:999999999999:"
        "connection/00000000-0000-0000-0000-000000000000",
        re.compile(
            r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:"
            r"connection/[A-Za-z0-9-]+$"
        ),
        "the ARN of a CodeStar connection, "
        "arn:aws:codestar-connections:<region>:<account>:connection/<id>",
    ),
    "pipeline:repository": ContextSetting(
        "my-org/cdk-lookout-retraining",
        re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$"),
        "a repository as the connection names it, owner/name",
    ),
    "pipeline:branch": ContextSetting(
        "main",
        re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$"),
        "a branch name of letters, digits and _ . / - that starts with a letter, digit or _",
    ),
    "pipeline:toolsAccount": _account_setting("999999999999"),
    "pipeline:toolsRegion": _region_setting("eu-west-1"),
    "pipeline:stagingAccount": _account_setting("111111111111"),
    "pipeline:stagingRegion": _region_setting("eu-west-1"),
    "pipeline:productionAccount": _account_setting("222222222222"),
    "pipeline:productionRegion": _region_setting("us-east-1"),
}
"""Context key -> the setting of the pipeline example it gives, with its placeholder."""

PIPELINE_SYNTH_INSTALL_COMMANDS = ("make install",)
"""Create the venv with this project and the Lambda's pinned dependencies, and node_modules with
the pinned CDK CLI, exactly as ``make`` does on a developer's machine."""

PIPELINE_SYNTH_COMMANDS = (f"npx cdk synth --quiet -c {EXAMPLE_CONTEXT_KEY}={PIPELINE_EXAMPLE}",)
"""Synthesize the pipeline example into cdk.out. No ``-c pipeline:*``: the pipeline rebuilds itself
from the repository, so its settings are the committed cdk.json's, or the placeholders where it
gives none, and never a user's command line."""

CODEBUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_8_0
CODEBUILD_RUNTIME_VERSIONS = {"python": "3.12", "nodejs": "22"}
"""The runtimes of every CodeBuild project of the pipeline: the synth step needs Python 3.11 or
newer for this project and Node.js for jsii and the CDK CLI; the standard:8.0 image has both."""

CDK_ASSETS_VERSION = "3.3.1"
"""The cdk-assets release with which the Assets stage publishes the stages' assets. CDK Pipelines
installs ``cdk-assets@latest`` unless told otherwise, so a run could change with no commit. Not a
4.x release: each bundles the cloud assembly schema it reads, and the newest, 4.7.3, refuses the
schema 55 asset manifests of aws-cdk-lib 2.275.0 (it reads up to 54). 3.3.1 depends on
``@aws-cdk/cloud-assembly-schema >=44``, which npm resolves when CodeBuild installs it."""


class DeploymentTarget(NamedTuple):
    """An AWS account and region, where the pipeline runs or a stage deploys.

    Attributes
    ----------
    account:
        The 12-digit account id.
    region:
        The region code, such as ``eu-west-1``.
    """

    account: str
    region: str

    @property
    def environment(self) -> cdk.Environment:
        """The CDK environment of this account and region."""
        return cdk.Environment(account=self.account, region=self.region)


class PipelineSettings(NamedTuple):
    """The pipeline example's settings, read from the ``pipeline:*`` context values.

    Attributes
    ----------
    connection_arn:
        The CodeStar connection through which the source action reads the repository.
    repository:
        The repository, ``owner/name``, whose pushes to ``branch`` start the pipeline.
    branch:
        The branch the pipeline builds.
    tools:
        Where the pipeline stack and the pipeline run.
    staging:
        Where the first stage deploys the stack of schedulers.
    production:
        Where the second stage deploys it, after a manual approval.
    """

    connection_arn: str
    repository: str
    branch: str
    tools: DeploymentTarget
    staging: DeploymentTarget
    production: DeploymentTarget

    @classmethod
    def from_context(cls, app: cdk.App) -> PipelineSettings:
        """Read the settings from ``app``'s context; a key not given keeps its placeholder.

        Parameters
        ----------
        app:
            The app whose context holds the ``pipeline:*`` values.

        Raises
        ------
        ValueError
            If a value is malformed (the message names the key, echoes the value and says what
            is allowed), or if staging and production are the same account and region.
        """
        values = {key: setting.read(app, key) for key, setting in PIPELINE_SETTINGS.items()}

        def target(name: str) -> DeploymentTarget:
            return DeploymentTarget(
                account=values[f"pipeline:{name}Account"],
                region=values[f"pipeline:{name}Region"],
            )

        settings = cls(
            connection_arn=values["pipeline:connectionArn"],
            repository=values["pipeline:repository"],
            branch=values["pipeline:branch"],
            tools=target("tools"),
            staging=target("staging"),
            production=target("production"),
        )
        if settings.staging == settings.production:
            raise ValueError(
                f"Staging and production are both account {settings.staging.account} in "
                f"{settings.staging.region}: their schedulers would claim the same models, and "
                "the service allows one retraining scheduler per model; give production another "
                "account or region"
            )
        return settings


def cdk_cli_version(package_json: Path | None = None) -> str:
    """Return the version of the CDK CLI that this repository pins in package.json.

    Parameters
    ----------
    package_json:
        The file to read; default None, the package.json beside this file.
    """
    package_json = package_json or Path(__file__).with_name("package.json")
    version: str = json.loads(package_json.read_text())["devDependencies"]["aws-cdk"]
    return version


class SchedulersStage(cdk.Stage):
    """The example stack of schedulers, deployed to one account and region.

    Parameters
    ----------
    scope:
        The pipeline stack.
    construct_id:
        The stage id, which prefixes the name of its stack (``Staging-LookoutRetrainingExample``).
    target:
        The account and region to deploy to.
    """

    def __init__(self, scope: Construct, construct_id: str, *, target: DeploymentTarget) -> None:
        super().__init__(scope, construct_id, env=target.environment)
        SchedulersStack(self, SCHEDULERS_STACK_ID)


class SchedulersPipelineStack(cdk.Stack):
    """A CDK pipeline that deploys the stack of schedulers to staging, then to production.

    A push to the branch starts it. The synth step installs this repository as ``make install``
    does and synthesizes this app's pipeline example; self-mutation and asset publishing install
    pinned releases of the CDK CLI and cdk-assets; no step runs Docker. The artifact buckets
    are encrypted with KMS keys that the target accounts' deploy roles may use, and production
    waits for a manual approval.

    Parameters
    ----------
    scope:
        The app.
    construct_id:
        The stack id.
    settings:
        The source, the tools account and region, and the two deployment targets.

    Attributes
    ----------
    pipeline:
        The CDK Pipelines pipeline, built.
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: PipelineSettings) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Example: a pipeline that deploys retraining schedulers to two accounts",
            env=settings.tools.environment,
        )

        source = pipelines.CodePipelineSource.connection(
            settings.repository, settings.branch, connection_arn=settings.connection_arn
        )
        synth = pipelines.ShellStep(
            "Synth",
            input=source,
            install_commands=list(PIPELINE_SYNTH_INSTALL_COMMANDS),
            commands=list(PIPELINE_SYNTH_COMMANDS),
            primary_output_directory="cdk.out",
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=synth,
            cross_account_keys=True,
            enable_key_rotation=True,
            docker_enabled_for_synth=False,
            docker_enabled_for_self_mutation=False,
            # Self-mutation deploys with the CLI version that synthesized the cloud assembly.
            cli_version=cdk_cli_version(),
            cdk_assets_cli_version=CDK_ASSETS_VERSION,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=CODEBUILD_IMAGE, privileged=False
                ),
                partial_build_spec=codebuild.BuildSpec.from_object(
                    {"phases": {"install": {"runtime-versions": CODEBUILD_RUNTIME_VERSIONS}}}
                ),
            ),
        )
        self.pipeline.add_stage(SchedulersStage(self, "Staging", target=settings.staging))
        self.pipeline.add_stage(
            SchedulersStage(self, "Production", target=settings.production),
            pre=[pipelines.ManualApprovalStep("PromoteToProduction")],
        )
        self.pipeline.build_pipeline()
        self.pipeline.node.add_validation(_AcknowledgePipelineFindings(self.pipeline))


def add_pipeline_example(app: cdk.App) -> None:
    """Add the pipeline example's stacks, configured by the ``pipeline:*`` context values."""
    SchedulersPipelineStack(app, PIPELINE_STACK_ID, settings=PipelineSettings.from_context(app))


def acknowledge(scope: IConstruct, findings: Mapping[str, str]) -> None:
    """Acknowledge cdk-nag findings on the resources in ``scope``, each with its reason.

    It records the entry that ``cdk.Validations.of(scope).acknowledge()`` records, without the
    stack trace that method adds: that trace names the jsii kernel's temporary folder, so the
    cloud assembly would differ from one synth to the next.

    Parameters
    ----------
    scope:
        The construct that holds the resources with the findings.
    findings:
        Finding id, such as ``AwsSolutions-IAM5[Action::s3:GetObject*]`` -> why it stays.
    """
    scope.node.add_metadata(
        cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY,
        {f"Annotation::{finding}": reason for finding, reason in findings.items()},
    )


def _resolved(scope: IConstruct, value: str) -> str:
    stack = cdk.Stack.of(scope)
    resolved = stack.resolve(value)
    if not isinstance(resolved, str):
        raise TypeError(f"{value} resolves to {resolved!r} in {stack.node.path}, not a literal")
    return resolved


def _logical_id(construct: IConstruct) -> str:
    resource = cast("cdk.CfnElement", construct.node.default_child)
    return _resolved(construct, resource.logical_id)


def _iam5(wildcard: str) -> str:
    return f"AwsSolutions-IAM5[{wildcard}]"


_ARTIFACT_GRANT_ACTION_GROUPS = (
    "s3:Abort*",
    "s3:DeleteObject*",
    "s3:GetBucket*",
    "s3:GetObject*",
    "s3:List*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)
"""The wildcard actions of the read and write grants that CDK Pipelines gives its roles on the
artifact buckets and their KMS keys."""

_BUCKET_LOGS_REASON = (
    "It holds only this pipeline's artifacts, read and written by the pipeline's own roles; it "
    "blocks public access, refuses plain HTTP and is encrypted with a rotated KMS key, and each "
    "execution's history records what the pipeline stored"
)


def pipeline_acknowledgements(
    pipeline: pipelines.CodePipeline,
) -> list[tuple[IConstruct, dict[str, str]]]:
    """Return each construct of a built pipeline with the AwsSolutions findings that stay on it.

    Every finding is on a resource that CDK Pipelines generates and is named exactly; the
    reasons say why it cannot be narrowed. Call it once the names in the findings are final:
    the cross-region replication buckets' are generated during CDK's prepare step.

    Parameters
    ----------
    pipeline:
        The pipeline, after ``build_pipeline()``, in a stack whose partition, region and
        account are concrete.

    Raises
    ------
    TypeError
        If a name in a finding is not a literal yet (the partition of a stack without the
        ``@aws-cdk/core:enablePartitionLiterals`` flag, or a call before CDK's prepare step).
    """
    code_pipeline = pipeline.pipeline
    stack = cdk.Stack.of(pipeline)
    partition, region, account = (
        _resolved(pipeline, part) for part in (stack.partition, stack.region, stack.account)
    )
    log_groups = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/codebuild/"
    report_groups = f"arn:{partition}:codebuild:{region}:{account}:report-group/"

    artifact_grants = {
        _iam5(f"Action::{action}"): (
            f"{action} is an action group of the read and write grants that CDK Pipelines gives "
            "its roles on the pipeline's artifact buckets and their KMS keys, and on nothing else"
        )
        for action in _ARTIFACT_GRANT_ACTION_GROUPS
    }
    artifact_bucket_id = _logical_id(code_pipeline.artifact_bucket)
    artifact_grants[_iam5(f"Resource::<{artifact_bucket_id}.Arn>/*")] = (
        "The objects of the pipeline's artifact bucket, whose keys CodePipeline chooses for each "
        "execution"
    )
    acknowledgements: list[tuple[IConstruct, dict[str, str]]] = [
        (pipeline, artifact_grants),
        (code_pipeline.artifact_bucket, {"AwsSolutions-S1": _BUCKET_LOGS_REASON}),
    ]

    pipeline_role_findings = {
        _iam5("Resource::*"): (
            "The * of the KMS statement stands for the keys of the replication buckets in other "
            "regions: CDK grants a key of another region's stack by * in this policy and by a "
            "statement in that key's own policy, and for encrypt and decrypt actions only"
        )
    }
    for support_region, support in code_pipeline.cross_region_support.items():
        if support.stack.node.path == stack.node.path:
            continue
        # The pipeline's policy names the bucket by the physical name CDK generated for it.
        bucket_name = _resolved(pipeline, support.replication_bucket.bucket_name)
        pipeline_role_findings[_iam5(f"Resource::arn:{partition}:s3:::{bucket_name}/*")] = (
            f"The objects of the replication bucket in {support_region}, to which CodePipeline "
            "copies the artifacts of the actions that run in that region"
        )
        acknowledgements.append(
            (support.replication_bucket, {"AwsSolutions-S1": _BUCKET_LOGS_REASON})
        )
    acknowledgements.append((code_pipeline.role, pipeline_role_findings))

    for project in (pipeline.synth_project, pipeline.self_mutation_project):
        project_id = _logical_id(project)
        own_project_findings = {
            _iam5(f"Resource::{log_groups}<{project_id}>:*"): (
                "The log streams of this project's own log group, which CodeBuild names for "
                "each build"
            ),
            _iam5(f"Resource::{report_groups}<{project_id}>-*"): (
                "The test report groups of this project, which CodeBuild names after it"
            ),
        }
        acknowledgements.append((project, own_project_findings))
    acknowledgements.append(
        (
            pipeline.self_mutation_project,
            {
                _iam5(f"Resource::arn:*:iam::{account}:role/*"): (
                    "Self-mutation runs cdk deploy, which assumes the tools account's CDK "
                    "bootstrap roles; the statement's condition admits only the roles tagged "
                    "aws-cdk:bootstrap-role deploy, file-publishing or image-publishing"
                ),
                _iam5("Resource::*"): (
                    "cloudformation:DescribeStacks and s3:ListBucket: the read-only calls with "
                    "which cdk deploy finds the bootstrap stack and its staging bucket"
                ),
            },
        )
    )

    # CDK Pipelines shares one role among the asset-publishing projects, one per asset.
    asset_publishing_role = pipeline.node.find_child("Assets").node.find_child("FileRole")
    acknowledgements.append(
        (
            asset_publishing_role,
            {
                _iam5(f"Resource::{log_groups}*"): (
                    "One role serves every asset-publishing project, so CDK Pipelines grants "
                    "their log groups by the /aws/codebuild/ prefix"
                ),
                _iam5(f"Resource::{report_groups}*"): (
                    "One role serves every asset-publishing project, so CDK Pipelines grants "
                    "their test report groups by prefix"
                ),
                _iam5("Resource::*"): (
                    "codebuild:StartBuild, BatchGetBuilds and StopBuild on the asset-publishing "
                    "projects that share this role, which CDK Pipelines creates after it"
                ),
            },
        )
    )
    return acknowledgements


@jsii.implements(IValidation)
class _AcknowledgePipelineFindings:
    """Acknowledge the AwsSolutions findings on what CDK Pipelines generates.

    It reports no error: construct validation runs after CDK's prepare step and before the
    validation plugins, the moment when every name inside the finding ids is final.
    """

    def __init__(self, pipeline: pipelines.CodePipeline) -> None:
        self._pipeline = pipeline

    def validate(self) -> list[str]:
        for scope, findings in pipeline_acknowledgements(self._pipeline):
            acknowledge(scope, findings)
        return []


EXAMPLES: dict[str, Callable[[cdk.App], None]] = {
    "schedulers": add_schedulers_example,
    PIPELINE_EXAMPLE: add_pipeline_example,
}
"""Example name (the ``example`` context value) -> the function that adds its stacks."""


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the example chosen by the ``example`` context value to an app, with cdk-nag.

    Parameters
    ----------
    app:
        The app to build into; default None, a new ``cdk.App()`` that reads its context and
        output directory from the CDK CLI.

    Raises
    ------
    ValueError
        If the ``example`` context value names no example.
    """
    app = app if app is not None else cdk.App()
    example = app.node.try_get_context(EXAMPLE_CONTEXT_KEY) or DEFAULT_EXAMPLE
    add_example = EXAMPLES.get(example)
    if add_example is None:
        raise ValueError(
            f"Context value {EXAMPLE_CONTEXT_KEY}={example!r} names no example: use one of "
            f"{', '.join(sorted(EXAMPLES))}"
        )
    add_example(app)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
