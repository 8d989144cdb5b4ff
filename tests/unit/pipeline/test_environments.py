"""Each stage names its own account and region; an environment-agnostic stack names none.

A stage with an explicit environment gets concrete values wherever CDK makes them concrete (the
asset bucket, the bootstrap roles, the model ARNs); what stays symbolic (a role's or log group's
ARN) is a reference to a resource of the same template, which CloudFormation resolves in the
stage's own account and region. Every template passes cfn-lint, and every asset is a file.
"""

from __future__ import annotations

import json
import re

import pytest
from cfnlint.api import ManualArgs, lint_file

PIPELINE_STACK = "LookoutRetrainingPipeline"
SUPPORT_STACK = "cross-region-stack-999999999999:us-east-1"
SCHEDULERS_STACK = "LookoutRetrainingExample"
STAGE_TARGETS = {
    "Staging": ("111111111111", "eu-west-1"),
    "Production": ("222222222222", "us-east-1"),
}
MODEL_NAMES = ("compressor-line-1", "turbine-7", "pump-station-3")
"""The example's models; the pump's comes from its parameter's default."""
BOOTSTRAP_QUALIFIER = "hnb659fds"
# Twelve digits on their own, not a run of digits inside a hash.
ACCOUNT_ID = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")
REGION = re.compile(r"\b(?:af|ap|ca|cn|eu|il|me|mx|sa|us)(?:-[a-z]+)+-\d\b")
# W3005: CDK gives the function and the pipeline a DependsOn on their roles, which GetAtt implies.
CFN_LINT_CONFIG = ManualArgs(ignore_checks=["W3005"])


