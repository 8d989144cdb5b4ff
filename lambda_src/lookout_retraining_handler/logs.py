"""JSON log lines, logger levels, and redaction of what must never reach a log.

The Lambda runtime (or the local deployer's bootstrap) installs the root logger's handler; this
module only sets the format of the handlers it finds and the levels of the loggers it knows.
Two libraries print secrets at DEBUG: crhelper prints the whole event and the presigned
ResponseURL, botocore prints signed request headers. Their loggers are pinned above DEBUG
whatever ``LOG_LEVEL`` says.
"""

from __future__ import annotations

import datetime
import json
import logging
import re

logger = logging.getLogger(__name__)

DEFAULT_LOG_LEVEL = "INFO"
_LEVEL_NAMES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# crhelper logs the event and the ResponseURL at DEBUG (resource_helper.py, utils.py).
_CRHELPER_LOGGERS = ("crhelper",)
# botocore logs signed headers and bodies at DEBUG; urllib3 logs request lines.
_AWS_SDK_LOGGERS = ("boto", "boto3", "botocore", "s3transfer", "urllib3")
# Context fields a log call may attach with ``extra=``; anything else in a record is left out.
LOG_FIELDS = (
    "aws_request_id",
    "request_type",
    "logical_id",
    "physical_id",
    "model",
    "operation",
    "status",
    "outcome",
    "error_code",
)
_REDACTIONS = (
    # A presigned URL's query string (the ResponseURL) carries a credential and a signature.
    (
        re.compile(r"(X-Amz-(?:Signature|Credential|Security-Token))=[^&\s\"']*", re.IGNORECASE),
        r"\1=<redacted>",
    ),
    # A SigV4 Authorization header.
    (re.compile(r"(Signature)=[0-9a-f]{16,}"), r"\1=<redacted>"),
    # An access key id, long-term (AKIA) or temporary (ASIA).
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), "<redacted-key-id>"),
)


def resolve_log_level(value: str | None) -> tuple[str, bool]:
    """Return the level name to use for ``LOG_LEVEL`` and whether the value was usable.

    Level names are accepted in any case; anything else (a typo, a number) falls back to
    INFO rather than failing every invocation, as crhelper would with an unknown level.
    """
    if value is None or not value.strip():
        return DEFAULT_LOG_LEVEL, True
    name = value.strip().upper()
    if name in _LEVEL_NAMES:
        return name, True
    return DEFAULT_LOG_LEVEL, False


def redact(text: str) -> str:
    """Return ``text`` with presigned-URL credentials, signatures and access key ids masked."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonLineFormatter(logging.Formatter):
    """Format a record as one JSON object on one line.

    Keys: ``time`` (UTC, milliseconds), ``level``, ``logger``, ``message``, the context fields
    of :data:`LOG_FIELDS` that the call attached, and ``exception`` with the traceback. The
    message and traceback pass through :func:`redact` as a second line of defence.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line for ``record``."""
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name in LOG_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str)


def install_json_formatter() -> None:
    """Give every handler of the root logger the JSON line format (once per handler)."""
    for handler in logging.getLogger().handlers:
        if not isinstance(handler.formatter, JsonLineFormatter):
            handler.setFormatter(JsonLineFormatter())


def pin_library_loggers(level_name: str) -> None:
    """Keep crhelper at INFO or above and the AWS SDK at WARNING or above.

    crhelper resets the root level to ``LOG_LEVEL`` and the SDK loggers to its ``boto_level``
    on every invocation but never touches its own logger, whose DEBUG lines hold the event and
    the ResponseURL; a record passes its own logger's level only, not the root's, so a child
    logger must be pinned itself.
    """
    level = logging.getLevelName(level_name)
    crhelper_level = max(logging.INFO, level)
    sdk_level = max(logging.WARNING, level)
    for name in _CRHELPER_LOGGERS:
        logging.getLogger(name).setLevel(crhelper_level)
    for name in _AWS_SDK_LOGGERS:
        logging.getLogger(name).setLevel(sdk_level)
