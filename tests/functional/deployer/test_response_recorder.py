"""The HTTPS stand-in for CloudFormation's presigned ResponseURL."""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
import urllib.parse

import pytest

from lookout_retraining.local.responses import MAX_RESPONSE_BYTES, ResponseRecorder

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/RecorderStack/1f2e3d4c"


@pytest.fixture
def recorder():
    with ResponseRecorder() as running:
        yield running


def _put(recorder, url, body, *, context=None):
    split = urllib.parse.urlsplit(url)
    context = context or ssl.create_default_context(cafile=str(recorder.ca_file))
    connection = http.client.HTTPSConnection(split.netloc, context=context, timeout=5)
    target = split.path + (f"?{split.query}" if split.query else "")
    connection.request("PUT", target, body=body)
    status = connection.getresponse().status
    connection.close()
    return status


def _body(request_id="request-1", **overrides):
    body = {
        "Status": "SUCCESS",
        "PhysicalResourceId": "thing-1",
        "StackId": STACK_ID,
        "RequestId": request_id,
        "LogicalResourceId": "Thing",
        "Data": {},
    }
    body.update(overrides)
    return json.dumps(body).encode()


def _with_signature(url, signature):
    split = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(split.query))
    query["X-Amz-Signature"] = signature
    return urllib.parse.urlunsplit(split._replace(query=urllib.parse.urlencode(query)))


def test_recorder_valid_response_is_recorded_without_problem(recorder):
    url = recorder.new_url(STACK_ID, "Thing", "request-1")

    status = _put(recorder, url, _body())

    responses = recorder.wait_for(url, timeout=5)
    assert status == 200
    assert len(responses) == 1
    assert responses[0].problem is None
    assert responses[0].status == "SUCCESS"
    assert responses[0].body["PhysicalResourceId"] == "thing-1"


def test_recorder_wrong_signature_is_refused_with_403_and_not_recorded(recorder):
    url = recorder.new_url(STACK_ID, "Thing", "request-1")

    forged = _put(recorder, _with_signature(url, "0" * 64), _body())
    unsigned = _put(recorder, url.split("?")[0], _body())

    assert (forged, unsigned) == (403, 403)
    assert recorder.responses_for(url) == []


def test_recorder_path_it_did_not_issue_is_404(recorder):
    status = _put(recorder, f"{recorder.base_url}/elsewhere/object?X-Amz-Signature=abc", b"{}")

    assert status == 404


def test_recorder_each_request_has_its_own_url_and_signature(recorder):
    first = recorder.new_url(STACK_ID, "Thing", "request-1")
    second = recorder.new_url(STACK_ID, "Thing", "request-2")

    _put(recorder, first, _body("request-1"))

    assert first != second
    first_signature = urllib.parse.parse_qs(urllib.parse.urlsplit(first).query)["X-Amz-Signature"]
    second_signature = urllib.parse.parse_qs(urllib.parse.urlsplit(second).query)["X-Amz-Signature"]
    assert first_signature != second_signature
    assert len(recorder.responses_for(first)) == 1
    assert recorder.responses_for(second) == []
    assert _put(recorder, _with_signature(second, first_signature[0]), _body("request-2")) == 403


def test_recorder_same_request_asked_again_keeps_its_url(recorder):
    first = recorder.new_url(STACK_ID, "Thing", "request-1")
    _put(recorder, first, _body("request-1"))

    again = recorder.new_url(STACK_ID, "Thing", "request-1")

    assert again == first
    assert len(recorder.responses_for(again)) == 1


def test_recorder_second_answer_on_one_url_is_kept_in_order(recorder):
    url = recorder.new_url(STACK_ID, "Thing", "request-1")

    _put(recorder, url, _body(Status="FAILED"))
    _put(recorder, url, _body())

    assert [response.status for response in recorder.responses_for(url)] == ["FAILED", "SUCCESS"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"x" * (MAX_RESPONSE_BYTES + 1), "over CloudFormation's 4096"),
        (b"this is not JSON", "not JSON"),
        (b'["a", "list"]', "not an object"),
        (json.dumps({"Status": "SUCCESS"}).encode(), "lacks PhysicalResourceId, StackId"),
        (_body(Status="MAYBE"), "neither SUCCESS nor FAILED"),
    ],
    ids=["too-large", "not-json", "not-object", "missing-fields", "bad-status"],
)
def test_recorder_unusable_body_is_recorded_with_its_problem(recorder, body, problem):
    url = recorder.new_url(STACK_ID, "Thing", "request-1")

    status = _put(recorder, url, body)

    responses = recorder.responses_for(url)
    assert status == 200
    assert len(responses) == 1
    assert problem in (responses[0].problem or "")
    assert responses[0].raw == body


