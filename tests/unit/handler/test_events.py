"""Event checks before crhelper: usable ResponseURL, required fields, crhelper's own keys."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lookout_retraining_handler.events import (
    event_problem,
    fallback_physical_id,
    usable_response_url,
    without_crhelper_keys,
)

URL = "https://bucket.s3.amazonaws.com/key?X-Amz-Signature=abc"
CONTEXT = SimpleNamespace(get_remaining_time_in_millis=lambda: 30_000)


def event(**overrides):
    base = {
        "RequestType": "Update",
        "ResponseURL": URL,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "request-1",
        "LogicalResourceId": "Scheduler",
        "PhysicalResourceId": "pump-1",
        "ResourceProperties": {},
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def test_response_url_https_is_usable():
    assert usable_response_url(event()) == URL


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "http://bucket.s3.amazonaws.com/key",
        "ftp://bucket/key",
        "https:///no-host",
        "https://bucket.s3.amazonaws.com:notaport/key",
        "https://bucket.s3.amazonaws.com/key with space",
        "https://bucket.s3.amazonaws.com/key\r\nX-Injected: 1",
        42,
        "https://h/" + "k" * 9000,
    ],
)
def test_response_url_unusable_is_refused(url):
    assert usable_response_url(event(ResponseURL=url)) is None


@pytest.mark.parametrize("not_an_event", [None, [], "Create", 7])
def test_response_url_event_not_an_object_is_refused(not_an_event):
    assert usable_response_url(not_an_event) is None


def test_event_problem_well_formed_event_has_none():
    assert event_problem(event(), CONTEXT) is None
    assert event_problem(event(RequestType="Create", PhysicalResourceId=None), CONTEXT) is None


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"StackId": None}, "StackId"),
        ({"RequestId": 17}, "RequestId"),
        ({"LogicalResourceId": ""}, "LogicalResourceId"),
        ({"RequestType": "Replace"}, "RequestType 'Replace'"),
        ({"RequestType": None}, "RequestType"),
        ({"PhysicalResourceId": None}, "PhysicalResourceId"),
        ({"RequestType": "Delete", "PhysicalResourceId": ["pump-1"]}, "PhysicalResourceId"),
    ],
)
def test_event_problem_malformed_event_names_the_field(overrides, named):
    problem = event_problem(event(**overrides), CONTEXT)

    assert problem is not None
    assert named in problem


def test_event_problem_context_without_clock_is_reported():
    assert "get_remaining_time_in_millis" in event_problem(event(), object())


def test_without_crhelper_keys_drops_polling_keys_only():
    cleaned = without_crhelper_keys(event(CrHelperPoll=True, CrHelperData={"x": 1}))

    assert "CrHelperPoll" not in cleaned
    assert "CrHelperData" not in cleaned
    assert cleaned["PhysicalResourceId"] == "pump-1"


def test_fallback_physical_id_keeps_event_id_else_not_created():
    assert fallback_physical_id(event()) == "pump-1"
    assert fallback_physical_id(event(PhysicalResourceId=None)) == "not-created|request-1"
    assert fallback_physical_id({}) == "not-created|unknown"
