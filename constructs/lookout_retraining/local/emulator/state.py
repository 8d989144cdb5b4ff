"""The emulator's state: models, retraining schedulers and remembered client tokens.

The state is plain data, written to and read from a JSON document so that separate processes
(the local deployer runs once per command) can share one emulated account, one after another:
a running emulator holds its state file, so that a second one cannot load it, change it and
overwrite the first one's changes. Times are stored as integer epoch milliseconds, so that a
CreatedAt read back from a file is the very same value.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)

STATE_FORMAT = "lookout-equipment-emulator-state"
STATE_VERSION = 1


@dataclass
class ModelRecord:
    """A model, with the request members that DescribeModel echoes back."""

    region: str
    model_name: str
    model_arn: str
    created_at_ms: int
    described: dict[str, Any] = field(default_factory=dict)


@dataclass
class SchedulerRecord:
    """A retraining scheduler.

    ``status`` is the last stored status; PENDING and STOPPING settle into RUNNING and STOPPED
    once their delay has passed since ``status_changed_at`` (epoch seconds), computed on read.
    """

    region: str
    model_name: str
    model_arn: str
    retraining_frequency: str
    lookback_window: str
    promote_mode: str
    retraining_start_date: int | None
    status: str
    status_changed_at: float
    created_at_ms: int
    updated_at_ms: int


@dataclass
class ClientTokenRecord:
    """A successful idempotent request: its parameters (without the token) and its response."""

    region: str
    operation: str
    client_token: str
    parameters: dict[str, Any]
    response: dict[str, Any]


@dataclass
class EmulatorState:
    """Everything the emulated service remembers, keyed for lookup."""

    models: dict[tuple[str, str], ModelRecord] = field(default_factory=dict)
    schedulers: dict[tuple[str, str], SchedulerRecord] = field(default_factory=dict)
    client_tokens: dict[tuple[str, str, str], ClientTokenRecord] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        """Return the state as a JSON-able document."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "models": [asdict(model) for model in self.models.values()],
            "schedulers": [asdict(scheduler) for scheduler in self.schedulers.values()],
            "client_tokens": [asdict(token) for token in self.client_tokens.values()],
        }

    @classmethod
    def from_document(cls, document: object) -> EmulatorState:
        """Return the state held by a document written by :meth:`to_document`.

        Raises
        ------
        ValueError
            If the document is not an emulator state of this version.
        """
        if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
            raise ValueError(f"it is not a {STATE_FORMAT} document")
        if document.get("version") != STATE_VERSION:
            raise ValueError(
                f"its version {document.get('version')!r} is not {STATE_VERSION}, the version "
                "this emulator reads"
            )
        try:
            models = [ModelRecord(**entry) for entry in document["models"]]
            schedulers = [SchedulerRecord(**entry) for entry in document["schedulers"]]
            tokens = [ClientTokenRecord(**entry) for entry in document["client_tokens"]]
        except (KeyError, TypeError) as error:
            raise ValueError(f"an entry does not have the expected fields: {error}") from error
        state = cls()
        state.models = {(model.region, model.model_name): model for model in models}
        state.schedulers = {(item.region, item.model_name): item for item in schedulers}
        state.client_tokens = {
            (token.region, token.operation, token.client_token): token for token in tokens
        }
        return state


class StateFileError(ValueError):
    """A state file exists but cannot be read as the emulator's state."""


class StateFileInUseError(StateFileError):
    """Another emulator, in this process or another, holds the state file."""


class StateFile:
    """A JSON file holding the emulator's state between processes.

    An emulator holds the file (:meth:`hold`) while it serves: an exclusive lock on a sibling
    file, ``.<name>.lock``, since each save replaces the state file itself.

    Parameters
    ----------
    path:
        The file. It need not exist: a missing file is an empty state, and the first save
        creates it (and its parent folder).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_file: IO[str] | None = None

    @property
    def lock_path(self) -> Path:
        """Return the sibling file that is locked while an emulator holds the state file."""
        return self.path.with_name(f".{self.path.name}.lock")

    @property
    def held(self) -> bool:
        """Whether this object holds the state file."""
        return self._lock_file is not None

    def hold(self) -> None:
        """Take the state file for this object until :meth:`release`, without waiting.

        Raises
        ------
        StateFileInUseError
            If another emulator holds it, in this process or another.
        """
        if self._lock_file is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = self.lock_path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "unknown"
            lock_file.close()
            raise StateFileInUseError(
                f"State file {self.path} is in use by another emulator (process {holder} holds "
                f"{self.lock_path}): stop that emulator, or use another state file; the command "
                "line's --emulator-url reaches a running emulator instead"
            ) from exc
        except OSError:
            lock_file.close()
            raise
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        self._lock_file = lock_file
        logger.debug("Holding the emulator state file %s", self.path)

    def release(self) -> None:
        """Let another emulator take the state file; idempotent."""
        lock_file, self._lock_file = self._lock_file, None
        if lock_file is None:
            return
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        lock_file.close()
        logger.debug("Released the emulator state file %s", self.path)

    def load(self) -> EmulatorState:
        """Return the state in the file, or an empty state when the file does not exist.

        Raises
        ------
        StateFileError
            If the file is not JSON or not an emulator state.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            logger.info("State file %s does not exist yet; starting empty", self.path)
            return EmulatorState()
        try:
            state = EmulatorState.from_document(json.loads(text))
        except ValueError as error:
            raise StateFileError(
                f"State file {self.path} cannot be loaded: {error}. Delete it to start from an "
                "empty state."
            ) from error
        logger.info(
            "Loaded %d models and %d retraining schedulers from %s",
            len(state.models),
            len(state.schedulers),
            self.path,
        )
        return state

    def save(self, state: EmulatorState) -> None:
        """Write the state, atomically: a reader sees the old file or the new one, never half.

        Raises
        ------
        RuntimeError
            If this object does not hold the file: another emulator could be writing it.
        """
        if self._lock_file is None:
            raise RuntimeError(
                f"The emulator does not hold its state file {self.path}: start it before "
                "changing its state, so that no other emulator's changes are overwritten"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(state.to_document(), indent=2, sort_keys=True)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        logger.debug("Saved the emulator state to %s", self.path)
