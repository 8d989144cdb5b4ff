"""The emulator and the ResponseURL endpoint listen on loopback only, however they are started.

The emulator checks no signature and the response endpoint takes the responses that decide a
deployment, so neither may be reachable from another machine. The functional tests check that
other addresses are refused; these read the kernel's table of listening sockets
(``/proc/net/tcp`` and ``tcp6``) for each server as the tools start it: the emulator class, its
command line, the standalone response recorder and the one inside a LocalDeployer.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from lookout_retraining.local.deployer import LocalDeployer
from lookout_retraining.local.emulator import Emulator
from lookout_retraining.local.responses import ResponseRecorder

LISTEN = "0A"
TABLES = {4: Path("/proc/net/tcp"), 6: Path("/proc/net/tcp6")}

pytestmark = pytest.mark.skipif(
    not TABLES[4].exists(), reason="needs Linux's /proc/net/tcp to read the listening sockets"
)


def _address(text, version):
    raw = bytes.fromhex(text)
    # The kernel prints each 32-bit word of the address in host (little-endian) order.
    words = b"".join(raw[index : index + 4][::-1] for index in range(0, len(raw), 4))
    return ipaddress.ip_address(words if version == 6 else raw[::-1])


def listening_addresses(port):
    """Return every local address a socket listens on at ``port``, IPv4 and IPv6."""
    found = set()
    for version, table in TABLES.items():
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == LISTEN and int(port_hex, 16) == port:
                found.add(_address(address, version))
    return found


def port_of(url):
    return urllib.parse.urlsplit(url).port


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_emulator_listening_socket_is_bound_to_loopback_only(host):
    with Emulator(host=host) as emulator:
        addresses = listening_addresses(emulator.port)

    assert addresses
    assert all(address.is_loopback for address in addresses), addresses


def test_emulator_command_line_listening_socket_is_bound_to_loopback_only():
    process = subprocess.Popen(
        [sys.executable, "-m", "lookout_retraining.local.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        addresses = listening_addresses(port_of(url))
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert url.startswith("http://127.0.0.1:")
    assert addresses == {ipaddress.ip_address("127.0.0.1")}


@pytest.mark.parametrize(
    ("host", "bound"), [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("::1", "::1")]
)
def test_response_recorder_listening_socket_is_bound_to_loopback_only(host, bound):
    with ResponseRecorder(host=host) as recorder:
        addresses = listening_addresses(port_of(recorder.base_url))

    assert addresses == {ipaddress.ip_address(bound)}


def test_local_deployer_response_urls_point_at_its_loopback_only_recorder(tmp_path):
    with LocalDeployer(state_dir=tmp_path / "state") as deployer:
        url = deployer.recorder.new_url(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/Stack/1", "Thing", "request-1"
        )
        addresses = listening_addresses(port_of(url))

    assert urllib.parse.urlsplit(url).scheme == "https"
    assert urllib.parse.urlsplit(url).hostname == "127.0.0.1"
    assert addresses == {ipaddress.ip_address("127.0.0.1")}
