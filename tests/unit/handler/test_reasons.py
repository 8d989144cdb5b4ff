"""Reasons within 256 characters with their start intact, responses within 4,096 bytes."""

from __future__ import annotations

import json
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from lookout_retraining_handler.reasons import (
    MAX_REASON_CHARS,
    MAX_RESPONSE_BYTES,
    compose_reason,
    elide,
    fit_reason_to_response,
    log_location,
    response_body,
    response_size,
)

LAMBDA_CONTEXT = SimpleNamespace(
    function_name="stack-ProviderHandler-AbCdEf123456",
    aws_request_id="c6af9ac6-7b61-11e6-9a41-93e812345678",
    log_group_name="/aws/lambda/stack-ProviderHandler-AbCdEf123456",
    log_stream_name="2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef",
)


def test_elide_long_text_keeps_start_and_end():
    text = "StopRetrainingScheduler on model " + "x" * 300 + " failed: ThrottlingException"

    elided = elide(text, 100)

    assert len(elided) == 100
    assert elided.startswith("StopRetrainingScheduler on model")
    assert elided.endswith("ThrottlingException")
    assert "..." in elided


def test_elide_short_text_unchanged():
    assert elide("short", 10) == "short"


def test_compose_reason_long_message_keeps_start_and_log_location():
    message = "DescribeRetrainingScheduler on model 'pump-1' failed: " + "detail " * 100

    reason = compose_reason(message, log_location(LAMBDA_CONTEXT))

    assert len(reason) <= MAX_REASON_CHARS
    assert reason.startswith("DescribeRetrainingScheduler on model 'pump-1' failed")
    assert reason.endswith(LAMBDA_CONTEXT.log_stream_name)
    assert LAMBDA_CONTEXT.log_group_name in reason


def test_log_location_without_log_names_uses_function_and_request():
    context = SimpleNamespace(function_name="provider", aws_request_id="abc-123")

    assert log_location(context) == "Logs: function provider request abc-123"


def test_log_location_very_long_names_are_elided():
    context = SimpleNamespace(log_group_name="/aws/lambda/" + "g" * 500, log_stream_name="s" * 500)

    assert len(log_location(context)) < 140


@given(message=st.text(max_size=2000), logs=st.text(max_size=600))
def test_compose_reason_any_input_is_printable_ascii_within_limit(message, logs):
    reason = compose_reason(message, logs)

    assert len(reason) <= MAX_REASON_CHARS
    assert reason.isascii()
    assert reason.isprintable()


def test_response_largest_fields_fit_response_limit():
    # Every field at the largest size CloudFormation or the service model allows.
    ids = {
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/"
        + "s" * 128
        + "/0a1b2c3d-0000-1111-2222-333344445555",
        "RequestId": "r" * 36,
        "LogicalResourceId": "L" * 255,
    }
    data = {"ModelArn": "a" * 2048, "ModelName": "m" * 200, "Status": "STOPPING"}
    physical_id = "m" * 200 + "|previous=" + "p" * 200 + "@1767323045678"
    reason = compose_reason('"\\' * 200, log_location(LAMBDA_CONTEXT))

    fitted = fit_reason_to_response(
        status="FAILED", physical_resource_id=physical_id, event_ids=ids, reason=reason, data=data
    )
    body = response_body(
        status="FAILED", physical_resource_id=physical_id, event_ids=ids, reason=fitted, data=data
    )

    assert response_size(body) <= MAX_RESPONSE_BYTES
    assert len(json.dumps(body).encode()) == response_size(body)


def test_fit_reason_oversized_response_shortens_reason_only():
    ids = {"StackId": "s" * 3000, "RequestId": "r", "LogicalResourceId": "l"}
    data = {"ModelArn": "a" * 900}

    fitted = fit_reason_to_response(
        status="FAILED", physical_resource_id="p", event_ids=ids, reason="x" * 256, data=data
    )
    body = response_body(
        status="FAILED", physical_resource_id="p", event_ids=ids, reason=fitted, data=data
    )

    assert response_size(body) <= MAX_RESPONSE_BYTES
    assert 0 < len(fitted) < 256
