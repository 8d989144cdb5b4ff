"""Read a synthesized cloud assembly (``cdk.out``): its stacks, templates and file assets."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lookout_retraining.local.deployer.errors import AssemblyError

logger = logging.getLogger(__name__)

_STACK_ARTIFACT = "aws:cloudformation:stack"
_ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"
_NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
_UNKNOWN_ENVIRONMENT = ("unknown-account", "unknown-region")


@dataclass(frozen=True)
class FileAsset:
    """A file asset from an asset manifest: where its source is and where it would be uploaded.

    Attributes
    ----------
    asset_hash:
        The asset's id in the manifest (its content hash).
    source:
        Absolute path of the asset's source: a folder (``packaging == "zip"``) or a file.
    packaging:
        ``"zip"`` (a folder uploaded as a zip) or ``"file"`` (a file uploaded as is).
    object_keys:
        The S3 object keys of its destinations, such as ``"<hash>.zip"``.
    bucket_names:
        The S3 bucket names of its destinations, with ``${AWS::AccountId}``-style placeholders.
    """

    asset_hash: str
    source: Path
    packaging: str
    object_keys: tuple[str, ...]
    bucket_names: tuple[str, ...]


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly.

    Attributes
    ----------
    artifact_id:
        The artifact's id in ``manifest.json``.
    stack_name:
        The CloudFormation stack name.
    display_name:
        The construct path CDK shows for it, such as ``Stage/Stack``.
    template:
        The parsed template.
    account, region:
        The stack's environment, or None where it is environment-agnostic.
    assets:
        The file assets its asset manifests declare.
    dependencies:
        Artifact ids of the stacks it depends on.
    template_directory:
        The folder holding the template (asset paths in metadata are relative to it).
    """

    artifact_id: str
    stack_name: str
    display_name: str
    template: dict[str, Any]
    account: str | None
    region: str | None
    assets: tuple[FileAsset, ...]
    dependencies: tuple[str, ...]
    template_directory: Path | None = None

    def find_asset(self, object_key: str) -> FileAsset | None:
        """Return the file asset uploaded under ``object_key``, or None."""
        for asset in self.assets:
            if object_key in asset.object_keys:
                return asset
        return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AssemblyError(f"{path} does not exist: synthesize the app first") from exc
    except (OSError, ValueError) as exc:
        raise AssemblyError(f"{path} is not readable JSON: {exc}") from exc


def _environment(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or not value.startswith("aws://"):
        return None, None
    account, _, region = value.removeprefix("aws://").partition("/")
    return (
        None if account in _UNKNOWN_ENVIRONMENT else account,
        None if region in _UNKNOWN_ENVIRONMENT else region,
    )


def _file_assets(directory: Path, manifest_file: Path) -> list[FileAsset]:
    manifest = _read_json(manifest_file)
    assets = []
    for asset_hash, entry in (manifest.get("files") or {}).items():
        source = entry.get("source") or {}
        if "path" not in source:
            continue
        destinations = list((entry.get("destinations") or {}).values())
        assets.append(
            FileAsset(
                asset_hash=asset_hash,
                source=(directory / source["path"]).resolve(),
                packaging=source.get("packaging", "file"),
                object_keys=tuple(d["objectKey"] for d in destinations if "objectKey" in d),
                bucket_names=tuple(d["bucketName"] for d in destinations if "bucketName" in d),
            )
        )
    return assets


class CloudAssembly:
    """A synthesized cloud assembly, nested stage assemblies included.

    Parameters
    ----------
    directory:
        The assembly directory, usually ``cdk.out``.

    Raises
    ------
    AssemblyError
        If ``manifest.json`` or a template it names is missing or unreadable.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).resolve()
        self.stacks: list[StackArtifact] = []
        self._load(self.directory)
        logger.debug("Loaded %d stack(s) from %s", len(self.stacks), self.directory)

    def _load(self, directory: Path) -> None:
        manifest = _read_json(directory / "manifest.json")
        artifacts: dict[str, Any] = manifest.get("artifacts") or {}
        for artifact_id, artifact in artifacts.items():
            kind = artifact.get("type")
            properties = artifact.get("properties") or {}
            if kind == _NESTED_ASSEMBLY_ARTIFACT and "directoryName" in properties:
                self._load(directory / properties["directoryName"])
                continue
            if kind != _STACK_ARTIFACT:
                continue
            assets: list[FileAsset] = []
            stack_dependencies = []
            for dependency in artifact.get("dependencies") or []:
                dependency_artifact = artifacts.get(dependency) or {}
                if dependency_artifact.get("type") == _ASSET_MANIFEST_ARTIFACT:
                    manifest_file = directory / dependency_artifact["properties"]["file"]
                    assets.extend(_file_assets(directory, manifest_file))
                elif dependency_artifact.get("type") == _STACK_ARTIFACT:
                    stack_dependencies.append(dependency)
            account, region = _environment(artifact.get("environment"))
            self.stacks.append(
                StackArtifact(
                    artifact_id=artifact_id,
                    stack_name=properties.get("stackName", artifact_id),
                    display_name=artifact.get("displayName", artifact_id),
                    template=_read_json(directory / properties["templateFile"]),
                    account=account,
                    region=region,
                    assets=tuple(assets),
                    dependencies=tuple(stack_dependencies),
                    template_directory=directory,
                )
            )

    def stack(self, name: str | None = None) -> StackArtifact:
        """Return the stack named ``name`` (stack name, artifact id or display name).

        With ``name`` None the assembly must hold exactly one stack.

        Raises
        ------
        AssemblyError
            If no stack matches, or ``name`` is None and there is not exactly one stack.
        """
        names = ", ".join(stack.stack_name for stack in self.stacks) or "none"
        if name is None:
            if len(self.stacks) != 1:
                raise AssemblyError(
                    f"{self.directory} holds {len(self.stacks)} stacks ({names}): name one"
                )
            return self.stacks[0]
        for stack in self.stacks:
            if name in (stack.stack_name, stack.artifact_id, stack.display_name):
                return stack
        raise AssemblyError(f"{self.directory} has no stack {name!r} (stacks: {names})")

    def stacks_in_dependency_order(self) -> list[StackArtifact]:
        """Return every stack, each after the stacks it depends on."""
        by_id = {stack.artifact_id: stack for stack in self.stacks}
        ordered: list[StackArtifact] = []
        visiting: set[str] = set()

        def visit(stack: StackArtifact) -> None:
            if stack in ordered or stack.artifact_id in visiting:
                return
            visiting.add(stack.artifact_id)
            for dependency in stack.dependencies:
                if dependency in by_id:
                    visit(by_id[dependency])
            ordered.append(stack)

        for stack in self.stacks:
            visit(stack)
        return ordered
