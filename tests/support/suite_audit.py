"""Suite-wide audits of every Lambda handler run: the calls it made and the lines it logged.

``tests/conftest.py`` loads this module as a plugin, so it watches every test of every pytest
process. Under pytest-xdist each worker audits the tests it runs and the controller adds up
their figures for the terminal summary.

What it checks:

- Calls. Every call a handler makes to an emulator of this process must be one of the
  operations the provider's policy grants (:data:`POLICY_OPERATIONS`). Tests clear the
  emulator's call log between steps, so the audit sees each call as it is logged (it wraps
  ``CallLog.append``, the one place every emulator records a call). A call is the handler's when
  it is signed with a handler's access key: the in-process harness's fixed key, or the random
  key of a LocalDeployer's sandboxes, registered as each deployer is built. Calls signed by the
  tests' own clients (setup, changes made "by hand") are not the handler's and are not audited.
- Logs. No log line of any run of this project's handler may hold a credential or a
  ResponseURL's query string: the sandboxed runs of every LocalDeployer (its ``on_invocation``
  hook, chained before any hook the test gave) whose function's handler is
  ``lookout_retraining_handler``'s, and the in-process runs of the handler harness (which reports
  its lines here). The deployer's own tests also run small stand-in handlers, one of which logs
  its ResponseURL on purpose to prove that the deployer redacts its output; those runs are
  counted but not audited. The secrets looked for are the run's own credentials and ResponseURL
  query string and signature, the presigned-URL parameter names, and anything shaped like an
  access key id.

A breach fails the test during which it happened: an autouse fixture checks after each test,
and pytest reports the failure as an error at that test's teardown (a session-scoped one catches
anything later). So ``make test`` fails, whichever worker ran the test. The audit's own tests
(``tests/integration/test_suite_audit.py``) plant breaches inside :meth:`SuiteAudit.set_aside`,
which takes what they recorded out of the suite's audit.

The terminal summary names the granted operations that no handler called in the run, without
failing it: a run of part of the suite legitimately leaves some unused. Whether a deployment
that takes every handler path uses every granted action, and whether each grant is scoped to a
declared model, needs the synthesized template, which this audit does not have;
``tests/integration/test_policy_scope.py`` asserts both, and also that
:data:`POLICY_OPERATIONS` is exactly what the synthesized policy grants. Handlers run by another
process's emulator (``make demo``, started as a subprocess) are outside this process and not
seen here.

Integration tests also add reliability figures (events delivered, faults injected, schedulers)
through :meth:`SuiteAudit.count`; the terminal summary prints them with the audit's own.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import urllib.parse
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from lookout_retraining.local.deployer import LocalDeployer
from lookout_retraining.local.emulator.server import CallLog

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from lookout_retraining.local.deployer import InvocationRecord
    from lookout_retraining.local.emulator import CallRecord

POLICY_OPERATIONS = frozenset(
    f"{verb}RetrainingScheduler"
    for verb in ("Create", "Describe", "Update", "Start", "Stop", "Delete")
)
"""The operations the provider's managed policies grant, without the ``lookoutequipment:``."""

PROJECT_HANDLER_PACKAGE = "lookout_retraining_handler."
SECRET_MARKERS = ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token")
ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_OUTPUT_KEY = "lookout_suite_audit"


