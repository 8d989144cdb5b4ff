"""Fixtures for the pipeline example's tests: the example app synthesized as ``cdk synth`` does.

Each example (``schedulers``, the default, and ``pipeline``) is synthesized twice per session,
in fresh processes, from two copies of the repository's sources in different folders (the
second with other file modes and times), into different output folders. Each run gets the
context that ``npx cdk synth`` gives the app (cdk.json, the example, and the CLI's metadata
settings), no AWS credentials or region, and no Docker: the ``docker`` executables are off the
PATH and ``CDK_DOCKER`` names one that does not exist. Most tests read the first cloud assembly;
the determinism tests compare both.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Callable, Iterator
    from types import ModuleType

SOURCES = ("app.py", "cdk.json", "package.json", "constructs", "lambda_src")
"""What a clone of the repository needs to synthesize the examples."""

CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
}
"""The context the CDK CLI adds to cdk.json's by default (``cdk synth`` with no options)."""

PIPELINE_STACK = "LookoutRetrainingPipeline"
SYNTH_TIMEOUT_SECONDS = 300
IGNORED_ASSEMBLY_FILES = frozenset({"performance-counters.json"})
"""CDK's own timing report, which differs from run to run by nature."""


@dataclass(frozen=True)
class CloudAssembly:
    """A synthesized cloud assembly folder, read as CloudFormation and cdk-assets read it."""

    directory: Path

    @cached_property
    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.directory / "manifest.json").read_text())
        return manifest

    def artifacts_of_type(self, artifact_type: str) -> dict[str, dict[str, Any]]:
        return {
            artifact_id: artifact
            for artifact_id, artifact in self.manifest["artifacts"].items()
            if artifact["type"] == artifact_type
        }

    def stack(self, display_name: str) -> tuple[str, dict[str, Any]]:
        """Return the artifact id and the artifact of the stack with this display name."""
        ((artifact_id, artifact),) = (
            (artifact_id, artifact)
            for artifact_id, artifact in self.artifacts_of_type("aws:cloudformation:stack").items()
            if artifact["displayName"] == display_name
        )
        return artifact_id, artifact

    def template_path(self, display_name: str) -> Path:
        _, artifact = self.stack(display_name)
        return self.directory / artifact["properties"]["templateFile"]

    def template(self, display_name: str) -> dict[str, Any]:
        template: dict[str, Any] = json.loads(self.template_path(display_name).read_text())
        return template

    def asset_manifest(self, display_name: str) -> dict[str, Any]:
        """The asset manifest that the stack with this display name depends on."""
        _, artifact = self.stack(display_name)
        (manifest_id,) = (
            dependency
            for dependency in artifact.get("dependencies", [])
            if self.manifest["artifacts"][dependency]["type"] == "cdk:asset-manifest"
        )
        file = self.manifest["artifacts"][manifest_id]["properties"]["file"]
        manifest: dict[str, Any] = json.loads((self.directory / file).read_text())
        return manifest

    def nested(self, display_name: str) -> CloudAssembly:
        """The nested assembly of a stage, by its display name (``Pipeline/Staging``)."""
        (artifact,) = (
            artifact
            for artifact in self.artifacts_of_type("cdk:cloud-assembly").values()
            if artifact["properties"]["displayName"] == display_name
        )
        return CloudAssembly(self.directory / artifact["properties"]["directoryName"])

    def all_assemblies(self) -> Iterator[CloudAssembly]:
        """This assembly and every assembly nested in it, at any depth."""
        yield self
        for artifact in self.artifacts_of_type("cdk:cloud-assembly").values():
            yield from CloudAssembly(
                self.directory / artifact["properties"]["directoryName"]
            ).all_assemblies()

    def files(self) -> list[str]:
        """Every file of the assembly, relative to it, sorted; CDK's timing report left out."""
        return sorted(
            path.relative_to(self.directory).as_posix()
            for path in self.directory.rglob("*")
            if path.is_file() and path.name not in IGNORED_ASSEMBLY_FILES
        )


@dataclass(frozen=True)
class TwoSynths:
    """One example app synthesized twice: where each run's sources were and what it wrote."""

    sources: tuple[Path, Path]
    assemblies: tuple[CloudAssembly, CloudAssembly]

    @property
    def first(self) -> CloudAssembly:
        return self.assemblies[0]


def copy_sources(repo_root: Path, clone: Path) -> None:
    clone.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "cdk.out")
    for name in SOURCES:
        source = repo_root / name
        if source.is_dir():
            shutil.copytree(source, clone / name, ignore=ignore)
        else:
            shutil.copy2(source, clone / name)


