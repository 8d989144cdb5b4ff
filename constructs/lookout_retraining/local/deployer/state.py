"""What the local deployer keeps between runs: each stack's resources, and published code.

The state directory (default ``./.local-deployer``) holds:

- ``stacks/<StackName>.json``: the stack's id, status, parameter values, outputs and, per
  resource, its type, physical id, resolved properties, attributes and dependencies;
- ``assets/<object key>/``: each Lambda code asset as it was "uploaded", so a rollback or a
  ``destroy`` runs the code that was deployed, even after ``cdk.out`` has changed;
- ``logs/<StackName>/<function name>/<log stream>.log``: each invocation's log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.deployer.errors import StackStateError

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)

DEFAULT_STATE_DIR = Path(".local-deployer")


@dataclass
class ResourceRecord:
    """One deployed resource as CloudFormation knows it.

    Attributes
    ----------
    logical_id, resource_type, physical_id, status:
        As in the stack's resource list (``status`` such as ``CREATE_COMPLETE``).
    properties:
        The properties as deployed, every intrinsic resolved; for a custom resource exactly
        the ``ResourceProperties`` of its last successful request.
    attributes:
        What ``Fn::GetAtt`` returns: a custom resource's response ``Data``, or the synthetic
        attributes of another type (``Arn``...).
    depends_on:
        Logical ids this resource depended on when it was deployed (orders deletes).
    deletion_policy, update_replace_policy:
        ``Delete``, ``Retain``, ``RetainExceptOnCreate`` or ``Snapshot``.
    code_path:
        For a Lambda function: its published code folder, relative to the state directory.
    """

    logical_id: str
    resource_type: str
    physical_id: str
    status: str
    properties: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    code_path: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON-able object with CloudFormation-style keys."""
        return {
            "Type": self.resource_type,
            "PhysicalResourceId": self.physical_id,
            "Status": self.status,
            "Properties": self.properties,
            "Attributes": self.attributes,
            "DependsOn": self.depends_on,
            "DeletionPolicy": self.deletion_policy,
            "UpdateReplacePolicy": self.update_replace_policy,
            "CodePath": self.code_path,
        }

    @classmethod
    def from_json(cls, logical_id: str, data: dict[str, Any]) -> ResourceRecord:
        """Build a record from :meth:`to_json`'s output."""
        return cls(
            logical_id=logical_id,
            resource_type=data["Type"],
            physical_id=data["PhysicalResourceId"],
            status=data["Status"],
            properties=data.get("Properties") or {},
            attributes=data.get("Attributes") or {},
            depends_on=list(data.get("DependsOn") or []),
            deletion_policy=data.get("DeletionPolicy") or "Delete",
            update_replace_policy=data.get("UpdateReplacePolicy") or "Delete",
            code_path=data.get("CodePath"),
        )


@dataclass
class StackState:
    """A deployed stack: its identity, status and resources.

    Attributes
    ----------
    stack_name, stack_id:
        The stack id is an ARN, stable from the stack's creation to its deletion.
    status, status_reason:
        The stack status, such as ``UPDATE_COMPLETE`` or ``ROLLBACK_COMPLETE``.
    region, account_id:
        Where it was deployed.
    parameters:
        The parameter values of the last deployment (reused when a later deploy gives none).
    resources:
        Deployed resources by logical id.
    outputs:
        Resolved ``Outputs`` values.
    """

    stack_name: str
    stack_id: str
    status: str
    region: str
    account_id: str
    status_reason: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, ResourceRecord] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the state as a JSON-able object."""
        return {
            "StackName": self.stack_name,
            "StackId": self.stack_id,
            "StackStatus": self.status,
            "StackStatusReason": self.status_reason,
            "Region": self.region,
            "AccountId": self.account_id,
            "Parameters": self.parameters,
            "Outputs": self.outputs,
            "Resources": {
                logical_id: record.to_json() for logical_id, record in self.resources.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackState:
        """Build a state from :meth:`to_json`'s output."""
        return cls(
            stack_name=data["StackName"],
            stack_id=data["StackId"],
            status=data["StackStatus"],
            status_reason=data.get("StackStatusReason") or "",
            region=data["Region"],
            account_id=data["AccountId"],
            parameters=data.get("Parameters") or {},
            outputs=data.get("Outputs") or {},
            resources={
                logical_id: ResourceRecord.from_json(logical_id, record)
                for logical_id, record in (data.get("Resources") or {}).items()
            },
        )


