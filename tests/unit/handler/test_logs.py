"""JSON log lines, library logger levels and redaction."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from lookout_retraining_handler.logs import (
    JsonLineFormatter,
    pin_library_loggers,
    redact,
    resolve_log_level,
)

PRESIGNED_URL = (
    "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/x"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA6ODU5DHT7SAMPLE1%2F20261203"
    "&X-Amz-Signature=0123456789abcdef0123456789abcdef&X-Amz-Security-Token=FQoGZXIvYXdzEL"
)


@pytest.fixture
def restore_logger_levels():
    names = ("crhelper", "boto", "boto3", "botocore", "s3transfer", "urllib3")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def record(message, *args, **extra):
    entry = logging.LogRecord(
        "lookout_retraining_handler.test", logging.INFO, __file__, 1, message, args, None
    )
    entry.__dict__.update(extra)
    return entry


def test_json_formatter_record_becomes_one_json_line_with_context_fields():
    line = JsonLineFormatter().format(
        record("%s finished", "Create", request_type="Create", model="pump-1", outcome="SUCCESS")
    )

    parsed = json.loads(line)
    assert "\n" not in line
    assert parsed["message"] == "Create finished"
    assert parsed["level"] == "INFO"
    assert parsed["request_type"] == "Create"
    assert parsed["model"] == "pump-1"
    assert parsed["outcome"] == "SUCCESS"


def test_json_formatter_unknown_extra_fields_left_out():
    parsed = json.loads(JsonLineFormatter().format(record("x", ResponseURL=PRESIGNED_URL)))

    assert "ResponseURL" not in parsed


def test_json_formatter_exception_included_and_redacted():
    try:
        raise RuntimeError(f"failed to send to {PRESIGNED_URL}")
    except RuntimeError:
        entry = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), None)
        entry.exc_info = sys.exc_info()

    parsed = json.loads(JsonLineFormatter().format(entry))

    assert "RuntimeError" in parsed["exception"]
    assert "0123456789abcdef0123456789abcdef" not in parsed["exception"]


def test_redact_presigned_url_masks_credential_signature_and_token():
    masked = redact(f"PUT {PRESIGNED_URL}")

    assert "AKIA6ODU5DHT7SAMPLE1" not in masked
    assert "0123456789abcdef0123456789abcdef" not in masked
    assert "FQoGZXIvYXdzEL" not in masked
    assert "X-Amz-Signature=<redacted>" in masked


def test_redact_access_key_id_masked_anywhere():
    assert "ASIAQWERTYUIOPASDFGH" not in redact("key ASIAQWERTYUIOPASDFGH in text")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("INFO", True)),
        ("", ("INFO", True)),
        ("debug", ("DEBUG", True)),
        (" WARNING ", ("WARNING", True)),
        ("VERBOSE", ("INFO", False)),
        ("10", ("INFO", False)),
    ],
)
def test_resolve_log_level_value_maps_to_level_name(value, expected):
    assert resolve_log_level(value) == expected


def test_pin_library_loggers_debug_keeps_crhelper_info_and_sdk_warning(restore_logger_levels):
    pin_library_loggers("DEBUG")

    assert logging.getLogger("crhelper").level == logging.INFO
    assert not logging.getLogger("crhelper.resource_helper").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("botocore").level == logging.WARNING
    assert not logging.getLogger("botocore.endpoint").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("urllib3").level == logging.WARNING


def test_pin_library_loggers_error_raises_them_to_error(restore_logger_levels):
    pin_library_loggers("ERROR")

    assert logging.getLogger("crhelper").level == logging.ERROR
    assert logging.getLogger("botocore").level == logging.ERROR