def test_recorder_body_of_exactly_4096_bytes_is_accepted(recorder):
    url = recorder.new_url(STACK_ID, "Thing", "request-1")
    body = _body()
    padded = body[:-1] + b', "Pad": "' + b"p" * (MAX_RESPONSE_BYTES - len(body) - 11) + b'"}'

    _put(recorder, url, padded)

    assert len(padded) == MAX_RESPONSE_BYTES
    assert recorder.responses_for(url)[0].problem is None


def test_recorder_silent_client_does_not_hold_back_other_responses(recorder):
    url = recorder.new_url(STACK_ID, "Thing", "request-1")
    split = urllib.parse.urlsplit(url)

    with socket.create_connection((split.hostname, split.port), timeout=5):
        # Give the server time to accept the silent connection before the real client comes.
        time.sleep(0.2)
        started = time.monotonic()
        status = _put(recorder, url, _body())
        elapsed = time.monotonic() - started

    assert status == 200
    assert elapsed < 2
    assert len(recorder.responses_for(url)) == 1


@pytest.mark.parametrize(
    ("host", "url_host"),
    [("::1", "::1"), ("127.0.0.2", "127.0.0.2"), ("localhost", "127.0.0.1")],
    ids=["ipv6", "other-127", "localhost"],
)
def test_recorder_other_loopback_host_records_verified_response(host, url_host):
    if host == "::1" and not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")

    with ResponseRecorder(host=host) as running:
        url = running.new_url(STACK_ID, "Thing", "request-1")
        status = _put(running, url, _body())
        responses = running.responses_for(url)

    assert urllib.parse.urlsplit(url).hostname == url_host
    assert status == 200
    assert [response.status for response in responses] == ["SUCCESS"]


def test_recorder_refuses_to_bind_other_than_loopback():
    with pytest.raises(ValueError, match="not a loopback address"):
        ResponseRecorder(host="0.0.0.0")  # noqa: S104 - the address under test


def _non_loopback_addresses():
    """Return this machine's IPv4 addresses other than loopback ones, as far as it can tell."""
    candidates = {
        info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    }
    # Connecting a UDP socket sends nothing; it only picks the outbound interface's address.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            candidates.add(probe.getsockname()[0])
        except OSError:
            pass
    return {address for address in candidates if not ipaddress.ip_address(address).is_loopback}


def test_recorder_listens_on_loopback_only(recorder):
    port = urllib.parse.urlsplit(recorder.base_url).port
    addresses = _non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address to try")

    for address in addresses:
        with (
            pytest.raises(OSError, match=r"refused|unreachable|timed out"),
            socket.create_connection((address, port), timeout=2),
        ):
            pass
    assert urllib.parse.urlsplit(recorder.base_url).hostname == "127.0.0.1"


def test_recorder_certificate_verifies_only_against_its_own_ca(recorder):
    url = recorder.new_url(STACK_ID, "Thing", "request-1")

    with pytest.raises(ssl.SSLCertVerificationError):
        _put(recorder, url, _body(), context=ssl.create_default_context())
    status = _put(recorder, url, _body())

    assert status == 200


def test_recorder_wait_for_gives_up_after_timeout(recorder):
    url = recorder.new_url(STACK_ID, "Thing", "request-1")

    started = time.monotonic()
    responses = recorder.wait_for(url, timeout=0.2)

    assert responses == []
    assert time.monotonic() - started < 2


def test_recorder_url_it_did_not_issue_cannot_be_looked_up(recorder):
    with pytest.raises(ValueError, match="not a response URL"):
        recorder.responses_for("https://bucket.s3.amazonaws.com/key?X-Amz-Signature=abc")


def test_recorder_never_logs_the_signature(recorder, caplog):
    caplog.set_level(logging.DEBUG)
    url = recorder.new_url(STACK_ID, "Thing", "request-1")
    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]

    _put(recorder, url, _body())
    _put(recorder, _with_signature(url, "f" * 64), _body())

    assert signature not in caplog.text
    assert "X-Amz-Signature" not in caplog.text
