"""Malformed events: answered FAILED when a response can be sent, never a crash or a call."""

from __future__ import annotations

import time


def test_event_unknown_request_type_answers_failed_without_any_call(
    cloudformation, emulator, models, properties
):
    event = cloudformation.event("Replace", properties, physical_id="pump-1")

    answered = cloudformation.send(event)

    assert answered.status == "FAILED"
    assert answered.physical_id == "pump-1"
    assert "RequestType 'Replace'" in answered.reason
    assert emulator.calls == []


def test_event_missing_stack_id_answers_failed_without_any_call(
    cloudformation, emulator, models, properties
):
    event = cloudformation.event("Create", properties)
    del event["StackId"]

    answered = cloudformation.send(event)

    assert len(answered.responses) == 1
    assert answered.responses[0].body["Status"] == "FAILED"
    assert "StackId" in answered.responses[0].body["Reason"]
    assert emulator.calls == []


def test_event_update_without_physical_id_answers_failed_without_any_call(
    cloudformation, emulator, models, properties
):
    event = cloudformation.event("Update", properties, old_properties=properties)

    answered = cloudformation.send(event)

    assert answered.status == "FAILED"
    assert "PhysicalResourceId" in answered.reason
    assert answered.physical_id.startswith("not-created|")
    assert emulator.calls == []


def test_event_without_response_url_returns_without_call_or_crash(
    cloudformation, emulator, models, properties, handler_log_lines
):
    event = cloudformation.event("Create", properties)
    del event["ResponseURL"]

    cloudformation.send(event)

    assert emulator.calls == []
    assert any("no usable ResponseURL" in line for line in handler_log_lines.lines)


def test_event_plain_http_response_url_is_not_used(cloudformation, emulator, models, properties):
    event = cloudformation.event("Create", properties)
    https_url = event["ResponseURL"]
    event["ResponseURL"] = "http://" + https_url.removeprefix("https://")
    started = time.monotonic()

    cloudformation.send(event)

    assert time.monotonic() - started < 2.0
    assert cloudformation.recorder.responses_for(https_url) == []
    assert emulator.calls == []


def test_event_not_an_object_returns_without_call_or_crash(cloudformation, emulator):
    cloudformation.send(["Create"])
    cloudformation.send(None)

    assert emulator.calls == []


def test_event_crhelper_polling_keys_are_ignored(cloudformation, models, properties):
    event = cloudformation.event("Create", properties)
    event["CrHelperPoll"] = True
    event["CrHelperData"] = {"ModelArn": "arn:aws:lookoutequipment:forged"}

    created = cloudformation.send(event)

    assert created.status == "SUCCESS"
    assert created.physical_id == "pump-1"
    assert created.response["Data"]["ModelArn"] != "arn:aws:lookoutequipment:forged"


def test_event_context_without_clock_answers_failed_without_any_call(
    cloudformation, emulator, models, properties
):
    event = cloudformation.event("Create", properties)

    cloudformation.handler(event, object())

    (response,) = cloudformation.recorder.responses_for(event["ResponseURL"])
    assert response.body["Status"] == "FAILED"
    assert "get_remaining_time_in_millis" in response.body["Reason"]
    assert emulator.calls == []
