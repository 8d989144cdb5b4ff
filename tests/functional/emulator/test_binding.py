"""The server binds loopback addresses only, on a free port by default, and stops cleanly."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import EndpointConnectionError

from lookout_retraining.local.emulator import Emulator


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "::", "192.0.2.10", "example.com"],  # noqa: S104 - refused here
)
def test_emulator_non_loopback_host_refused(host):
    with pytest.raises(ValueError, match="binds loopback addresses only"):
        Emulator(host=host)


@pytest.mark.parametrize(
    ("host", "url_host"),
    [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("127.0.0.2", "127.0.0.2")],
)
def test_emulator_loopback_host_served(aws_session, host, url_host):
    with Emulator(host=host) as emulator:
        endpoint_url, port = emulator.endpoint_url, emulator.port
        client = aws_session.client("lookoutequipment", endpoint_url=endpoint_url)
        listed = client.list_retraining_schedulers()

    assert endpoint_url == f"http://{url_host}:{port}"
    assert listed["RetrainingSchedulerSummaries"] == []


def test_emulator_ipv6_loopback_served(aws_session):
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")
    with Emulator(host="::1") as emulator:
        endpoint_url = emulator.endpoint_url
        client = aws_session.client("lookoutequipment", endpoint_url=endpoint_url)
        listed = client.list_retraining_schedulers()

    assert endpoint_url.startswith("http://[::1]:")
    assert listed["RetrainingSchedulerSummaries"] == []


def test_emulator_port_zero_distinct_free_ports():
    with Emulator() as first, Emulator() as second:
        ports = (first.port, second.port)

    assert 0 not in ports
    assert ports[0] != ports[1]


def test_emulator_given_port_bound():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]

    with Emulator(port=free_port) as emulator:
        endpoint_url = emulator.endpoint_url

    assert endpoint_url == f"http://127.0.0.1:{free_port}"


def test_emulator_port_in_use_os_error_and_not_running():
    with Emulator() as running:
        second = Emulator(port=running.port)

        with pytest.raises(OSError, match="in use"):
            second.start()

    assert not second.running


def test_emulator_stopped_port_released_and_endpoint_unavailable():
    emulator = Emulator().start()
    endpoint_url = emulator.endpoint_url

    emulator.stop()
    emulator.stop()

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(endpoint_url, timeout=2)
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.endpoint_url
    assert not emulator.running


def test_emulator_started_twice_runtime_error():
    with Emulator() as emulator, pytest.raises(RuntimeError, match="already running"):
        emulator.start()


def test_emulator_stop_closes_idle_keep_alive_connections(lookout_client, emulator):
    lookout_client.list_retraining_schedulers()

    emulator.stop()

    # A handler thread still serving the old connection would answer this call.
    with pytest.raises(EndpointConnectionError):
        lookout_client.list_retraining_schedulers()
