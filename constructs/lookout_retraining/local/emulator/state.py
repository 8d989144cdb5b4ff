"""The emulator's state: models, retraining schedulers and remembered client tokens.

The state is plain data, written to and read from a JSON document so that separate processes
(the local deployer runs once per command) can share one emulated account. Times are stored as
integer epoch milliseconds, so that a CreatedAt read back from a file is the very same value.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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


class StateFile:
    """A JSON file holding the emulator's state between processes.

    Parameters
    ----------
    path:
        The file. It need not exist: a missing file is an empty state, and the first save
        creates it (and its parent folder).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

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
        """Write the state, atomically: a reader sees the old file or the new one, never half."""
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
