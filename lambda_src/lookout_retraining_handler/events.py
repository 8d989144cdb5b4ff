"""Checks on an event before crhelper sees it, and the answer to events it cannot handle.

crhelper reads ``StackId``, ``RequestId``, ``LogicalResourceId``, ``RequestType`` and
``ResponseURL`` without checking them. A missing field makes it answer to the ResponseURL of
the previous invocation (it keeps the old one), an unknown RequestType yields a reason about
its own attributes, and a URL it cannot reach makes it retry forever. So those events never
reach crhelper: a malformed event with a usable ResponseURL gets a FAILED answer from here, and
one without gets a log line and no answer.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from lookout_retraining_handler.lifecycle import REQUEST_TYPES
from lookout_retraining_handler.physical_id import not_created
from lookout_retraining_handler.reasons import quote

logger = logging.getLogger(__name__)

_IDENTITY_FIELDS = ("StackId", "RequestId", "LogicalResourceId")
# Keys that switch crhelper into its polling mode or replace its response Data; CloudFormation
# never sends them, and this handler does not poll.
_CRHELPER_KEYS = ("CrHelperPoll", "CrHelperData", "CrHelperRule", "CrHelperPermission")
_MAX_RESPONSE_URL_CHARS = 8192
_SEND_ATTEMPTS = 2


def usable_response_url(event: object) -> str | None:
    """Return the event's ResponseURL if a response can be sent to it, else None.

    Usable means an ``https`` URL with a host, a valid port and no whitespace: crhelper sends
    only over HTTPS and retries an unreachable URL without end.
    """
    if not isinstance(event, Mapping):
        return None
    url = event.get("ResponseURL")
    if not isinstance(url, str) or not url or len(url) > _MAX_RESPONSE_URL_CHARS:
        return None
    if any(character.isspace() or not character.isprintable() for character in url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - parsing the port raises ValueError for a malformed one
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    return url


def event_problem(event: Mapping[str, Any], context: object) -> str | None:
    """Return what makes an event (with a usable ResponseURL) unfit to process, or None."""
    for name in _IDENTITY_FIELDS:
        value = event.get(name)
        if not isinstance(value, str) or not value:
            return f"the event's {name} is missing or not a string"
    request_type = event.get("RequestType")
    if request_type not in REQUEST_TYPES:
        return (
            f"the event's RequestType {quote(request_type, 40)} is not one of "
            f"{', '.join(REQUEST_TYPES)}"
        )
    physical_id = event.get("PhysicalResourceId")
    if request_type != "Create" and (not isinstance(physical_id, str) or not physical_id):
        return f"the {request_type} event's PhysicalResourceId is missing or not a string"
    if not callable(getattr(context, "get_remaining_time_in_millis", None)):
        return "the invocation context has no get_remaining_time_in_millis"
    return None


def without_crhelper_keys(event: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of the event without the keys that steer crhelper's polling mode."""
    return {name: value for name, value in event.items() if name not in _CRHELPER_KEYS}


def fallback_physical_id(event: Mapping[str, Any]) -> str:
    """Return the physical id to answer a malformed event with.

    The event's own id when it has one (so CloudFormation sees no change), else a not-created
    id that a later Delete recognises as owning nothing.
    """
    physical_id = event.get("PhysicalResourceId")
    if isinstance(physical_id, str) and physical_id:
        return physical_id
    request_id = event.get("RequestId")
    return not_created(request_id if isinstance(request_id, str) and request_id else "unknown")


def send_response(url: str, body: Mapping[str, Any], timeout_seconds: float) -> bool:
    """PUT one response body to a presigned ResponseURL; return whether it was accepted.

    The same request crhelper makes (an empty Content-Type, which the presigned URL's
    signature expects), but bounded: two attempts within ``timeout_seconds`` at most. The URL
    is never logged, as its query string is a credential.
    """
    payload = json.dumps(body).encode("utf-8")
    parts = urllib.parse.urlsplit(url)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    give_up_at = time.monotonic() + timeout_seconds
    for attempt in range(1, _SEND_ATTEMPTS + 1):
        remaining = give_up_at - time.monotonic()
        if remaining <= 0:
            break
        connection = http.client.HTTPSConnection(
            parts.hostname or "",
            parts.port,
            timeout=remaining,
            context=ssl.create_default_context(),
        )
        try:
            connection.request(
                "PUT",
                target,
                body=payload,
                headers={"Content-Type": "", "Content-Length": str(len(payload))},
            )
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as error:
            logger.warning(
                "Sending the response failed (attempt %d): %s", attempt, type(error).__name__
            )
            continue
        finally:
            connection.close()
        logger.info("CloudFormation's response URL answered HTTP %d", status)
        return 200 <= status < 300
    return False
