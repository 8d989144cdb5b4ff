"""Reasons and response bodies that fit CloudFormation's limits.

CloudFormation shows a FAILED response's ``Reason`` in the stack events and refuses a response
body over 4,096 bytes. crhelper cuts a reason over 256 characters by keeping its END, which
would drop what failed and keep only the log location; so every reason is elided here, in the
middle of each long value, before crhelper sees it.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_REASON_CHARS = 256
MAX_RESPONSE_BYTES = 4096
_ELLIPSIS = "..."
_MAX_LOG_LOCATION_CHARS = 110
_MAX_LOG_NAME_CHARS = 60
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


def elide(text: str, limit: int) -> str:
    """Return ``text`` cut to at most ``limit`` characters by replacing its middle with ``...``.

    The start (what failed, which property) and the end (what to do) both survive.
    """
    if len(text) <= limit:
        return text
    if limit <= len(_ELLIPSIS):
        return text[:limit]
    kept = limit - len(_ELLIPSIS)
    head = (kept + 1) // 2
    tail = kept - head
    return f"{text[:head]}{_ELLIPSIS}{text[len(text) - tail :] if tail else ''}"


def quote(value: object, limit: int = 60) -> str:
    """Return ``value`` in single quotes, elided in the middle to ``limit`` characters."""
    return f"'{elide(str(value), limit)}'"


def printable_ascii(text: str) -> str:
    """Return ``text`` with control characters as spaces and non-ASCII as backslash escapes.

    A reason echoes values from the template; escaping keeps every character one byte, so the
    256-character limit also bounds the bytes the reason takes in the response.
    """
    flattened = _CONTROL_CHARACTERS.sub(" ", text)
    return flattened.encode("ascii", "backslashreplace").decode("ascii")


def log_location(context: object) -> str:
    """Return where this invocation's logs are, for the end of a FAILED reason.

    Uses the context's ``log_group_name`` and ``log_stream_name``; without them, the function
    name and request id, which CloudWatch Logs Insights can search for.
    """
    group = getattr(context, "log_group_name", None)
    stream = getattr(context, "log_stream_name", None)
    if isinstance(group, str) and group and isinstance(stream, str) and stream:
        return f"Logs: {elide(group, _MAX_LOG_NAME_CHARS)} {elide(stream, _MAX_LOG_NAME_CHARS)}"
    function_name = getattr(context, "function_name", None)
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(function_name, str) and isinstance(request_id, str):
        return (
            f"Logs: function {elide(function_name, _MAX_LOG_NAME_CHARS)} "
            f"request {elide(request_id, 40)}"
        )
    return ""


def compose_reason(message: str, logs: str = "", limit: int = MAX_REASON_CHARS) -> str:
    """Return ``message`` followed by ``logs``, in printable ASCII, within ``limit`` characters.

    The log location is kept whole (it is already short); the message gives way in its middle.
    """
    message = printable_ascii(message).strip()
    logs = elide(printable_ascii(logs).strip(), _MAX_LOG_LOCATION_CHARS)
    if not logs:
        return elide(message, limit)
    if not message:
        return elide(logs, limit)
    if not message.endswith((".", "!", "?")):
        message = f"{message}."
    return f"{elide(message, max(0, limit - len(logs) - 1))} {logs}"


def response_body(
    *,
    status: str,
    physical_resource_id: str,
    event_ids: Mapping[str, Any],
    reason: str,
    data: Mapping[str, str],
) -> dict[str, Any]:
    """Return the response body CloudFormation receives, with the fields crhelper sends.

    ``event_ids`` supplies ``StackId``, ``RequestId`` and ``LogicalResourceId`` from the event.
    """
    return {
        "Status": status,
        "PhysicalResourceId": physical_resource_id,
        "StackId": str(event_ids.get("StackId", "")),
        "RequestId": str(event_ids.get("RequestId", "")),
        "LogicalResourceId": str(event_ids.get("LogicalResourceId", "")),
        "Reason": reason,
        "Data": dict(data),
        "NoEcho": False,
    }


def response_size(body: Mapping[str, Any]) -> int:
    """Return the size in bytes of a response body as crhelper serializes it (``json.dumps``)."""
    return len(json.dumps(body).encode("utf-8"))


def fit_reason_to_response(
    *,
    status: str,
    physical_resource_id: str,
    event_ids: Mapping[str, Any],
    reason: str,
    data: Mapping[str, str],
) -> str:
    """Return ``reason`` shortened in the middle until the whole response fits 4,096 bytes.

    With CloudFormation's own bounds on the ids, a 256-character ASCII reason always fits; this
    guards against a response that would otherwise be refused and leave the stack waiting.
    """
    fitted = reason
    while fitted:
        body = response_body(
            status=status,
            physical_resource_id=physical_resource_id,
            event_ids=event_ids,
            reason=fitted,
            data=data,
        )
        excess = response_size(body) - MAX_RESPONSE_BYTES
        if excess <= 0:
            return fitted
        fitted = elide(fitted, max(0, len(fitted) - excess))
    return fitted
