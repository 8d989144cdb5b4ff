"""A local stand-in for the presigned S3 URL that receives custom resource responses.

CloudFormation gives each custom resource request a ``ResponseURL``: a presigned HTTPS URL to
which the provider PUTs exactly one JSON response. crhelper sends it over HTTPS and verifies the
server certificate, so this recorder serves TLS with a certificate it makes on start; a process
that should trust it points ``SSL_CERT_FILE`` at :attr:`ResponseRecorder.ca_file`.

Each connection's TLS handshake runs in that connection's own thread, with a timeout, so that a
client that connects and sends nothing holds back no other handler's response.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.emulator.service import loopback_address

if TYPE_CHECKING:
    from types import TracebackType

logger = logging.getLogger(__name__)

# CloudFormation refuses a response body over 4,096 bytes.
MAX_RESPONSE_BYTES = 4096
_PATH_PREFIX = "/cloudformation-responses/"
# How long a client may take over the TLS handshake, then over each read of its request.
_HANDSHAKE_TIMEOUT_SECONDS = 10.0
_REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class RecordedResponse:
    """One PUT received on a response URL."""

    key: str
    raw: bytes
    received_at: float
    body: dict[str, Any] | None
    problem: str | None = None

    @property
    def status(self) -> str | None:
        """Return the response's ``Status`` (SUCCESS or FAILED), or None if it was unreadable."""
        return None if self.body is None else self.body.get("Status")


@dataclass
class _Slot:
    signature: str
    responses: list[RecordedResponse] = field(default_factory=list)


