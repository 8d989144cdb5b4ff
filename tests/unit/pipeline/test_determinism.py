"""Two synths of an app write the same bytes, so a pipeline run with no change deploys nothing.

Each example is synthesized twice in fresh processes, from clones in different folders (one
with other file modes and times), into different output folders. The cloud assemblies must be
byte-identical, asset hashes included: CloudFormation then finds no change in any stage's
template, cdk-assets finds every asset already published, and self-mutation leaves the pipeline
as it is. Nothing may name the machine that synthesized it: not the checkout, not the output
folder, not the jsii kernel's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

EXAMPLES = ["pipeline_synths", "schedulers_synths"]
SYNTH_TIMEOUT_SECONDS = 300


def differing_files(first, second):
    return [
        path
        for path in first.files()
        if (first.directory / path).read_bytes() != (second.directory / path).read_bytes()
    ]


def asset_hashes(assembly):
    return sorted(path.name.removeprefix("asset.") for path in assembly.directory.glob("asset.*"))


@pytest.mark.parametrize("synths", EXAMPLES)
def test_two_synths_of_an_example_are_byte_identical(request, synths):
    first, second = request.getfixturevalue(synths).assemblies

    assert first.files() == second.files()
    assert differing_files(first, second) == []
    assert asset_hashes(first) == asset_hashes(second)
    assert len(asset_hashes(first)) == 1  # one Lambda asset, shared by every stack


def test_pipeline_two_synths_publish_and_deploy_the_same_artifacts(pipeline_synths):
    first, second = pipeline_synths.assemblies

    # The object keys that cdk-assets publishes and CloudFormation deploys from: identical, so
    # a second pipeline run uploads nothing and every change set is empty.
    object_keys = [
        sorted(
            destination["objectKey"]
            for nested in assembly.all_assemblies()
            for artifact in nested.artifacts_of_type("cdk:asset-manifest").values()
            for asset in json.loads(
                (nested.directory / artifact["properties"]["file"]).read_text()
            )["files"].values()
            for destination in asset["destinations"].values()
        )
        for assembly in (first, second)
    ]
    assert object_keys[0] == object_keys[1]
    assert len(object_keys[0]) == 5  # the Lambda asset and the template, per stage; the pipeline


@pytest.mark.parametrize("synths", EXAMPLES)
def test_assembly_names_no_folder_of_the_machine_that_synthesized_it(request, synths):
    two_synths = request.getfixturevalue(synths)
    machine_folders = {
        *(str(source) for source in two_synths.sources),
        *(str(assembly.directory) for assembly in two_synths.assemblies),
        sys.prefix,
        "jsii-kernel-",
    }

    for assembly in two_synths.assemblies:
        for path in assembly.files():
            content = (assembly.directory / path).read_text(errors="replace")
            assert [folder for folder in machine_folders if folder in content] == [], path


@pytest.mark.slow
@pytest.mark.synth
def test_cdk_cli_synth_of_pipeline_example_writes_the_same_assembly(
    repo_root, pipeline_assembly, tmp_path
):
    npx = shutil.which("npx")
    assert npx is not None, "npx is needed to run the pinned CDK CLI"
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "CDK_"))
    }
    environment["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    output = tmp_path / "cdk.out"

    # Exactly the README's command, at the repository root, with no AWS account and with
    # CDK's built-in template validation on, as a user runs it.
    synth = subprocess.run(
        [npx, "cdk", "synth", "-c", "example=pipeline", "--quiet", "--output", str(output)],
        cwd=repo_root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_SECONDS,
        check=False,
    )

    assert synth.returncode == 0, synth.stderr
    cli_assembly = type(pipeline_assembly)(output)
    assert cli_assembly.files() == pipeline_assembly.files()
    assert differing_files(cli_assembly, pipeline_assembly) == []