def path_without_docker() -> str:
    """PATH with every folder that holds a ``docker`` executable left out."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(
        folder for folder in folders if folder and not (Path(folder) / "docker").exists()
    )


def synth_environment(clone: Path, outdir: Path, context: dict[str, Any]) -> dict[str, str]:
    """The environment ``cdk synth`` gives the app, with no AWS account and no Docker."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "CDK_")) and name != "PYTHONPATH"
    }
    return environment | {
        "PATH": path_without_docker(),
        "CDK_DOCKER": str(clone / "no-docker-here" / "docker"),
        "PYTHONPATH": os.pathsep.join([str(clone / "constructs"), str(clone / "lambda_src")]),
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        # CDK's built-in template validation costs seconds; cfn-lint checks every template.
        "CDK_VALIDATION": "false",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }


def synthesize_twice(repo_root: Path, directory: Path, context: dict[str, Any]) -> TwoSynths:
    """Synthesize the app in two fresh processes, from two clones, into two output folders."""
    clones = (directory / "first" / "repo", directory / "second" / "elsewhere" / "clone")
    for clone in clones:
        copy_sources(repo_root, clone)
    for path in (clones[1] / "lambda_src").rglob("*.py"):
        path.chmod(0o600)
        os.utime(path, (1_000_000_000, 1_000_000_000))
    outdirs = (directory / "first-out" / "cdk.out", directory / "second-out" / "assembly")

    synths = [
        subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=clone,
            env=synth_environment(clone, outdir, context),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone, outdir in zip(clones, outdirs, strict=True)
    ]
    for synth in synths:
        _, stderr = synth.communicate(timeout=SYNTH_TIMEOUT_SECONDS)
        if synth.returncode != 0:
            raise RuntimeError(f"app.py failed to synthesize:\n{stderr}")
    return TwoSynths(
        sources=clones, assemblies=(CloudAssembly(outdirs[0]), CloudAssembly(outdirs[1]))
    )


@pytest.fixture(scope="session")
def cli_context(recommended_context: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    """Return ``cli_context(example)``: the context ``npx cdk synth -c example=...`` passes."""

    def context_of(example: str) -> dict[str, Any]:
        return {**recommended_context, "example": example, **CLI_CONTEXT}

    return context_of


def two_synths_of(
    example: str,
    repo_root: Path,
    built_once: Callable[[str], contextlib.AbstractContextManager[tuple[Path, bool]]],
    cli_context: Callable[[str], dict[str, Any]],
) -> TwoSynths:
    with built_once(f"{example}-example-twice") as (directory, built):
        if not built:
            return synthesize_twice(repo_root, directory, cli_context(example))
    clones = (directory / "first" / "repo", directory / "second" / "elsewhere" / "clone")
    outdirs = (directory / "first-out" / "cdk.out", directory / "second-out" / "assembly")
    return TwoSynths(
        sources=clones, assemblies=(CloudAssembly(outdirs[0]), CloudAssembly(outdirs[1]))
    )


@pytest.fixture(scope="session")
def pipeline_synths(
    repo_root: Path,
    built_once: Callable[[str], contextlib.AbstractContextManager[tuple[Path, bool]]],
    cli_context: Callable[[str], dict[str, Any]],
) -> TwoSynths:
    """The pipeline example, synthesized twice (``-c example=pipeline``)."""
    return two_synths_of("pipeline", repo_root, built_once, cli_context)


@pytest.fixture(scope="session")
def schedulers_synths(
    repo_root: Path,
    built_once: Callable[[str], contextlib.AbstractContextManager[tuple[Path, bool]]],
    cli_context: Callable[[str], dict[str, Any]],
) -> TwoSynths:
    """The default example, environment-agnostic, synthesized twice."""
    return two_synths_of("schedulers", repo_root, built_once, cli_context)


@pytest.fixture(scope="session")
def pipeline_assembly(pipeline_synths: TwoSynths) -> CloudAssembly:
    """The pipeline example's cloud assembly, as ``npx cdk synth -c example=pipeline`` writes it."""
    return pipeline_synths.first


@pytest.fixture(scope="session")
def pipeline_template(pipeline_assembly: CloudAssembly) -> dict[str, Any]:
    """The pipeline stack's template."""
    return pipeline_assembly.template(PIPELINE_STACK)


@pytest.fixture(scope="session")
def example_app_module(repo_root: Path) -> ModuleType:
    """The repository's app.py, imported."""
    spec = importlib.util.spec_from_file_location("pipeline_example_app", repo_root / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def resources_of_type() -> Callable[[dict[str, Any], str], dict[str, dict[str, Any]]]:
    """Return ``resources_of_type(template, type)``: its resources of that type, by logical id."""

    def select(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in template["Resources"].items()
            if resource["Type"] == resource_type
        }

    return select
