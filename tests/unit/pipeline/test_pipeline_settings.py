"""The pipeline example's settings: context values with placeholders, checked on reading."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

PLACEHOLDERS = {
    "connection_arn": (
        "arn:aws:codestar-connections:eu-west-1:999999999999:"
        "connection/00000000-0000-0000-0000-000000000000"
    ),
    "repository": "my-org/cdk-lookout-retraining",
    "branch": "main",
    "tools": ("999999999999", "eu-west-1"),
    "staging": ("111111111111", "eu-west-1"),
    "production": ("222222222222", "us-east-1"),
}
OVERRIDES = {
    "pipeline:connectionArn": (
        "arn:aws:codeconnections:eu-central-1:444455556666:"
        "connection/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    ),
    "pipeline:repository": "plant-ops/retraining",
    "pipeline:branch": "release/2027.1",
    "pipeline:toolsAccount": "444455556666",
    "pipeline:toolsRegion": "eu-central-1",
    "pipeline:stagingAccount": "777788889999",
    "pipeline:stagingRegion": "eu-central-1",
    "pipeline:productionAccount": "123412341234",
    "pipeline:productionRegion": "ap-southeast-2",
}


def settings_of(example_app_module, context):
    return example_app_module.PipelineSettings.from_context(cdk.App(context=context))


def test_settings_without_context_are_the_placeholders(example_app_module):
    settings = settings_of(example_app_module, {})

    assert settings._asdict() == PLACEHOLDERS


def test_settings_context_values_replace_the_placeholders(example_app_module):
    settings = settings_of(example_app_module, OVERRIDES)

    assert settings._asdict() == {
        "connection_arn": OVERRIDES["pipeline:connectionArn"],
        "repository": "plant-ops/retraining",
        "branch": "release/2027.1",
        "tools": ("444455556666", "eu-central-1"),
        "staging": ("777788889999", "eu-central-1"),
        "production": ("123412341234", "ap-southeast-2"),
    }


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("pipeline:stagingAccount", "11111111111", "an AWS account id of 12 digits"),
        ("pipeline:productionAccount", 222222222222, "an AWS account id of 12 digits"),
        ("pipeline:toolsRegion", "Ireland", "an AWS region such as eu-west-1"),
        ("pipeline:connectionArn", "arn:aws:s3:::my-bucket", "the ARN of a CodeStar connection"),
        ("pipeline:repository", "cdk-lookout-retraining", "a repository as the connection"),
        ("pipeline:branch", "--upload-pack=evil", "a branch name of letters, digits"),
    ],
    ids=[
        "account-of-11-digits",
        "account-as-number",
        "region-by-name",
        "arn-of-a-bucket",
        "repository-without-owner",
        "branch-like-an-option",
    ],
)
def test_settings_malformed_value_raises_naming_key_value_and_rule(
    example_app_module, key, value, allowed
):
    with pytest.raises(ValueError, match=r"^Context value ") as raised:
        settings_of(example_app_module, {key: value})

    assert str(raised.value).startswith(f"Context value {key}={value!r} is not {allowed}")


def test_settings_staging_and_production_in_same_place_raises(example_app_module):
    context = {
        "pipeline:productionAccount": "111111111111",
        "pipeline:productionRegion": "eu-west-1",
    }

    with pytest.raises(
        ValueError, match=r"both account 111111111111 in eu-west-1: .* one retraining"
    ):
        settings_of(example_app_module, context)


@pytest.mark.synth
def test_pipeline_example_places_its_stacks_as_the_context_says(example_app_module, tmp_path):
    app = cdk.App(context={"example": "pipeline", **OVERRIDES}, outdir=str(tmp_path))

    example_app_module.build_app(app)

    pipeline_stack = app.node.find_child("LookoutRetrainingPipeline")
    assert (pipeline_stack.account, pipeline_stack.region) == ("444455556666", "eu-central-1")
    stages = {name: pipeline_stack.node.find_child(name) for name in ("Staging", "Production")}
    assert {name: (stage.account, stage.region) for name, stage in stages.items()} == {
        "Staging": ("777788889999", "eu-central-1"),
        "Production": ("123412341234", "ap-southeast-2"),
    }