def strings_in(value):
    """Every string inside a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)


def pseudo_parameters_in(template):
    """The pseudo parameters that the template refers to, by Ref or in Fn::Sub."""
    rendered = json.dumps(template)
    return set(re.findall(r'"Ref": "(AWS::\w+)"', rendered)) | set(
        re.findall(r"\$\{(AWS::\w+)\}", rendered)
    )


def stage_assembly(pipeline_assembly, stage):
    return pipeline_assembly.nested(f"{PIPELINE_STACK}/{stage}")


def stage_stack_name(stage):
    return f"{PIPELINE_STACK}/{stage}/{SCHEDULERS_STACK}"


def bootstrap_role_arn(role, account, region):
    return (
        f"arn:${{AWS::Partition}}:iam::{account}:role/"
        f"cdk-{BOOTSTRAP_QUALIFIER}-{role}-role-{account}-{region}"
    )


@pytest.mark.parametrize("stage", STAGE_TARGETS)
def test_stage_stack_deploys_with_stage_accounts_bootstrap_roles(pipeline_assembly, stage):
    account, region = STAGE_TARGETS[stage]

    _, artifact = stage_assembly(pipeline_assembly, stage).stack(stage_stack_name(stage))

    properties = artifact["properties"]
    assert artifact["environment"] == f"aws://{account}/{region}"
    assert properties["stackName"] == f"{stage}-{SCHEDULERS_STACK}"
    assert properties["assumeRoleArn"] == bootstrap_role_arn("deploy", account, region)
    assert properties["cloudFormationExecutionRoleArn"] == bootstrap_role_arn(
        "cfn-exec", account, region
    )
    assert properties["stackTemplateAssetObjectUrl"].startswith(
        f"s3://cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}/"
    )


@pytest.mark.parametrize("stage", STAGE_TARGETS)
def test_stage_lambda_asset_is_a_file_published_to_stage_bucket(
    pipeline_assembly, resources_of_type, stage
):
    account, region = STAGE_TARGETS[stage]
    assembly = stage_assembly(pipeline_assembly, stage)
    template = assembly.template(stage_stack_name(stage))
    assets = assembly.asset_manifest(stage_stack_name(stage))
    ((_, function),) = resources_of_type(template, "AWS::Lambda::Function").items()
    code = function["Properties"]["Code"]
    asset_hash = code["S3Key"].removesuffix(".zip")

    asset = assets["files"][asset_hash]
    ((destination),) = asset["destinations"].values()
    assert assets["dockerImages"] == {}
    assert asset["source"] == {"path": f"../asset.{asset_hash}", "packaging": "zip"}
    assert (assembly.directory / asset["source"]["path"] / "lookout_retraining_handler").is_dir()
    assert code["S3Bucket"] == destination["bucketName"]
    assert destination == {
        "bucketName": f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}",
        "objectKey": f"{asset_hash}.zip",
        "region": region,
        "assumeRoleArn": bootstrap_role_arn("file-publishing", account, region),
    }


@pytest.mark.parametrize("stage", STAGE_TARGETS)
def test_stage_grant_policy_names_stage_region_and_account(
    pipeline_assembly, resources_of_type, evaluate, stage
):
    account, region = STAGE_TARGETS[stage]
    template = stage_assembly(pipeline_assembly, stage).template(stage_stack_name(stage))
    ((_, policy),) = resources_of_type(template, "AWS::IAM::ManagedPolicy").items()

    # No pseudo parameter is given: the ARNs must be concrete in the template itself.
    document = evaluate(policy["Properties"]["PolicyDocument"], {"PumpModelName": MODEL_NAMES[2]})

    assert document["Statement"][0]["Resource"] == [
        f"arn:aws:lookoutequipment:{region}:{account}:model/{model_name}/*"
        for model_name in MODEL_NAMES
    ]


@pytest.mark.parametrize("stage", STAGE_TARGETS)
def test_stage_function_role_and_log_group_are_the_stages_own(
    pipeline_assembly, resources_of_type, stage
):
    template = stage_assembly(pipeline_assembly, stage).template(stage_stack_name(stage))
    ((function_id, function),) = resources_of_type(template, "AWS::Lambda::Function").items()
    ((role_id, role),) = resources_of_type(template, "AWS::IAM::Role").items()
    ((log_group_id, _),) = resources_of_type(template, "AWS::Logs::LogGroup").items()
    ((_, policy),) = resources_of_type(template, "AWS::IAM::ManagedPolicy").items()
    schedulers = resources_of_type(template, "Custom::LookoutEquipmentRetrainingScheduler")

    # Every ARN the function and its policies use is an attribute of a resource in this very
    # template, so CloudFormation resolves it in this stage's account and region.
    assert function["Properties"]["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert function["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}
    ((log_statement,),) = (
        inline["PolicyDocument"]["Statement"] for inline in role["Properties"]["Policies"]
    )
    assert log_statement["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    assert {
        json.dumps(scheduler["Properties"]["ServiceToken"]) for scheduler in schedulers.values()
    } == {json.dumps({"Fn::GetAtt": [function_id, "Arn"]})}


@pytest.mark.parametrize("stage", STAGE_TARGETS)
def test_stage_template_names_no_other_account_or_region(pipeline_assembly, stage):
    account, region = STAGE_TARGETS[stage]
    template = stage_assembly(pipeline_assembly, stage).template(stage_stack_name(stage))
    strings = list(strings_in(template))

    assert {match for text in strings for match in ACCOUNT_ID.findall(text)} == {account}
    assert {match.group() for text in strings for match in REGION.finditer(text)} == {region}
    # CDK rendered the account, region and partition concrete: nothing is left to resolve.
    assert pseudo_parameters_in(template) == set()


@pytest.mark.parametrize("stage", STAGE_TARGETS)
def test_stage_template_passes_cfn_lint(pipeline_assembly, stage):
    template_path = stage_assembly(pipeline_assembly, stage).template_path(stage_stack_name(stage))

    matches = lint_file(template_path, config=CFN_LINT_CONFIG)

    assert [str(match) for match in matches] == []


@pytest.mark.parametrize("stack", [PIPELINE_STACK, SUPPORT_STACK])
def test_pipeline_templates_pass_cfn_lint(pipeline_assembly, stack):
    matches = lint_file(pipeline_assembly.template_path(stack), config=CFN_LINT_CONFIG)

    assert [str(match) for match in matches] == []


@pytest.mark.parametrize("synths", ["pipeline_synths", "schedulers_synths"])
def test_no_container_image_asset_in_any_assembly(request, synths):
    assembly = request.getfixturevalue(synths).first
    manifests = [
        json.loads((nested.directory / artifact["properties"]["file"]).read_text())
        for nested in assembly.all_assemblies()
        for artifact in nested.artifacts_of_type("cdk:asset-manifest").values()
    ]
    asset_metadata = [
        (nested, resource["Metadata"])
        for nested in assembly.all_assemblies()
        for artifact in nested.artifacts_of_type("aws:cloudformation:stack").values()
        for resource in json.loads(
            (nested.directory / artifact["properties"]["templateFile"]).read_text()
        )["Resources"].values()
        if "aws:asset:path" in resource.get("Metadata", {})
    ]

    assert [manifest["dockerImages"] for manifest in manifests] == [{}] * len(manifests)
    packagings = {
        asset["source"]["packaging"]
        for manifest in manifests
        for asset in manifest["files"].values()
    }
    assert packagings == {"zip", "file"}  # the Lambda code, and the templates themselves
    # The Lambda function, once per stack: a folder bundled in-process, no Dockerfile.
    assert asset_metadata
    for nested, metadata in asset_metadata:
        assert metadata["aws:asset:is-bundled"] is True
        assert "aws:asset:dockerfile-path" not in metadata
        assert (nested.directory / metadata["aws:asset:path"]).is_dir()


def test_environment_agnostic_example_leaves_account_region_partition_to_cloudformation(
    schedulers_synths, resources_of_type, evaluate
):
    assembly = schedulers_synths.first
    _, artifact = assembly.stack(SCHEDULERS_STACK)
    template = assembly.template(SCHEDULERS_STACK)
    ((_, function),) = resources_of_type(template, "AWS::Lambda::Function").items()
    ((_, policy),) = resources_of_type(template, "AWS::IAM::ManagedPolicy").items()
    # CDK's analytics resource exists only in the regions listed in its condition.
    assert list(template["Conditions"]) == ["CDKMetadataAvailable"]
    strings = list(strings_in({**template, "Conditions": {}}))

    assert artifact["environment"] == "aws://unknown-account/unknown-region"
    assert [text for text in strings if ACCOUNT_ID.search(text) or REGION.search(text)] == []
    assert pseudo_parameters_in(template) >= {"AWS::Partition", "AWS::Region", "AWS::AccountId"}
    assert function["Properties"]["Code"]["S3Bucket"] == {
        "Fn::Sub": f"cdk-{BOOTSTRAP_QUALIFIER}-assets-${{AWS::AccountId}}-${{AWS::Region}}"
    }
    # The same template names each deployment's own partition, region and account.
    for partition, region, account in (
        ("aws", "eu-west-3", "210987654321"),
        ("aws-cn", "cn-north-1", "123456789012"),
    ):
        references = {
            "AWS::Partition": partition,
            "AWS::Region": region,
            "AWS::AccountId": account,
            "PumpModelName": MODEL_NAMES[2],
        }
        document = evaluate(policy["Properties"]["PolicyDocument"], references)
        assert document["Statement"][0]["Resource"] == [
            f"arn:{partition}:lookoutequipment:{region}:{account}:model/{model_name}/*"
            for model_name in MODEL_NAMES
        ]