def _make_certificate(directory: Path, bind_host: str) -> tuple[Path, Path]:
    """Write a self-signed certificate for the loopback names; return (cert, key) paths.

    It names localhost, 127.0.0.1, ::1 and ``bind_host`` (another ``127.x.y.z``, say).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "lookout-retraining local responses")]
    )
    now = datetime.datetime.now(datetime.UTC)
    addresses = {ipaddress.ip_address(text) for text in ("127.0.0.1", "::1", bind_host)}
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    *(x509.IPAddress(address) for address in sorted(addresses, key=str)),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "responses-cert.pem"
    key_path = directory / "responses-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class ResponseRecorder:
    """An HTTPS server on loopback that records custom resource responses.

    Parameters
    ----------
    host:
        The loopback address to bind: ``127.0.0.1`` (the default), another ``127.x.y.z``,
        ``::1`` or ``localhost`` (which binds ``127.0.0.1``). Other addresses are refused.
    port:
        Port to bind. Default 0, an ephemeral port.

    Examples
    --------
    >>> with ResponseRecorder() as recorder:  # doctest: +SKIP
    ...     url = recorder.new_url("arn:aws:cloudformation:...", "Scheduler", "request-1")
    ...     # invoke a handler with SSL_CERT_FILE=recorder.ca_file and ResponseURL=url
    ...     responses = recorder.wait_for(url, timeout=30)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            self._host, self._address_family = loopback_address(host)
        except ValueError:
            raise ValueError(
                f"ResponseRecorder host {host!r} is not a loopback address: use 127.0.0.1 (or "
                "another 127.x.y.z), ::1 or localhost, as the recorder must never be reachable "
                "from another machine"
            ) from None
        self._port = port
        self._slots: dict[str, _Slot] = {}
        self._condition = threading.Condition()
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self._server: _ResponseServer | None = None
        self._thread: threading.Thread | None = None
        self.ca_file = Path()

    def __enter__(self) -> ResponseRecorder:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Return ``https://<host>:<port>`` of the running server."""
        if self._server is None:
            raise RuntimeError("the ResponseRecorder is not running: call start() first")
        port = self._server.server_address[1]
        host = f"[{self._host}]" if self._address_family == socket.AF_INET6 else self._host
        return f"https://{host}:{port}"

    def start(self) -> None:
        """Make a certificate, bind the port and serve in a background thread."""
        self._directory = tempfile.TemporaryDirectory(prefix="lookout-responses-")
        cert_path, key_path = _make_certificate(Path(self._directory.name), self._host)
        self.ca_file = cert_path
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        server = _ResponseServer(
            (self._host, self._port), self._address_family, context, _make_handler(self)
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="response-recorder",
            daemon=True,
        )
        self._thread.start()
        logger.debug("Response recorder listening on %s", self.base_url)

    def stop(self) -> None:
        """Stop serving and remove the certificate files."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    def new_url(self, stack_id: str, logical_id: str, request_id: str) -> str:
        """Return the presigned-looking response URL of one request.

        The query string carries a random signature, as a real presigned URL carries a
        credential: a PUT with another signature is refused with 403, and the URL must be kept
        out of logs. Asking again for the same request returns the same URL, as CloudFormation
        redelivers a request with its ResponseURL.
        """
        stack_name = stack_id.split("/")[1] if stack_id.count("/") >= 2 else stack_id
        key = "/".join(
            urllib.parse.quote(part, safe="") for part in (stack_name, logical_id, request_id)
        )
        with self._condition:
            slot = self._slots.setdefault(key, _Slot(signature=secrets.token_hex(32)))
            signature = slot.signature
        query = urllib.parse.urlencode(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Credential": f"AKIALOCALRESPONSES/{time.strftime('%Y%m%d')}/s3/aws4_request",
                "X-Amz-Expires": "7200",
                "X-Amz-SignedHeaders": "host",
                "X-Amz-Signature": signature,
            }
        )
        return f"{self.base_url}{_PATH_PREFIX}{key}?{query}"

    def responses_for(self, url: str) -> list[RecordedResponse]:
        """Return every response received so far on ``url``, oldest first."""
        key = _key_of(url)
        with self._condition:
            slot = self._slots.get(key)
            return [] if slot is None else list(slot.responses)

    def wait_for(self, url: str, timeout: float) -> list[RecordedResponse]:
        """Wait up to ``timeout`` seconds for the first response on ``url``; return all so far."""
        key = _key_of(url)
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                slot = self._slots.get(key)
                if slot is not None and slot.responses:
                    return list(slot.responses)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._condition.wait(remaining)

    def _record(self, key: str, signature: str | None, raw: bytes) -> int:
        with self._condition:
            slot = self._slots.get(key)
            if (
                slot is None
                or signature is None
                or not secrets.compare_digest(slot.signature, signature)
            ):
                return 403
            slot.responses.append(_parse(key, raw))
            self._condition.notify_all()
        return 200


def _key_of(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    if not path.startswith(_PATH_PREFIX):
        raise ValueError("not a response URL made by this recorder")
    return path[len(_PATH_PREFIX) :]


def _parse(key: str, raw: bytes) -> RecordedResponse:
    received_at = time.time()
    if len(raw) > MAX_RESPONSE_BYTES:
        too_large = f"response body is {len(raw)} bytes, over CloudFormation's {MAX_RESPONSE_BYTES}"
        return RecordedResponse(key, raw, received_at, None, too_large)
    try:
        body = json.loads(raw)
    except ValueError:
        return RecordedResponse(key, raw, received_at, None, "response body is not JSON")
    if not isinstance(body, dict):
        return RecordedResponse(key, raw, received_at, None, "response body is not an object")
    missing = [
        name
        for name in ("Status", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId")
        if not body.get(name)
    ]
    problem: str | None = None
    if missing:
        problem = f"response lacks {', '.join(missing)}"
    elif body["Status"] not in ("SUCCESS", "FAILED"):
        problem = f"response Status {body['Status']!r} is neither SUCCESS nor FAILED"
    return RecordedResponse(key, raw, received_at, body, problem)


class _ResponseServer(http.server.ThreadingHTTPServer):
    """A threaded HTTPS server that runs each TLS handshake in the connection's own thread.

    Wrapping the listening socket instead would run every handshake inside ``accept()`` on the
    one serving thread, with no timeout: a client that connected and sent nothing would stop
    every other connection from being accepted.
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        address_family: socket.AddressFamily,
        context: ssl.SSLContext,
        handler_class: type[http.server.BaseHTTPRequestHandler],
    ) -> None:
        self.address_family = address_family
        self._context = context
        super().__init__(address, handler_class)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Run the TLS handshake, with a timeout, then serve the request over TLS."""
        request.settimeout(_HANDSHAKE_TIMEOUT_SECONDS)
        try:
            connection = self._context.wrap_socket(request, server_side=True)
        except OSError as error:
            # A silent client, or one that does not trust the certificate: only it is refused.
            logger.debug("TLS handshake with %s failed: %s", client_address, error)
            return
        with connection:
            super().finish_request(connection, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed connection (a client that went away) instead of printing it."""
        logger.debug("Connection from %s ended with an error", client_address, exc_info=True)


def _make_handler(recorder: ResponseRecorder) -> type[http.server.BaseHTTPRequestHandler]:
    class _ResponseHandler(http.server.BaseHTTPRequestHandler):
        timeout = _REQUEST_TIMEOUT_SECONDS

        def do_PUT(self) -> None:
            split = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            status = 404
            if split.path.startswith(_PATH_PREFIX):
                signature = urllib.parse.parse_qs(split.query).get("X-Amz-Signature", [None])[0]
                status = recorder._record(split.path[len(_PATH_PREFIX) :], signature, raw)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            # The request line holds the presigned query string: never log it.
            return

    return _ResponseHandler
