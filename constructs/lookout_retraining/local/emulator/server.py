"""The protocol layer: JSON 1.0 over HTTP, as boto3 speaks it to Lookout for Equipment.

A request is ``POST /`` with ``X-Amz-Target: AWSLookoutEquipmentFrontendService.<Operation>``
and a JSON body; the answer is a JSON body (``application/x-amz-json-1.0``) or an error body
``{"__type": "<Code>", "Message": "..."}`` with the error's HTTP status. This layer only
translates: injected faults, the service model's validation, the backend's rules and the output
serialization each live in their own module.
"""

from __future__ import annotations

import json
import logging
import re
import selectors
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.emulator.errors import (
    InternalServerException,
    SerializationException,
    ServiceError,
    UnknownOperationException,
)
from lookout_retraining.local.emulator.serialization import encode_body, serialize_output
from lookout_retraining.local.emulator.service_model import (
    SUPPORTED_OPERATIONS,
    operation_model,
    target_prefix,
)
from lookout_retraining.local.emulator.settings import CallRecord
from lookout_retraining.local.emulator.validation import validate_request

if TYPE_CHECKING:
    from collections.abc import Callable

    from lookout_retraining.local.emulator.backend import LookoutEquipmentBackend, RequestContext
    from lookout_retraining.local.emulator.faults import FaultInjector

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.0"
# Credential=<access key id>/<date>/<region>/<service>/aws4_request
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/[^/,\s]+/aws4_request")


@dataclass(frozen=True)
class Reply:
    """An HTTP response to send: status, JSON body and extra headers."""

    status: int
    body: bytes
    headers: dict[str, str]


