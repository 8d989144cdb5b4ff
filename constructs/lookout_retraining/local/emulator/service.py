"""The emulator as a whole: a loopback HTTP server in a background thread, and its controls."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.emulator.backend import LookoutEquipmentBackend, RequestContext
from lookout_retraining.local.emulator.faults import FaultInjector
from lookout_retraining.local.emulator.server import (
    CallLog,
    EmulatorHTTPServer,
    JsonProtocol,
    parse_credential_scope,
)
from lookout_retraining.local.emulator.settings import CallRecord, EmulatorSettings
from lookout_retraining.local.emulator.state import StateFile

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from types import TracebackType

logger = logging.getLogger(__name__)


class Emulator:
    """A local Amazon Lookout for Equipment that boto3 reaches through its real wire protocol.

    Point a client at :attr:`endpoint_url` (``endpoint_url=`` or the environment variable
    ``AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT``). The server binds a loopback address only, since it
    checks no signatures.

    Parameters
    ----------
    settings:
        Switches and delays, read on every call. Default: ``EmulatorSettings()``.
    host:
        The loopback address to bind: ``127.0.0.1`` (the default), another ``127.x.y.z``,
        ``::1`` or ``localhost``.
    port:
        The TCP port; ``0`` (the default) picks a free one.
    state_file:
        A JSON file to load the state from at construction and to save it to after every
        mutating call, so that another process can carry on from it. ``None`` (the default)
        keeps the state in memory. From :meth:`start` to :meth:`stop` the emulator holds the
        file (an exclusive lock on ``.<name>.lock`` beside it) and reloads it at start; a
        second emulator on the same file, in any process, fails to start. Changes need the
        emulator started.
    clock:
        The service's clock, in epoch seconds: it stamps ``CreatedAt`` and ``UpdatedAt``,
        times the PENDING and STOPPING delays and refills the calls-per-second limit. A test
        passes a clock it moves itself, so that those delays and the limit do not depend on how
        fast the machine runs. Injected response delays and the timings in :attr:`calls` are
        real time whatever the clock. Default :func:`time.time`.

    Raises
    ------
    ValueError
        If ``host`` is not a loopback address.
    StateFileError
        If ``state_file`` exists but does not hold an emulator state.

    Examples
    --------
    >>> with Emulator() as emulator:  # doctest: +SKIP
    ...     emulator.create_model("pump-1")
    ...     client = boto3.client("lookoutequipment", endpoint_url=emulator.endpoint_url)
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bind_host, self._address_family = loopback_address(host)
        self._requested_port = port
        self._settings = settings if settings is not None else EmulatorSettings()
        self._faults = FaultInjector(clock)
        self._call_log = CallLog()
        self._backend = LookoutEquipmentBackend(
            self._settings, None if state_file is None else StateFile(Path(state_file)), clock
        )
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        """Bind the port and serve in a background thread; return ``self``.

        Raises
        ------
        RuntimeError
            If the emulator is already running.
        StateFileInUseError
            If another emulator, in this process or another, holds the state file.
        StateFileError
            If the state file no longer holds an emulator state.
        OSError
            If the port cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError(f"The emulator is already running at {self.endpoint_url}")
        self._backend.hold_state_file()
        protocol = JsonProtocol(self._backend, self._faults, self._call_log, self._context)
        try:
            server = EmulatorHTTPServer(
                (self._bind_host, self._requested_port), self._address_family, protocol
            )
        except BaseException:
            self._backend.release_state_file()
            raise
        thread = threading.Thread(
            target=server.serve_until_stopped,
            name=f"lookout-equipment-emulator-{server.server_address[1]}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        logger.info("Lookout for Equipment emulator listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections, release the port and the state file.

        Idempotent.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        endpoint_url = self.endpoint_url
        server.request_stop()
        thread.join()
        server.close_connections()
        server.server_close()
        self._backend.release_state_file()
        self._server, self._thread = None, None
        logger.info("Lookout for Equipment emulator at %s stopped", endpoint_url)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound TCP port.

        Raises
        ------
        RuntimeError
            If the emulator is not running.
        """
        if self._server is None:
            raise RuntimeError("The emulator is not running: call start() or use it in a with")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>`` (IPv6 hosts in brackets).

        Raises
        ------
        RuntimeError
            If the emulator is not running.
        """
        host = self._bind_host
        if self._address_family == socket.AF_INET6:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def settings(self) -> EmulatorSettings:
        """The live settings: change a field and the next call sees it."""
        return self._settings

    @settings.setter
    def settings(self, settings: EmulatorSettings) -> None:
        self._settings = settings
        self._backend.settings = settings

    @property
    def faults(self) -> FaultInjector:
        """Fault injection for the next calls: throttle, fail, delay, rate limit."""
        return self._faults

    @property
    def calls(self) -> list[CallRecord]:
        """Every call answered so far (since the last :meth:`clear_calls`), oldest first."""
        return self._call_log.records()

    def clear_calls(self) -> None:
        """Forget the calls logged so far."""
        self._call_log.clear()

    def create_model(
        self,
        model_name: str,
        *,
        region: str | None = None,
        dataset_name: str = "emulator-dataset",
    ) -> str:
        """Create a model, as a test's setup step, and return its ARN.

        The model is ready (``SUCCESS``) at once and needs no dataset. The call does not go
        through HTTP, so it is not in :attr:`calls` and faults do not apply.

        Parameters
        ----------
        model_name:
            The model name, ``^[0-9a-zA-Z_-]{1,200}$``.
        region:
            The region to create it in. Default: ``settings.default_region``.
        dataset_name:
            Reported by DescribeModel. Default ``"emulator-dataset"``.

        Raises
        ------
        ValidationException
            If a name breaks the service model's constraints.
        ConflictException
            If the model already exists.
        RuntimeError
            If the emulator has a state file and is not running.
        """
        return self._backend.create_model(
            model_name,
            region=region or self._settings.default_region,
            dataset_name=dataset_name,
        )

    def snapshot(self) -> dict[str, Any]:
        """Return the models and retraining schedulers as JSON-able data, statuses settled."""
        return self._backend.snapshot()

    def _context(self, authorization: str | None) -> RequestContext:
        access_key_id, region = parse_credential_scope(authorization)
        return RequestContext(
            region=region or self._settings.default_region, access_key_id=access_key_id
        )


def loopback_address(host: str) -> tuple[str, socket.AddressFamily]:
    """Return the address to bind and its family, if ``host`` is a loopback address.

    Raises
    ------
    ValueError
        If ``host`` is anything else: the emulator checks no signatures, so it must not be
        reachable from another machine.
    """
    if host == "localhost":
        return "127.0.0.1", socket.AF_INET
    refusal = (
        f"The emulator binds loopback addresses only (127.0.0.1, ::1 or localhost), not "
        f"{host!r}: it checks no signatures, so it must not be reachable from other machines"
    )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(refusal) from None
    if not address.is_loopback:
        raise ValueError(refusal)
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return str(address), family
