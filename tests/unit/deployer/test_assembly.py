"""Reading a cloud assembly: stacks, environments, nested assemblies, assets."""

from __future__ import annotations

import json

import pytest

from lookout_retraining.local.deployer.assembly import CloudAssembly
from lookout_retraining.local.deployer.errors import AssemblyError


def _write_assembly(directory, stacks, nested=None):
    directory.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, environment, dependencies in stacks:
        (directory / f"{name}.template.json").write_text(json.dumps({"Resources": {}}))
        (directory / f"{name}.assets.json").write_text(
            json.dumps(
                {
                    "files": {
                        "h1": {
                            "source": {"path": "asset.h1", "packaging": "zip"},
                            "destinations": {"d": {"bucketName": "b", "objectKey": "h1.zip"}},
                        }
                    }
                }
            )
        )
        artifacts[f"{name}.assets"] = {
            "type": "cdk:asset-manifest",
            "properties": {"file": f"{name}.assets.json"},
        }
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {"templateFile": f"{name}.template.json", "stackName": f"{name}-stack"},
            "dependencies": [f"{name}.assets", *dependencies],
            "displayName": f"Stage/{name}",
        }
    if nested:
        artifacts["assembly-Nested"] = {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": nested},
        }
    (directory / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))


def test_assembly_reads_stacks_environment_and_assets(tmp_path):
    _write_assembly(tmp_path, [("One", "aws://111122223333/eu-west-1", [])])

    stack = CloudAssembly(tmp_path).stack()

    assert stack.stack_name == "One-stack"
    assert (stack.account, stack.region) == ("111122223333", "eu-west-1")
    asset = stack.find_asset("h1.zip")
    assert asset is not None
    assert asset.source == (tmp_path / "asset.h1").resolve()


def test_assembly_environment_agnostic_stack_has_no_account_or_region(tmp_path):
    _write_assembly(tmp_path, [("One", "aws://unknown-account/unknown-region", [])])

    stack = CloudAssembly(tmp_path).stack("One")

    assert (stack.account, stack.region) == (None, None)


def test_assembly_nested_stage_stacks_are_found_by_any_name(tmp_path):
    _write_assembly(tmp_path, [("Top", "aws://unknown-account/unknown-region", [])], "nested")
    _write_assembly(tmp_path / "nested", [("Inner", "aws://unknown-account/unknown-region", [])])
    assembly = CloudAssembly(tmp_path)

    assert assembly.stack("Inner-stack") is assembly.stack("Stage/Inner")
    assert [stack.artifact_id for stack in assembly.stacks] == ["Top", "Inner"]


def test_assembly_orders_stacks_after_their_dependencies(tmp_path):
    _write_assembly(
        tmp_path,
        [
            ("Late", "aws://unknown-account/unknown-region", ["Early"]),
            ("Early", "aws://unknown-account/unknown-region", []),
        ],
    )

    ordered = CloudAssembly(tmp_path).stacks_in_dependency_order()

    assert [stack.artifact_id for stack in ordered] == ["Early", "Late"]


def test_assembly_without_stack_name_and_several_stacks_raises(tmp_path):
    _write_assembly(
        tmp_path,
        [
            ("A", "aws://unknown-account/unknown-region", []),
            ("B", "aws://unknown-account/unknown-region", []),
        ],
    )

    with pytest.raises(AssemblyError, match="holds 2 stacks"):
        CloudAssembly(tmp_path).stack()


def test_assembly_unknown_stack_raises_listing_stacks(tmp_path):
    _write_assembly(tmp_path, [("A", "aws://unknown-account/unknown-region", [])])

    with pytest.raises(AssemblyError, match=r"has no stack 'Z' \(stacks: A-stack\)"):
        CloudAssembly(tmp_path).stack("Z")


def test_assembly_missing_directory_says_to_synthesize(tmp_path):
    with pytest.raises(AssemblyError, match="synthesize the app first"):
        CloudAssembly(tmp_path / "cdk.out")