class CallLog:
    """A thread-safe, append-only log of the calls the emulator answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []

    def append(self, record: CallRecord) -> None:
        """Add one call."""
        with self._lock:
            self._records.append(record)

    def records(self) -> list[CallRecord]:
        """Return a copy of the calls so far, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every call logged so far."""
        with self._lock:
            self._records.clear()


class JsonProtocol:
    """Turns one JSON 1.0 request into one reply, and logs it.

    Parameters
    ----------
    backend:
        The service state and rules.
    faults:
        Faults to inject before the backend sees a call.
    call_log:
        Where each answered call is recorded.
    context_factory:
        Builds the request context from the ``Authorization`` header (or its absence).
    """

    def __init__(
        self,
        backend: LookoutEquipmentBackend,
        faults: FaultInjector,
        call_log: CallLog,
        context_factory: Callable[[str | None], RequestContext],
    ) -> None:
        self._backend = backend
        self._faults = faults
        self._call_log = call_log
        self._context_factory = context_factory
        self._target_prefix = f"{target_prefix()}."

    def handle(self, target: str | None, authorization: str | None, body: bytes) -> Reply:
        """Answer one request; never raises."""
        started_at = time.time()
        context = self._context_factory(authorization)
        operation = ""
        if target is not None and target.startswith(self._target_prefix):
            operation = target.removeprefix(self._target_prefix)
        request, body_error = _parse_body(body)
        try:
            payload = self._answer(target, operation, request, body_error, context)
            status, error_code = 200, None
        except ServiceError as error:
            payload, status, error_code = error.to_body(), error.http_status, error.code
        except Exception:
            logger.exception("The emulator failed on a %s call", operation or "malformed")
            failure = InternalServerException(
                f"The emulator failed on this {operation or 'request'}; see its log"
            )
            payload, status, error_code = failure.to_body(), failure.http_status, failure.code

        delay = self._faults.take_delay(operation) if operation else 0.0
        if delay:
            # Outside every lock: other calls proceed while this response waits.
            time.sleep(delay)
        finished_at = time.time()
        self._call_log.append(
            CallRecord(
                operation=operation,
                request=request,
                status=status,
                error_code=error_code,
                started_at=started_at,
                finished_at=finished_at,
                region=context.region,
                access_key_id=context.access_key_id,
            )
        )
        logger.debug(
            "%s -> %s%s in %.1f ms",
            operation or target,
            status,
            f" {error_code}" if error_code else "",
            (finished_at - started_at) * 1000,
        )
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        if error_code is not None:
            headers["x-amzn-ErrorType"] = error_code
        return Reply(status=status, body=encode_body(payload), headers=headers)

    def _answer(
        self,
        target: str | None,
        operation: str,
        request: dict[str, Any],
        body_error: str | None,
        context: RequestContext,
    ) -> dict[str, Any]:
        if operation not in SUPPORTED_OPERATIONS:
            raise UnknownOperationException(
                f"X-Amz-Target {target!r} names no operation this emulator implements: use "
                f"{self._target_prefix}<Operation> with one of "
                f"{', '.join(sorted(SUPPORTED_OPERATIONS))}"
            )
        if body_error is not None:
            raise SerializationException(body_error)
        self._faults.admit(operation)
        model = operation_model(operation)
        validate_request(model, request)
        output = self._backend.handle(operation, context, request)
        return serialize_output(model.output_shape, output)


def parse_credential_scope(authorization: str | None) -> tuple[str | None, str | None]:
    """Return ``(access_key_id, region)`` from a SigV4 ``Authorization`` header.

    The signature is not checked. Either value is ``None`` when the header is missing or has
    no credential scope.
    """
    if not authorization:
        return None, None
    match = _CREDENTIAL_SCOPE.search(authorization)
    if match is None:
        return None, None
    return match.group(1), match.group(2)


def _parse_body(body: bytes) -> tuple[dict[str, Any], str | None]:
    """Return the request object and, if the body is not a JSON object, why."""
    if not body.strip():
        return {}, None
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        return {}, f"The request body is not valid JSON: {error}"
    if not isinstance(parsed, dict):
        return {}, f"The request body must be a JSON object, got {type(parsed).__name__}"
    return parsed, None


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that can close its open keep-alive connections when it stops.

    Parameters
    ----------
    address:
        ``(host, port)`` to bind; the host must already be checked to be loopback.
    address_family:
        ``socket.AF_INET`` or ``socket.AF_INET6``.
    protocol:
        Answers each request.
    """

    daemon_threads = True
    # handle_request() runs only once the socket is readable; the timeout is a safety net.
    timeout = 1.0
    # socketserver's default backlog of 5 drops connections when many clients connect at once.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        address_family: socket.AddressFamily,
        protocol: JsonProtocol,
    ) -> None:
        self.address_family = address_family
        self.protocol = protocol
        self._connections_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._stop_requested = threading.Event()
        # Created before binding: TCPServer calls server_close() when the bind fails.
        self._wakeup_reader, self._wakeup_writer = socket.socketpair()
        super().__init__(address, _RequestHandler)

    def serve_until_stopped(self) -> None:
        """Accept connections until :meth:`request_stop`, which wakes this loop at once.

        ``serve_forever`` would notice a shutdown only at its next poll, which makes every
        stop (one per test) wait for the poll interval.
        """
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wakeup_reader, selectors.EVENT_READ)
            while not self._stop_requested.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self.socket and not self._stop_requested.is_set():
                        self.handle_request()

    def request_stop(self) -> None:
        """Make :meth:`serve_until_stopped` return."""
        self._stop_requested.set()
        self._wakeup_writer.send(b"\0")

    def server_close(self) -> None:
        """Close the listening socket and the wake-up channel."""
        super().server_close()
        self._wakeup_reader.close()
        self._wakeup_writer.close()

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection and remember it until it closes."""
        connection, client_address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
        return connection, client_address

    def shutdown_request(self, request: Any) -> None:
        """Forget a connection and close it."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed connection (a client that went away, a stop) instead of printing it."""
        logger.debug("Connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Shut down every open connection, so that no handler thread outlives the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                logger.debug("Connection was already closed")


class _RequestHandler(BaseHTTPRequestHandler):
    """Reads one HTTP request at a time from a keep-alive connection."""

    protocol_version = "HTTP/1.1"
    server_version = "LookoutEquipmentEmulator"
    # Headers and body leave in two writes; with Nagle's algorithm on, the client's delayed ACK
    # would hold the body back by about 40 ms on every call.
    disable_nagle_algorithm = True
    # An idle keep-alive connection is closed after this many seconds.
    timeout = 60
    server: EmulatorHTTPServer

    def do_POST(self) -> None:
        """Answer an API call."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        reply = self.server.protocol.handle(
            self.headers.get("X-Amz-Target"), self.headers.get("Authorization"), body
        )
        self._send(reply)

    def do_GET(self) -> None:
        """Refuse anything but POST, as the JSON 1.0 protocol has no other method."""
        body = encode_body(
            {"__type": "UnknownOperationException", "Message": "Use POST / with X-Amz-Target"}
        )
        self._send(Reply(status=405, body=body, headers={"Allow": "POST"}))

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Send http.server's access log to the module logger instead of stderr."""
        logger.debug("%s " + format, self.address_string(), *args)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)
