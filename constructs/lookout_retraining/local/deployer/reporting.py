"""Stack events, and how the deployer prints them.

Lines read like the CloudFormation console's event list and ``cdk deploy``'s progress::

    14:02:07 | CREATE_IN_PROGRESS  | Custom::LookoutEquipmentRetrainingScheduler | PumpScheduler
    14:02:08 | CREATE_COMPLETE     | Custom::LookoutEquipmentRetrainingScheduler | PumpScheduler

Nothing printed here holds a ResponseURL's query string: reasons pass through
:func:`redact_text` first.
"""

from __future__ import annotations

import datetime
import re
import threading
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TextIO

REDACTED = "REDACTED"
STACK_RESOURCE_TYPE = "AWS::CloudFormation::Stack"
_URL_QUERY = re.compile(r"(https?://[^\s\"'?]+)\?[^\s\"']*")
_STATUS_WIDTH = 44
_TYPE_WIDTH = 43


def redact_url(url: str) -> str:
    """Return ``url`` with its query string (the presigned signature) replaced by REDACTED."""
    split = urllib.parse.urlsplit(url)
    if not split.query:
        return url
    return urllib.parse.urlunsplit((split.scheme, split.netloc, split.path, REDACTED, ""))


def redact_text(text: str) -> str:
    """Return ``text`` with the query string of every URL in it replaced by REDACTED."""
    return _URL_QUERY.sub(rf"\1?{REDACTED}", text)


@dataclass(frozen=True)
class StackEvent:
    """One stack event, as ``DescribeStackEvents`` reports it.

    Attributes
    ----------
    timestamp:
        When it happened (UTC).
    stack_name:
        The stack it belongs to.
    logical_id:
        The resource's logical id (the stack name for the stack's own events).
    resource_type:
        The resource type, ``AWS::CloudFormation::Stack`` for the stack itself.
    status:
        ``CREATE_IN_PROGRESS``, ``UPDATE_FAILED``, ``DELETE_SKIPPED``...
    physical_id:
        The physical id, when there is one.
    reason:
        The status reason; empty when CloudFormation gives none.
    """

    timestamp: datetime.datetime
    stack_name: str
    logical_id: str
    resource_type: str
    status: str
    physical_id: str = ""
    reason: str = ""

    def line(self) -> str:
        """Return the event as one printable line."""
        resource = self.logical_id
        if self.physical_id and self.resource_type.startswith("Custom::"):
            resource = f"{resource} [{self.physical_id}]"
        text = (
            f"{self.timestamp.strftime('%H:%M:%S')} | {self.status:<{_STATUS_WIDTH}} | "
            f"{self.resource_type:<{_TYPE_WIDTH}} | {resource}"
        )
        return f"{text} | {redact_text(self.reason)}" if self.reason else text


class EventPrinter:
    """Write stack events, progress lines and summaries to a text stream, one line at a time.

    Parameters
    ----------
    out:
        Where to write; None prints nothing.
    """

    def __init__(self, out: TextIO | None) -> None:
        self._out = out
        self._lock = threading.Lock()

    def event(self, event: StackEvent) -> None:
        """Print a stack event."""
        self.write(event.line())

    def progress(self, text: str) -> None:
        """Print a progress note, indented under the events and stamped with the time."""
        now = datetime.datetime.now(datetime.UTC).strftime("%H:%M:%S")
        self.write(f"{now} |   ... {redact_text(text)}")

    def write(self, text: str = "") -> None:
        """Print ``text`` as it is, followed by a newline."""
        if self._out is None:
            return
        with self._lock:
            self._out.write(f"{text}\n")
            self._out.flush()
