"""What one invocation is doing, shared by its worker thread and the handler's main path.

The worker records each step; if the main path gives up at the deadline, it reads this record
to answer with the right physical id (owned or not) and to say what was still running.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressSnapshot:
    """A consistent copy of an invocation's progress."""

    physical_resource_id: str
    doing: str | None
    left_behind: str | None


class Progress:
    """The invocation's identity for logs, and the step its worker is in.

    Parameters
    ----------
    physical_resource_id:
        The id to answer with if the worker is interrupted now; the worker moves it as it
        acquires or releases ownership.
    request_type, logical_id, aws_request_id:
        Attached to every log line of the invocation.
    """

    def __init__(
        self,
        physical_resource_id: str,
        *,
        request_type: str = "",
        logical_id: str = "",
        aws_request_id: str = "",
    ) -> None:
        self._lock = threading.Lock()
        self._physical_resource_id = physical_resource_id
        self._model_name: str | None = None
        self._doing: str | None = None
        self._left_behind: str | None = None
        self._request_type = request_type
        self._logical_id = logical_id
        self._aws_request_id = aws_request_id

    def answer_with(self, physical_resource_id: str) -> None:
        """Record the physical id that now describes what the resource owns."""
        with self._lock:
            self._physical_resource_id = physical_resource_id

    def working_on(self, model_name: str) -> None:
        """Record the model whose scheduler the next steps concern."""
        with self._lock:
            self._model_name = model_name

    def step(self, doing: str) -> None:
        """Record the step the worker starts (an API call or a wait), in words."""
        with self._lock:
            self._doing = doing

    def leaving_behind(self, description: str | None) -> None:
        """Record what this request created and has not removed yet, if it stopped now."""
        with self._lock:
            self._left_behind = description

    def snapshot(self) -> ProgressSnapshot:
        """Return a consistent copy of the progress."""
        with self._lock:
            return ProgressSnapshot(self._physical_resource_id, self._doing, self._left_behind)

    def log_fields(self, **fields: str | None) -> dict[str, str]:
        """Return the ``extra`` for a log call: the invocation's identity plus ``fields``."""
        with self._lock:
            merged: dict[str, str | None] = {
                "aws_request_id": self._aws_request_id or None,
                "request_type": self._request_type or None,
                "logical_id": self._logical_id or None,
                "physical_id": self._physical_resource_id,
                "model": self._model_name,
            }
        merged.update(fields)
        return {name: value for name, value in merged.items() if value is not None}