class StateStore:
    """The state directory: stack state files, published code and invocation logs.

    Parameters
    ----------
    directory:
        The state directory; created on first write.
    """

    def __init__(self, directory: str | Path = DEFAULT_STATE_DIR) -> None:
        self.directory = Path(directory).resolve()

    def _stack_file(self, stack_name: str) -> Path:
        return self.directory / "stacks" / f"{stack_name}.json"

    def stack_names(self) -> list[str]:
        """Return the names of the stacks that have a state file, sorted."""
        folder = self.directory / "stacks"
        return sorted(path.stem for path in folder.glob("*.json")) if folder.is_dir() else []

    def load(self, stack_name: str) -> StackState | None:
        """Return the stack's saved state, or None if it has never been deployed (or is gone).

        Raises
        ------
        StackStateError
            If the state file exists but cannot be read.
        """
        path = self._stack_file(stack_name)
        if not path.exists():
            return None
        try:
            return StackState.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise StackStateError(f"the state file {path} is not readable: {exc}") from exc

    def save(self, state: StackState) -> None:
        """Write the stack's state atomically (a reader never sees half a file)."""
        path = self._stack_file(state.stack_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(state.to_json(), indent=1, sort_keys=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8"
        ) as temporary:
            temporary.write(text)
        Path(temporary.name).replace(path)

    def remove(self, stack_name: str) -> None:
        """Forget a stack (after its deletion completed)."""
        self._stack_file(stack_name).unlink(missing_ok=True)

    @contextlib.contextmanager
    def lock(self, stack_name: str) -> Iterator[None]:
        """Hold the stack's lock for one operation, across processes.

        Raises
        ------
        StackStateError
            If another process is deploying or destroying the same stack right now.
        """
        folder = self.directory / "stacks"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f".{stack_name}.lock").open("w") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StackStateError(
                    f"stack {stack_name!r} is being deployed or destroyed by another process "
                    f"using {self.directory}"
                ) from exc
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def code_folder(self, relative: str) -> Path:
        """Return the absolute path of a published code folder."""
        return self.directory / relative

    def publish_code(self, object_key: str, source: Path) -> str:
        """Publish a code asset as it would be uploaded to S3; return its relative folder.

        A folder is copied; a ``.zip`` file is extracted. An object key already published is
        left as it is: keys are content hashes.

        Raises
        ------
        StackStateError
            If the key would escape the assets folder or the source is missing.
        """
        relative = f"assets/{object_key}"
        target = (self.directory / relative).resolve()
        assets_root = (self.directory / "assets").resolve()
        if assets_root not in target.parents:
            raise StackStateError(f"asset object key {object_key!r} is not a plain file name")
        if target.is_dir():
            return relative
        if not source.exists():
            raise StackStateError(f"the asset source {source} does not exist")
        assets_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=assets_root, prefix=".publishing-"))
        try:
            if source.is_dir():
                shutil.copytree(source, staging, dirs_exist_ok=True, symlinks=True)
            else:
                with zipfile.ZipFile(source) as archive:
                    archive.extractall(staging)
            os.replace(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():
                raise
        logger.debug("Published code asset %s", object_key)
        return relative

    def publish_inline_code(self, name: str, source_code: str) -> str:
        """Publish inline Lambda code (``Code.ZipFile``) as ``index.py``; return its folder."""
        relative = f"assets/{name}"
        target = self.directory / relative
        if not target.is_dir():
            target.mkdir(parents=True)
            (target / "index.py").write_text(source_code, encoding="utf-8")
        return relative

    def log_file(self, stack_name: str, function_name: str, log_stream_name: str) -> Path:
        """Return the path where one invocation's log is kept (its folder is created)."""
        safe_stream = log_stream_name.replace("/", "-").replace("[", "").replace("]", "")
        folder = self.directory / "logs" / stack_name / function_name
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{safe_stream}.log"