def leaking_lines(lines: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """Return the lines that hold a secret, a presigned-URL parameter or an access key id."""
    needles = [*SECRET_MARKERS, *(secret for secret in secrets if secret)]
    return [
        line
        for line in lines
        if any(needle in line for needle in needles) or ACCESS_KEY_ID.search(line)
    ]


def response_url_secrets(url: str) -> list[str]:
    """Return what of a ResponseURL must stay out of logs: its query string and signature."""
    query = urllib.parse.urlsplit(url).query
    return [query, *urllib.parse.parse_qs(query).get("X-Amz-Signature", [])]


class SuiteAudit:
    """The calls and log lines of every handler run of this process, and what broke the rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.handler_keys: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.runs: Counter[str] = Counter()
        self.log_lines = 0
        self.breaches: list[str] = []
        self.reported = 0
        self.figures: Counter[str] = Counter()
        self._handlers: dict[tuple[int, str, str], str] = {}

    def register_handler_key(self, access_key_id: str) -> None:
        """Count the calls signed with ``access_key_id`` as a handler's calls."""
        with self._lock:
            self.handler_keys.add(access_key_id)

    def see_call(self, record: CallRecord) -> None:
        """Audit one call an emulator logged: a handler's call must be one the policy grants."""
        with self._lock:
            if record.access_key_id not in self.handler_keys:
                return
            self.calls[record.operation] += 1
            if record.operation not in POLICY_OPERATIONS:
                model = record.request.get("ModelName")
                self.breaches.append(
                    f"the handler called {record.operation or '(no operation)'} (model "
                    f"{model!r}), which the provider's policy does not grant"
                )

    def see_log(
        self, kind: str, where: str, lines: list[str], secrets: Iterable[str], runs: int = 1
    ) -> list[str]:
        """Audit one handler run's log lines; return (and record) those that leak a secret."""
        leaks = leaking_lines(lines, secrets)
        with self._lock:
            self.runs[kind] += runs
            self.log_lines += len(lines)
            self.breaches.extend(
                f"a {kind} handler run of {where} logged a secret: {line[:200]}" for line in leaks
            )
        return leaks

    def see_sandbox_run(self, deployer: LocalDeployer, record: InvocationRecord) -> None:
        """Audit a LocalDeployer's sandboxed handler run against its own credentials and URL."""
        if not self._handler_of(deployer, record).startswith(PROJECT_HANDLER_PACKAGE):
            with self._lock:
                self.runs["stand-in"] += 1
            return
        secrets = list(deployer.credentials.values())
        ids = [record.event.get(name) for name in ("StackId", "LogicalResourceId", "RequestId")]
        if all(isinstance(value, str) and value for value in ids):
            # The recorder gives a request back the URL it issued for it (a redelivery does).
            secrets += response_url_secrets(deployer.recorder.new_url(*ids))
        where = f"{record.logical_id or '(no logical id)'} ({record.request_type or 'no type'})"
        self.see_log("sandboxed", where, record.log_lines, secrets)

    def _handler_of(self, deployer: LocalDeployer, record: InvocationRecord) -> str:
        """Return the handler string of the function that ran (this project's when unknown)."""
        key = (id(deployer), record.stack_name, record.function_name)
        with self._lock:
            known = self._handlers.get(key)
        if known is not None:
            return known
        state = deployer.stack_state(record.stack_name)
        functions = [
            resource
            for resource in (state.resources.values() if state is not None else ())
            if resource.physical_id == record.function_name
        ]
        handler = (
            str(functions[0].properties.get("Handler", ""))
            if functions
            else PROJECT_HANDLER_PACKAGE
        )
        with self._lock:
            self._handlers[key] = handler
        return handler

    def count(self, figure: str, amount: int = 1) -> None:
        """Add to a reliability figure that the terminal summary prints."""
        with self._lock:
            self.figures[figure] += amount

    @contextlib.contextmanager
    def set_aside(self) -> Iterator[SuiteAudit]:
        """Audit as usual within the block, then move what it recorded to the audit yielded.

        For the audit's own tests, which plant breaches on purpose: set aside, the calls, runs,
        log lines, breaches and figures of the block neither fail the test at its teardown nor
        count in the session's summary. The yielded audit holds them once the block has ended.
        Handler keys registered within the block stay registered.
        """
        with self._lock:
            calls, runs, figures = Counter(self.calls), Counter(self.runs), Counter(self.figures)
            log_lines, breaches = self.log_lines, len(self.breaches)
        caught = SuiteAudit()
        try:
            yield caught
        finally:
            with self._lock:
                caught.calls = self.calls - calls
                caught.runs = self.runs - runs
                caught.figures = self.figures - figures
                caught.log_lines = self.log_lines - log_lines
                caught.breaches = self.breaches[breaches:]
                self.calls, self.runs, self.figures = calls, runs, figures
                self.log_lines = log_lines
                del self.breaches[breaches:]
                self.reported = min(self.reported, breaches)

    def unreported_breaches(self) -> list[str]:
        """Return the breaches not reported yet, and count them as reported now."""
        with self._lock:
            breaches = self.breaches[self.reported :]
            self.reported = len(self.breaches)
            return breaches

    def to_json(self) -> str:
        """Return the figures and breaches as JSON, for the xdist controller."""
        with self._lock:
            return json.dumps(
                {
                    "calls": self.calls,
                    "runs": self.runs,
                    "log_lines": self.log_lines,
                    "breaches": self.breaches,
                    "figures": self.figures,
                }
            )

    def merge(self, document: str) -> None:
        """Add a worker's figures and breaches (from :meth:`to_json`) to these."""
        data = json.loads(document)
        with self._lock:
            self.calls.update(data["calls"])
            self.runs.update(data["runs"])
            self.log_lines += data["log_lines"]
            self.breaches.extend(data["breaches"])
            self.figures.update(data["figures"])

    def summary_lines(self) -> list[str]:
        """Return the terminal summary of the audit."""
        with self._lock:
            calls = ", ".join(f"{name} {count}" for name, count in sorted(self.calls.items()))
            unused = sorted(POLICY_OPERATIONS - set(self.calls))
            lines = [
                f"handler runs audited: {self.runs['sandboxed']} sandboxed, "
                f"{self.runs['in-process']} in-process; {self.log_lines} log lines "
                f"({self.runs['stand-in']} runs of the deployer tests' stand-in handlers not "
                "audited)",
                f"handler calls audited: {sum(self.calls.values())} ({calls or 'none'})",
                # Against the managed policies only: the role's inline Logs policy grants
                # logs:CreateLogStream and logs:PutLogEvents to the Lambda runtime, which ships
                # the function's output; the handler never calls CloudWatch Logs, and no emulator
                # would see it if it did.
                f"granted operations never called: {', '.join(unused) or 'none'} (not a "
                "failure: a partial run may leave some unused; test_policy_scope.py asserts "
                "that a full deployment uses them all)",
                f"breaches: {len(self.breaches)}",
            ]
            lines += [f"  {breach}" for breach in self.breaches[:20]]
            lines += [f"{name}: {count}" for name, count in sorted(self.figures.items())]
            return lines


AUDIT = SuiteAudit()
"""The audit of this pytest process."""

_originals: dict[str, Any] = {}


def _audited_append(self: CallLog, record: CallRecord) -> None:
    _originals["append"](self, record)
    AUDIT.see_call(record)


def _audited_init(self: LocalDeployer, *args: Any, **kwargs: Any) -> None:
    _originals["init"](self, *args, **kwargs)
    AUDIT.register_handler_key(self.credentials["AWS_ACCESS_KEY_ID"])
    given = self.on_invocation

    def on_invocation(record: InvocationRecord) -> None:
        AUDIT.see_sandbox_run(self, record)
        if given is not None:
            given(record)

    self.on_invocation = on_invocation


def pytest_configure(config: pytest.Config) -> None:
    """Watch every emulator's call log and every LocalDeployer built in this process."""
    _originals["append"] = CallLog.append
    _originals["init"] = LocalDeployer.__init__
    CallLog.append = _audited_append  # type: ignore[method-assign]
    LocalDeployer.__init__ = _audited_init  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Put the emulator and deployer back as they were."""
    if _originals:
        CallLog.append = _originals.pop("append")  # type: ignore[method-assign]
        LocalDeployer.__init__ = _originals.pop("init")  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _handler_audit_per_test() -> Iterator[None]:
    """Fail the test during which a handler made an ungranted call or logged a secret."""
    yield
    breaches = AUDIT.unreported_breaches()
    assert not breaches, f"{len(breaches)} audit breach(es): " + " | ".join(breaches[:5])


@pytest.fixture(scope="session", autouse=True)
def _handler_audit_per_session() -> Iterator[SuiteAudit]:
    """Fail the session if a breach happened outside any test (in a session fixture, say)."""
    yield AUDIT
    breaches = AUDIT.unreported_breaches()
    assert not breaches, f"{len(breaches)} audit breach(es): " + " | ".join(breaches[:5])


@pytest.fixture
def reliability_figures() -> SuiteAudit:
    """The audit, for tests that add reliability figures with ``count``."""
    return AUDIT


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Hand a worker's audit to the xdist controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output[_OUTPUT_KEY] = AUDIT.to_json()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Add up a finished xdist worker's audit (only the controller runs this hook)."""
    document = getattr(node, "workeroutput", {}).get(_OUTPUT_KEY)
    if document:
        AUDIT.merge(document)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the audit's figures once, in the process that reports (not in xdist workers)."""
    if hasattr(terminalreporter.config, "workerinput"):
        return
    if not AUDIT.runs and not AUDIT.calls and not AUDIT.figures:
        return
    terminalreporter.section("handler audit and reliability figures")
    for line in AUDIT.summary_lines():
        terminalreporter.write_line(line)
