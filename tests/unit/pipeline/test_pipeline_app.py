"""The pipeline example: its source, its synth step, its stages, and cdk-nag's verdict on it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

PIPELINE_STACK = "LookoutRetrainingPipeline"
SUPPORT_STACK = "cross-region-stack-999999999999:us-east-1"
SCHEDULERS_STACK = "LookoutRetrainingExample"
TOOLS_ACCOUNT, TOOLS_REGION = "999999999999", "eu-west-1"
STAGE_TARGETS = {
    "Staging": ("111111111111", "eu-west-1"),
    "Production": ("222222222222", "us-east-1"),
}
CONNECTION_ARN = (
    "arn:aws:codestar-connections:eu-west-1:999999999999:"
    "connection/00000000-0000-0000-0000-000000000000"
)
ACKNOWLEDGED = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY


def pipeline_stages(pipeline_template, resources_of_type):
    (pipeline,) = resources_of_type(pipeline_template, "AWS::CodePipeline::Pipeline").values()
    return {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}


def codebuild_projects(pipeline_template, resources_of_type):
    return {
        logical_id: project["Properties"]
        for logical_id, project in resources_of_type(
            pipeline_template, "AWS::CodeBuild::Project"
        ).items()
    }


def buildspec(project):
    return json.loads(project["Source"]["BuildSpec"])


def synth_project(pipeline_template, resources_of_type):
    (project,) = (
        project
        for logical_id, project in codebuild_projects(pipeline_template, resources_of_type).items()
        if "Synth" in logical_id
    )
    return project


def joined(value):
    """A Fn::Join of literals and Ref AWS::Partition, as CloudFormation resolves it in aws."""
    if isinstance(value, str):
        return value
    delimiter, parts = value["Fn::Join"]
    return delimiter.join("aws" if part == {"Ref": "AWS::Partition"} else part for part in parts)


def acknowledgements(assembly):
    """Every acknowledged finding in the assembly and its nested ones: (path, finding, reason)."""
    found = []
    for nested in assembly.all_assemblies():
        for metadata_file in nested.directory.glob("*.metadata.json"):
            for path, entries in json.loads(metadata_file.read_text()).items():
                for entry in entries:
                    if entry["type"] == ACKNOWLEDGED:
                        found += [(path, rule, reason) for rule, reason in entry["data"].items()]
    return found


def test_pipeline_app_synthesizes_with_aws_solutions_checks_and_no_finding(pipeline_assembly):
    report = json.loads((pipeline_assembly.directory / "validation-report.json").read_text())

    # Synthesis raised on no finding; the report lists none, not even acknowledged warnings.
    assert report["pluginReports"] == []


def test_pipeline_acknowledgements_name_one_finding_each_with_its_reason(pipeline_assembly):
    pipeline = f"/{PIPELINE_STACK}/Pipeline"
    stage_grants = {
        f"/{PIPELINE_STACK}/{stage}/{SCHEDULERS_STACK}/LookoutRetraining/Grant0"
        for stage in STAGE_TARGETS
    }

    found = acknowledgements(pipeline_assembly)

    for path, rule, reason in found:
        # On a construct of the pipeline, never on a stack or the app; an IAM5 acknowledgement
        # always names the one action or resource it accepts.
        assert (
            path == pipeline
            or path.startswith((f"{pipeline}/", f"/{SUPPORT_STACK}/Default/"))
            or path in stage_grants
        ), path
        assert re.fullmatch(r"Annotation::AwsSolutions-(S1|IAM5\[(Action|Resource)::.+\])", rule)
        assert len(reason) > 60, (rule, reason)
    assert sorted(path for path, rule, _ in found if rule == "Annotation::AwsSolutions-S1") == [
        f"{pipeline}/Pipeline/ArtifactsBucket",
        f"/{SUPPORT_STACK}/Default/CrossRegionCodePipelineReplicationBucket",
    ]
    # Each stage keeps the construct's one acknowledgement, on the model ARNs, and adds none.
    staged = [(path, rule) for path, rule, _ in found if path in stage_grants]
    assert sorted(path for path, _ in staged) == sorted(stage_grants)
    assert all(rule.startswith("Annotation::AwsSolutions-IAM5[Resource::") for _, rule in staged)


@pytest.mark.synth
def test_pipeline_unacknowledged_finding_in_stage_fails_synth(
    example_app_module, cli_context, monkeypatch, tmp_path
):
    # Given the pipeline example whose staging stack holds a careless policy
    class CarelessSchedulersStack(example_app_module.SchedulersStack):
        def __init__(self, scope, construct_id, **kwargs):
            super().__init__(scope, construct_id, **kwargs)
            if cdk.Stage.of(self).stage_name == "Staging":
                iam.ManagedPolicy(
                    self,
                    "Careless",
                    statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])],
                )

    monkeypatch.setattr(example_app_module, "SchedulersStack", CarelessSchedulersStack)
    app = cdk.App(
        context=cli_context("pipeline"),
        outdir=str(tmp_path / "cdk.out"),
        builtin_cloud_formation_validation=False,
    )
    example_app_module.build_app(app)

    # When it synthesizes, then cdk-nag's checks reach into the stage and fail the synth
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed: .*AwsSolutions-IAM5") as raised:
        app.synth()

    assert f"{PIPELINE_STACK}/Staging/{SCHEDULERS_STACK}/Careless/Resource" in str(raised.value)
    assert "Production" not in str(raised.value)


def test_pipeline_stack_runs_in_tools_account_and_region(pipeline_assembly):
    _, pipeline = pipeline_assembly.stack(PIPELINE_STACK)
    _, support = pipeline_assembly.stack(SUPPORT_STACK)

    assert pipeline["environment"] == f"aws://{TOOLS_ACCOUNT}/{TOOLS_REGION}"
    # CodePipeline's replication bucket for the production region, in the tools account.
    assert support["environment"] == f"aws://{TOOLS_ACCOUNT}/us-east-1"
    assert support["properties"]["stackName"] == f"{PIPELINE_STACK}-support-us-east-1"


def test_pipeline_source_is_codestar_connection_with_context_defaults(
    pipeline_template, resources_of_type
):
    (source,) = pipeline_stages(pipeline_template, resources_of_type)["Source"]

    assert source["ActionTypeId"] == {
        "Category": "Source",
        "Owner": "AWS",
        "Provider": "CodeStarSourceConnection",
        "Version": "1",
    }
    assert source["Configuration"] == {
        "ConnectionArn": CONNECTION_ARN,
        "FullRepositoryId": "my-org/cdk-lookout-retraining",
        "BranchName": "main",
    }


def test_pipeline_synth_fetches_no_secret_and_looks_nothing_up(pipeline_synths, pipeline_template):
    rendered = json.dumps(pipeline_template)

    assert "{{resolve:" not in rendered
    assert "OAuthToken" not in rendered
    for assembly in pipeline_synths.first.all_assemblies():
        assert "missing" not in assembly.manifest
    assert not (pipeline_synths.sources[0] / "cdk.context.json").exists()


def test_synth_step_installs_as_make_does_and_synthesizes_pipeline_example(
    pipeline_template, resources_of_type
):
    project = synth_project(pipeline_template, resources_of_type)
    spec = buildspec(project)

    assert project["Environment"]["Image"] == "aws/codebuild/standard:8.0"
    assert spec["phases"]["install"] == {
        "runtime-versions": {"python": "3.12", "nodejs": "22"},
        "commands": ["make install"],
    }
    assert spec["phases"]["build"] == {"commands": ["npx cdk synth --quiet -c example=pipeline"]}
    # The pipeline's primary output: the cloud assembly that self-mutation and the stages read.
    assert spec["artifacts"] == {"base-directory": "cdk.out", "files": ["**/*"]}


def test_make_install_creates_the_venv_and_cli_that_the_synth_command_runs(repo_root):
    make = shutil.which("make")
    assert make is not None, "make is needed, as for the rest of this repository"
    app_command = json.loads((repo_root / "cdk.json").read_text())["app"]

    planned = subprocess.run(
        [make, "--dry-run", "--always-make", "install"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert app_command == ".venv/bin/python app.py"
    assert re.search(r"-m venv \.venv\b", planned)
    assert "pip install" in planned
    assert "npm ci" in planned


def test_no_codebuild_project_runs_docker_or_privileged(pipeline_template, resources_of_type):
    projects = codebuild_projects(pipeline_template, resources_of_type)

    assert len(projects) == 3  # synth, self-mutation, the Lambda asset
    # dockerEnabledForSynth or dockerEnabledForSelfMutation would make a project privileged.
    for logical_id, project in projects.items():
        assert project["Environment"]["PrivilegedMode"] is False, logical_id
        assert "docker" not in project["Source"]["BuildSpec"].lower(), logical_id


def test_pipeline_self_mutation_uses_the_pinned_cdk_cli(
    pipeline_template, resources_of_type, repo_root
):
    pinned = json.loads((repo_root / "package.json").read_text())["devDependencies"]["aws-cdk"]
    (self_mutation,) = (
        project
        for logical_id, project in codebuild_projects(pipeline_template, resources_of_type).items()
        if "SelfMutation" in logical_id
    )

    assert buildspec(self_mutation)["phases"]["install"]["commands"] == [
        f"npm install -g aws-cdk@{pinned}"
    ]


def test_pipeline_asset_publishing_installs_a_pinned_cdk_assets_release(
    pipeline_template, resources_of_type, example_app_module
):
    pinned = example_app_module.CDK_ASSETS_VERSION
    projects = codebuild_projects(pipeline_template, resources_of_type)
    publishing = [project for logical_id, project in projects.items() if "Assets" in logical_id]

    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned)
    assert len(publishing) == 1  # one project publishes the Lambda asset to both stages
    for project in publishing:
        assert buildspec(project)["phases"]["install"]["commands"] == [
            f"npm install -g cdk-assets@{pinned}"
        ]
    # CDK Pipelines' default for a tool it installs is the newest release, which a run would
    # pick up with no commit; no project of this pipeline takes it.
    for logical_id, project in projects.items():
        assert "@latest" not in project["Source"]["BuildSpec"], logical_id


@pytest.mark.parametrize("stage", STAGE_TARGETS)
def test_pipeline_deploys_stage_with_that_accounts_roles_in_its_region(
    pipeline_template, resources_of_type, stage
):
    account, region = STAGE_TARGETS[stage]
    actions = pipeline_stages(pipeline_template, resources_of_type)[stage]
    deploy_actions = [
        action for action in actions if action["ActionTypeId"]["Category"] == "Deploy"
    ]

    assert [action["Configuration"]["ActionMode"] for action in deploy_actions] == [
        "CHANGE_SET_REPLACE",
        "CHANGE_SET_EXECUTE",
    ]
    for action in deploy_actions:
        assert action["Configuration"]["StackName"] == f"{stage}-{SCHEDULERS_STACK}"
        assert action.get("Region", TOOLS_REGION) == region
        assert joined(action["RoleArn"]) == (
            f"arn:aws:iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-{region}"
        )
    assert joined(deploy_actions[0]["Configuration"]["RoleArn"]) == (
        f"arn:aws:iam::{account}:role/cdk-hnb659fds-cfn-exec-role-{account}-{region}"
    )


def test_production_waits_for_manual_approval(pipeline_template, resources_of_type):
    stages = pipeline_stages(pipeline_template, resources_of_type)

    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", "Staging", "Production"]
    approval, *deploys = stages["Production"]
    assert approval["Name"] == "PromoteToProduction"
    assert approval["ActionTypeId"]["Provider"] == "Manual"
    assert all(deploy["RunOrder"] > approval["RunOrder"] for deploy in deploys)
    assert all(action["ActionTypeId"]["Category"] == "Deploy" for action in stages["Staging"])


@pytest.mark.parametrize("stage", STAGE_TARGETS)
def test_pipeline_stage_deploys_the_default_examples_stack(
    pipeline_assembly, schedulers_synths, resources_of_type, stage
):
    example = schedulers_synths.first.template(SCHEDULERS_STACK)
    staged = pipeline_assembly.nested(f"{PIPELINE_STACK}/{stage}").template(
        f"{PIPELINE_STACK}/{stage}/{SCHEDULERS_STACK}"
    )
    scheduler_type = "Custom::LookoutEquipmentRetrainingScheduler"

    # The same schedulers, parameters and outputs. Only environment-bound values differ, and
    # with them the logical id of the grant policy that each scheduler depends on, which
    # follows the policy's content.
    schedulers = [
        {
            logical_id: (resource["Properties"], resource.get("DeletionPolicy"))
            for logical_id, resource in resources_of_type(template, scheduler_type).items()
        }
        for template in (staged, example)
    ]
    assert schedulers[0] == schedulers[1]
    assert staged["Parameters"] == example["Parameters"]
    assert staged["Outputs"] == example["Outputs"]
    assert sorted(r["Type"] for r in staged["Resources"].values()) == sorted(
        r["Type"] for r in example["Resources"].values()
    )
