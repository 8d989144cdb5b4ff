"""Redaction and the printed event lines."""

from __future__ import annotations

import datetime
import io

from lookout_retraining.local.deployer.reporting import (
    EventPrinter,
    StackEvent,
    redact_text,
    redact_url,
)

URL = (
    "https://127.0.0.1:4443/cloudformation-responses/Stack/Thing/req?"
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc123"
)


def test_redact_url_replaces_only_the_query():
    assert (
        redact_url(URL)
        == "https://127.0.0.1:4443/cloudformation-responses/Stack/Thing/req?REDACTED"
    )
    assert redact_url("https://host/path") == "https://host/path"


def test_redact_text_replaces_every_url_query_in_text():
    text = f'failed sending to {URL} and "{URL}"'

    redacted = redact_text(text)

    assert "abc123" not in redacted
    assert redacted.count("?REDACTED") == 2


def test_stack_event_line_shows_time_status_type_id_physical_id_and_reason():
    event = StackEvent(
        timestamp=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        stack_name="Stack",
        logical_id="Thing",
        resource_type="Custom::Thing",
        status="CREATE_FAILED",
        physical_id="thing-1",
        reason=f"could not answer {URL}",
    )

    line = event.line()

    assert line.startswith("03:04:05 | CREATE_FAILED ")
    assert "| Custom::Thing " in line
    assert "| Thing [thing-1] | could not answer" in line
    assert "abc123" not in line


def test_event_printer_without_stream_prints_nothing():
    EventPrinter(None).write("nothing")


def test_event_printer_writes_progress_redacted():
    out = io.StringIO()

    EventPrinter(out).progress(f"waiting on {URL}")

    assert "abc123" not in out.getvalue()
    assert "|   ... waiting on" in out.getvalue()
