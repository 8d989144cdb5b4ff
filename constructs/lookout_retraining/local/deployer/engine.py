"""The local deployer's public API: deploy, update and destroy stacks of a cloud assembly."""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.deployer.assembly import CloudAssembly
from lookout_retraining.local.deployer.custom_resources import (
    DEFAULT_SERVICE_TIMEOUT_SECONDS,
    CustomResourceEvent,
    CustomResourceInvoker,
    Delivery,
    FailureKind,
    InvocationRecord,
    LambdaSettings,
    fake_credentials,
)
from lookout_retraining.local.deployer.errors import (
    AssemblyError,
    StackStateError,
    TemplateError,
)
from lookout_retraining.local.deployer.graph import template_dependencies, topological_order
from lookout_retraining.local.deployer.intrinsics import (
    Evaluator,
    partition_of,
    stringify_scalars,
    url_suffix_of,
)
from lookout_retraining.local.deployer.lifecycle import (
    LAMBDA_FUNCTION_TYPE,
    DeliveryRefusedError,
    StackOperation,
    find_function,
    function_config,
    is_custom_resource,
    service_timeout_of,
)
from lookout_retraining.local.deployer.reporting import EventPrinter, StackEvent, redact_text
from lookout_retraining.local.deployer.sandbox import LambdaRuntime
from lookout_retraining.local.deployer.state import (
    DEFAULT_STATE_DIR,
    ResourceRecord,
    StackState,
    StateStore,
)
from lookout_retraining.local.responses import ResponseRecorder

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TextIO

    from lookout_retraining.local.deployer.assembly import StackArtifact
    from lookout_retraining.local.deployer.sandbox import RunningInvocation
    from lookout_retraining.local.responses import RecordedResponse

logger = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_MAX_CONCURRENCY = 10
# A stack in any other status needs a destroy first, as CloudFormation would refuse an update.
_UPDATABLE_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})
_SUCCESS_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"})


@dataclass
class DeploymentResult:
    """What one ``deploy`` or ``destroy`` did.

    Attributes
    ----------
    stack_name, stack_id:
        The stack.
    operation:
        ``"CREATE"``, ``"UPDATE"``, ``"DELETE"``, or ``"NONE"`` when there was nothing to do.
    status, status_reason:
        The final stack status (``CREATE_COMPLETE``, ``ROLLBACK_COMPLETE``,
        ``UPDATE_ROLLBACK_FAILED``, ``DELETE_COMPLETE``...) and its reason.
    events:
        Every stack event, oldest first.
    deliveries:
        Every custom resource request and its outcome, in the order they finished.
    problems:
        What went wrong without deciding any request's outcome: a handler that answered one
        request more than once (a Lambda retry that answered again included) or again after
        the ServiceTimeout, a cleanup Delete that failed, a rollback Update that answered an
        unexpected physical id (the last only with a failed stack).
    outputs:
        The stack's resolved outputs after the operation.
    elapsed_seconds:
        Wall time of the operation.
    """

    stack_name: str
    stack_id: str
    operation: str
    status: str
    status_reason: str = ""
    events: list[StackEvent] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        """Return True if the stack reached the state asked for, or there was nothing to do."""
        return self.operation == "NONE" or self.status in _SUCCESS_STATUSES

    @property
    def invocations(self) -> list[InvocationRecord]:
        """Return every handler run (Lambda attempt) of the operation, by start time."""
        records = [attempt for delivery in self.deliveries for attempt in delivery.attempts]
        return sorted(records, key=lambda record: record.started_at)

    def resource_events(self, logical_id: str) -> list[StackEvent]:
        """Return the events of one resource, oldest first."""
        return [event for event in self.events if event.logical_id == logical_id]

    def resource_statuses(self, logical_id: str) -> list[str]:
        """Return the statuses one resource went through, oldest first."""
        return [event.status for event in self.resource_events(logical_id)]

    def deliveries_for(
        self, logical_id: str | None = None, request_type: str | None = None
    ) -> list[Delivery]:
        """Return the deliveries for a logical id and/or request type."""
        return [
            delivery
            for delivery in self.deliveries
            if (logical_id is None or delivery.logical_id == logical_id)
            and (request_type is None or delivery.request_type == request_type)
        ]

    def counts(self) -> dict[str, int]:
        """Return how many resources were created, updated, deleted, skipped and failed."""
        counts = {"created": 0, "updated": 0, "deleted": 0, "retained": 0, "failed": 0}
        names = {
            "CREATE_COMPLETE": "created",
            "UPDATE_COMPLETE": "updated",
            "DELETE_COMPLETE": "deleted",
            "DELETE_SKIPPED": "retained",
        }
        for event in self.events:
            if event.resource_type == "AWS::CloudFormation::Stack":
                continue
            if event.status.endswith("_FAILED"):
                counts["failed"] += 1
            elif event.status in names:
                counts[names[event.status]] += 1
        return counts

    def summary(self) -> str:
        """Return a one-line summary: status, elapsed time, resource counts, requests."""
        if self.operation == "NONE":
            return f"{self.stack_name}: no changes ({self.status})"
        counts = ", ".join(f"{number} {name}" for name, number in self.counts().items())
        requests = len(self.deliveries)
        runs = sum(len(delivery.attempts) for delivery in self.deliveries)
        problems = f"; {len(self.problems)} problem(s)" if self.problems else ""
        return (
            f"{self.stack_name}: {self.status} in {self.elapsed_seconds:.1f} s ({counts}; "
            f"{requests} custom resource request(s), {runs} handler run(s)){problems}"
        )


def resolve_parameters(
    template: Mapping[str, Any],
    overrides: Mapping[str, Any],
    previous: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the parameter values for a deployment: (values for ``Ref``, raw strings).

    An override wins, then the previous deployment's value (as ``cdk deploy`` reuses it),
    then the default. SSM-typed parameters without an override stay unresolved: referring to
    one raises.

    Raises
    ------
    TemplateError
        For an unknown override, a missing value or a value the parameter's constraints reject.
    """
    declared: Mapping[str, Any] = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"Parameters: {unknown} do not exist in the template")
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    missing = []
    for name, declaration in declared.items():
        parameter_type = str(declaration.get("Type", "String"))
        if name in overrides:
            value = str(overrides[name])
        elif name in previous:
            value = str(previous[name])
        elif parameter_type.startswith("AWS::SSM::Parameter::Value<"):
            continue
        elif "Default" in declaration:
            value = str(stringify_scalars(declaration["Default"]))
        else:
            missing.append(name)
            continue
        _check_parameter(name, declaration, value)
        raw[name] = value
        is_list = parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<")
        values[name] = [item.strip() for item in value.split(",")] if is_list else value
    if missing:
        raise TemplateError(f"Parameters: {missing} must have values")
    return values, raw


def _check_parameter(name: str, declaration: Mapping[str, Any], value: str) -> None:
    constraint = declaration.get("ConstraintDescription")
    allowed = declaration.get("AllowedValues")
    if allowed is not None and value not in [str(stringify_scalars(item)) for item in allowed]:
        raise TemplateError(f"Parameter '{name}' must be one of AllowedValues")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), value) is None:
        raise TemplateError(
            f"Parameter '{name}' failed to satisfy constraint: "
            f"{constraint or f'Malformed input-Parameter {name} must match pattern {pattern}'}"
        )
    for bound, holds in (
        ("MinLength", lambda limit: len(value) >= int(limit)),
        ("MaxLength", lambda limit: len(value) <= int(limit)),
    ):
        if bound in declaration and not holds(declaration[bound]):
            raise TemplateError(
                f"Parameter '{name}' failed to satisfy constraint: {constraint or bound}"
            )
    if str(declaration.get("Type", "String")) == "Number":
        try:
            number = float(value)
        except ValueError as exc:
            raise TemplateError(f"Parameter '{name}' must be a number, got {value!r}") from exc
        if "MinValue" in declaration and number < float(declaration["MinValue"]):
            raise TemplateError(f"Parameter '{name}' must be at least {declaration['MinValue']}")
        if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
            raise TemplateError(f"Parameter '{name}' must be at most {declaration['MaxValue']}")


class _RecordedResources:
    """``Ref`` and ``Fn::GetAtt`` against a saved state, without changing it."""

    def __init__(self, state: StackState) -> None:
        self.state = state

    def ref(self, logical_id: str) -> str:
        record = self.state.resources.get(logical_id)
        if record is None:
            raise TemplateError(f"resource {logical_id} is not deployed")
        return record.physical_id

    def get_att(self, logical_id: str, attribute: str) -> Any:
        record = self.state.resources.get(logical_id)
        if record is None or attribute not in record.attributes:
            raise TemplateError(f"resource {logical_id} has no attribute {attribute}")
        return record.attributes[attribute]


class LocalDeployer:
    """Deploy a synthesized CDK app's stacks on this machine, as CloudFormation and Lambda would.

    Custom resources' handlers run in Lambda-like sandboxes (see
    :mod:`lookout_retraining.local.deployer.sandbox`) against ``endpoint_url``; every other
    resource is recorded with a well-formed physical id. State is kept in ``state_dir``
    between runs, so a second deploy of a changed app updates the stack.

    Parameters
    ----------
    assembly_dir:
        The cloud assembly (``cdk.out``) that :meth:`deploy` reads unless told another.
        Default None: pass ``assembly_dir`` to :meth:`deploy`.
    endpoint_url:
        The Lookout for Equipment endpoint handlers use (``AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT``),
        normally the emulator's. Default None: unset.
    state_dir:
        Where stacks' state, published code and logs are kept. Default ``./.local-deployer``.
    region, account_id:
        Where environment-agnostic stacks are deployed. Default ``us-east-1`` and
        ``123456789012``; a stack with an explicit environment uses its own.
    parameters:
        Parameter values for every deploy (``deploy(parameters=...)`` adds to them).
        Default None.
    max_concurrency:
        Most resource operations in flight at once (handler processes included). Default 10.
    out:
        Where stack events, progress and summaries are printed. Default None: silent.
    environment:
        Extra variables for every handler process, set last. Default None.
    retry_attempts:
        Lambda's retries of a failed asynchronous invocation. Default 2, as in Lambda.
    retry_delay_seconds:
        Pause before each retry. Default 1.0 (Lambda waits about 1 and 2 minutes).
    late_response_grace_seconds:
        How long past ServiceTimeout a still running handler may go on, so that a late
        answer is seen and reported. Default 2.0.
    progress_interval_seconds:
        How often a progress line is printed while a handler runs. Default 5.0.
    write_logs:
        Also write each invocation's log under ``state_dir/logs``. Default True.
    on_invocation:
        Called with every :class:`InvocationRecord` (one per handler run) as soon as the run
        ends, from the thread that ran it; for example to collect every log line of a test
        suite. Default None.

    Examples
    --------
    >>> with Emulator(EmulatorSettings()) as emulator, LocalDeployer(  # doctest: +SKIP
    ...     "cdk.out", endpoint_url=emulator.endpoint_url, state_dir=tmp_path
    ... ) as deployer:
    ...     result = deployer.deploy("LookoutRetrainingExample")
    ...     assert result.status == "CREATE_COMPLETE"
    """

    def __init__(
        self,
        assembly_dir: str | Path | None = None,
        *,
        endpoint_url: str | None = None,
        state_dir: str | Path = DEFAULT_STATE_DIR,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        parameters: Mapping[str, str] | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        out: TextIO | None = None,
        environment: Mapping[str, str] | None = None,
        retry_attempts: int = 2,
        retry_delay_seconds: float = 1.0,
        late_response_grace_seconds: float = 2.0,
        progress_interval_seconds: float = 5.0,
        write_logs: bool = True,
        on_invocation: Callable[[InvocationRecord], None] | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency {max_concurrency} must be at least 1")
        if retry_attempts < 0:
            raise ValueError(f"retry_attempts {retry_attempts} must be 0 or more")
        self.assembly_dir = None if assembly_dir is None else Path(assembly_dir)
        self.endpoint_url = endpoint_url
        self.store = StateStore(state_dir)
        self.region = region
        self.account_id = account_id
        self.parameters = dict(parameters or {})
        self.max_concurrency = max_concurrency
        self.printer = EventPrinter(out)
        self.environment = dict(environment or {})
        self.retry_attempts = retry_attempts
        self.retry_delay_seconds = retry_delay_seconds
        self.late_response_grace_seconds = late_response_grace_seconds
        self.progress_interval_seconds = progress_interval_seconds
        self.write_logs = write_logs
        self.on_invocation = on_invocation
        self.credentials = fake_credentials()
        self._runtime = LambdaRuntime()
        self._recorder = ResponseRecorder()
        self._running = False
        self._start_lock = threading.Lock()

    def __enter__(self) -> LocalDeployer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the response endpoint and build the Lambda runtime folder (done on first use)."""
        with self._start_lock:
            if self._running:
                return
            self._runtime.start()
            self._recorder.start()
            self._running = True

    def close(self) -> None:
        """Stop the response endpoint and remove the runtime folder."""
        with self._start_lock:
            if not self._running:
                return
            self._recorder.stop()
            self._runtime.close()
            self._running = False

    @property
    def recorder(self) -> ResponseRecorder:
        """Return the response endpoint (started on first use)."""
        self.start()
        return self._recorder

    def invoker(self, region: str | None = None) -> CustomResourceInvoker:
        """Return an invoker for handlers of a stack in ``region`` (default: the deployer's)."""
        self.start()
        settings = LambdaSettings(
            region=region or self.region,
            endpoint_url=self.endpoint_url,
            credentials=self.credentials,
            extra_environment=self.environment,
            retry_attempts=self.retry_attempts,
            retry_delay_seconds=self.retry_delay_seconds,
            late_response_grace_seconds=self.late_response_grace_seconds,
            progress_interval_seconds=self.progress_interval_seconds,
            write_logs=self.write_logs,
            on_invocation=self.on_invocation,
        )
        return CustomResourceInvoker(
            self._runtime, self._recorder, settings, self.printer, self.store
        )

    def assembly(self, assembly_dir: str | Path | None = None) -> CloudAssembly:
        """Read the cloud assembly (``assembly_dir``, else the one given at construction).

        Raises
        ------
        AssemblyError
            If no assembly directory was given or it cannot be read.
        """
        directory = assembly_dir if assembly_dir is not None else self.assembly_dir
        if directory is None:
            raise AssemblyError("no cloud assembly directory given (assembly_dir)")
        return CloudAssembly(directory)

    def stack_state(self, stack_name: str) -> StackState | None:
        """Return the stack's saved state, or None if it is not deployed."""
        return self.store.load(stack_name)

    def deploy(
        self,
        stack_name: str | None = None,
        *,
        assembly_dir: str | Path | None = None,
        parameters: Mapping[str, str] | None = None,
        kill_when: Callable[[RunningInvocation], bool] | None = None,
    ) -> DeploymentResult:
        """Create the stack, or update it to the assembly's template.

        Parameters
        ----------
        stack_name:
            Stack name, artifact id or display name. Default None: the assembly's only stack.
        assembly_dir:
            Read this assembly instead of the deployer's. Default None.
        parameters:
            Parameter values, over the deployer's own. Default None.
        kill_when:
            Called every few milliseconds with each running handler's
            :class:`~lookout_retraining.local.deployer.sandbox.RunningInvocation`; True kills
            that sandbox, as a crash would (Lambda then retries). Default None.

        Returns
        -------
        DeploymentResult
            Also when the stack failed and rolled back: check ``status`` or ``succeeded``.

        Raises
        ------
        AssemblyError, TemplateError
            Before anything is deployed, if the assembly or template cannot be used.
        StackStateError
            If the stack is in a status that needs a destroy first, or another process holds it.
        """
        stack = self.assembly(assembly_dir).stack(stack_name)
        overrides = {**self.parameters, **(parameters or {})}
        self.start()
        with self.store.lock(stack.stack_name):
            return self._deploy(stack, overrides, kill_when)

    def destroy(
        self,
        stack_name: str,
        *,
        kill_when: Callable[[RunningInvocation], bool] | None = None,
    ) -> DeploymentResult:
        """Delete the stack: a Delete for every custom resource, in reverse dependency order.

        Works from the saved state alone; the cloud assembly is not read. A stack that is not
        deployed gives ``operation == "NONE"``.

        Raises
        ------
        StackStateError
            If another process holds the stack.
        """
        self.start()
        with self.store.lock(stack_name):
            state = self.store.load(stack_name)
            if state is None:
                self.printer.write(f"{stack_name}: stack does not exist; nothing to delete")
                return DeploymentResult(stack_name, "", "NONE", "DELETE_COMPLETE")
            operation = self._operation(state, kill_when)
            self.printer.write(f"{stack_name}: destroying")
            operation.stack_event("DELETE_IN_PROGRESS", "User Initiated")
            outcome = operation.delete_all(
                list(state.resources.values()), rolling_back_create=False
            )
            left = outcome.failed + outcome.not_started
            if left:
                operation.stack_event(
                    "DELETE_FAILED",
                    f"The following resource(s) failed to delete: [{', '.join(left)}].",
                )
            else:
                operation.stack_event("DELETE_COMPLETE")
                self.store.remove(stack_name)
            return self._finish(operation, "DELETE")

    def build_event(
        self,
        stack_name: str,
        logical_id: str,
        request_type: str = "Create",
        *,
        properties: Mapping[str, Any] | None = None,
        old_properties: Mapping[str, Any] | None = None,
        physical_resource_id: str | None = None,
        request_id: str | None = None,
        resource_type: str | None = None,
    ) -> CustomResourceEvent:
        """Build a custom resource request for a deployed stack, with a live ResponseURL.

        Defaults come from the deployed resource when ``logical_id`` is deployed, else from
        the assembly's template (properties resolved against the deployed stack). Properties
        given here are sent exactly as given; a missing ``ServiceToken`` is filled in.

        Parameters
        ----------
        stack_name:
            A deployed stack (its StackId and functions are used).
        logical_id:
            The resource's logical id; it need not exist.
        request_type:
            ``Create``, ``Update`` or ``Delete`` (anything else is sent as is). Default Create.
        properties:
            ``ResourceProperties``. Default: the deployed or template properties.
        old_properties:
            ``OldResourceProperties`` for an Update. Default: the deployed properties.
        physical_resource_id:
            For Update and Delete. Default: the deployed physical id.
        request_id:
            Default: a new UUID.
        resource_type:
            Default: the deployed or template type, else ``AWS::CloudFormation::CustomResource``.

        Raises
        ------
        StackStateError
            If the stack is not deployed, or a default is needed and there is none.
        """
        state = self._deployed(stack_name)
        record = state.resources.get(logical_id)
        template_resource: Mapping[str, Any] = {}
        if record is None and (properties is None or resource_type is None):
            template_resource = self._template_resource(stack_name, logical_id)
        if properties is None:
            properties = (
                record.properties
                if record is not None
                else self._resolved_template_properties(stack_name, state, logical_id)
            )
        resolved_properties: dict[str, Any] = copy.deepcopy(dict(properties))
        if "ServiceToken" not in resolved_properties:
            resolved_properties["ServiceToken"] = self._default_service_token(state, logical_id)
        request_id = request_id or str(uuid.uuid4())
        payload: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": resolved_properties["ServiceToken"],
            "ResponseURL": self.recorder.new_url(state.stack_id, logical_id, request_id),
            "StackId": state.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type
            or (record.resource_type if record is not None else None)
            or str(template_resource.get("Type") or "AWS::CloudFormation::CustomResource"),
            "ResourceProperties": resolved_properties,
        }
        if request_type in ("Update", "Delete"):
            physical = physical_resource_id or (record.physical_id if record else None)
            if physical is None:
                raise StackStateError(
                    f"{logical_id} is not deployed: pass physical_resource_id for a {request_type}"
                )
            payload["PhysicalResourceId"] = physical
        elif physical_resource_id is not None:
            payload["PhysicalResourceId"] = physical_resource_id
        if request_type == "Update":
            old = old_properties
            if old is None and record is not None:
                old = record.properties
            if old is None:
                raise StackStateError(
                    f"{logical_id} is not deployed: pass old_properties for an Update"
                )
            payload["OldResourceProperties"] = copy.deepcopy(dict(old))
        elif old_properties is not None:
            payload["OldResourceProperties"] = copy.deepcopy(dict(old_properties))
        return CustomResourceEvent(payload)

    def deliver(
        self,
        stack_name: str,
        event: CustomResourceEvent,
        *,
        function: str | None = None,
        kill_when: Callable[[RunningInvocation], bool] | None = None,
        timeout_seconds: float | None = None,
        retry_attempts: int = 0,
    ) -> Delivery:
        """Deliver one request to a function of a deployed stack; the stack state is unchanged.

        Delivering the same event again is a redelivery: same RequestId, same ResponseURL.
        Deliveries may run concurrently from several threads; concurrent deliveries of one
        event share its ResponseURL, so each sees the other's answers too
        (:meth:`responses` gives them all).

        Parameters
        ----------
        stack_name:
            The deployed stack whose function runs.
        event:
            The request, from :meth:`build_event` or any payload (malformed ones included).
        function:
            The function's logical id, name or ARN. Default: the event's ServiceToken.
        kill_when:
            As for :meth:`deploy`. Default None.
        timeout_seconds:
            Overrides the function's timeout. Default None.
        retry_attempts:
            Lambda retries after a failed attempt. Default 0: one attempt.

        Raises
        ------
        StackStateError
            If the stack is not deployed.
        """
        state = self._deployed(stack_name)
        token = function
        if token is None:
            properties = event.get("ResourceProperties")
            token = event.get("ServiceToken") or (
                properties.get("ServiceToken") if isinstance(properties, dict) else None
            )
        record = state.resources.get(str(token)) if token is not None else None
        if record is None or record.resource_type != LAMBDA_FUNCTION_TYPE:
            record = find_function(state.resources, token)
        invoker = self.invoker(state.region)
        try:
            if record is None:
                raise DeliveryRefusedError(f"{token!r} names no Lambda function of {stack_name}")
            config = function_config(record, self.store)
            properties = event.get("ResourceProperties")
            service_timeout = (
                service_timeout_of(properties)
                if isinstance(properties, dict)
                else DEFAULT_SERVICE_TIMEOUT_SECONDS
            )
        except DeliveryRefusedError as exc:
            return Delivery(
                event=event.redacted(),
                status="FAILED",
                reason=str(exc),
                failure_kind=FailureKind.NOT_INVOKED,
            )
        return invoker.deliver(
            stack_name,
            event,
            config,
            service_timeout=service_timeout,
            kill_when=kill_when,
            timeout_seconds=timeout_seconds,
            retry_attempts=retry_attempts,
        )

    def responses(self, event: CustomResourceEvent) -> list[RecordedResponse]:
        """Return every response received on the event's ResponseURL, oldest first."""
        return self.invoker().responses(event)

    def _deployed(self, stack_name: str) -> StackState:
        state = self.store.load(stack_name)
        if state is None:
            raise StackStateError(f"stack {stack_name!r} is not deployed in {self.store.directory}")
        return state

    def _template_resource(self, stack_name: str, logical_id: str) -> Mapping[str, Any]:
        try:
            template = self.assembly().stack(stack_name).template
        except AssemblyError:
            return {}
        resource: Mapping[str, Any] = (template.get("Resources") or {}).get(logical_id) or {}
        return resource

    def _resolved_template_properties(
        self, stack_name: str, state: StackState, logical_id: str
    ) -> dict[str, Any]:
        stack = self.assembly().stack(stack_name)
        resource = (stack.template.get("Resources") or {}).get(logical_id)
        if resource is None:
            raise StackStateError(
                f"{logical_id} is neither deployed in {stack_name} nor in its template: "
                "pass properties"
            )
        values, _ = resolve_parameters(stack.template, self.parameters, state.parameters)
        evaluator = Evaluator(
            stack.template, self._pseudo_parameters(state), values, _RecordedResources(state)
        )
        properties = evaluator.resolve(
            resource.get("Properties") or {}, f"Resources.{logical_id}.Properties"
        )
        return dict(stringify_scalars(properties))

    def _default_service_token(self, state: StackState, logical_id: str) -> str:
        functions = [
            record
            for record in state.resources.values()
            if record.resource_type == LAMBDA_FUNCTION_TYPE
        ]
        if len(functions) != 1:
            raise StackStateError(
                f"{state.stack_name} has {len(functions)} Lambda functions: give {logical_id}'s "
                "properties a ServiceToken"
            )
        return str(functions[0].attributes.get("Arn", functions[0].physical_id))

    def _pseudo_parameters(self, state: StackState) -> dict[str, Any]:
        return {
            "AWS::AccountId": state.account_id,
            "AWS::NotificationARNs": [],
            "AWS::Partition": partition_of(state.region),
            "AWS::Region": state.region,
            "AWS::StackId": state.stack_id,
            "AWS::StackName": state.stack_name,
            "AWS::URLSuffix": url_suffix_of(state.region),
        }

    def _operation(
        self,
        state: StackState,
        kill_when: Callable[[RunningInvocation], bool] | None,
    ) -> StackOperation:
        return StackOperation(
            state,
            invoker=self.invoker(state.region),
            store=self.store,
            printer=self.printer,
            max_concurrency=self.max_concurrency,
            kill_when=kill_when,
        )

    def _deploy(
        self,
        stack: StackArtifact,
        overrides: Mapping[str, str],
        kill_when: Callable[[RunningInvocation], bool] | None,
    ) -> DeploymentResult:
        state = self.store.load(stack.stack_name)
        if state is not None and state.status == "ROLLBACK_COMPLETE":
            # As the CDK CLI does: a stack whose creation rolled back is deleted and created anew.
            self.printer.write(
                f"{stack.stack_name}: stack is in ROLLBACK_COMPLETE; replacing it with a new stack"
            )
            self.store.remove(stack.stack_name)
            state = None
        if state is not None and state.status not in _UPDATABLE_STATUSES:
            raise StackStateError(
                f"stack {stack.stack_name!r} is in {state.status} and cannot be updated; "
                "destroy it first"
            )
        creating = state is None
        if state is None:
            region = stack.region or self.region
            account_id = stack.account or self.account_id
            stack_id = (
                f"arn:{partition_of(region)}:cloudformation:{region}:{account_id}:"
                f"stack/{stack.stack_name}/{uuid.uuid4()}"
            )
            state = StackState(stack.stack_name, stack_id, "REVIEW_IN_PROGRESS", region, account_id)
        values, raw_parameters = resolve_parameters(
            stack.template, overrides, {} if creating else state.parameters
        )
        evaluator = Evaluator(stack.template, self._pseudo_parameters(state), values)
        for condition in stack.template.get("Conditions") or {}:
            evaluator.condition(condition)
        resources: Mapping[str, Any] = stack.template.get("Resources") or {}
        included = [
            logical_id
            for logical_id, resource in resources.items()
            if resource.get("Condition") is None or evaluator.condition(resource["Condition"])
        ]
        dependencies = template_dependencies(stack.template, included)
        if not creating and not self._has_changes(
            state, stack, values, raw_parameters, included, dependencies
        ):
            result = DeploymentResult(
                stack.stack_name, state.stack_id, "NONE", state.status, outputs=state.outputs
            )
            self.printer.write(result.summary())
            return result

        operation = self._operation(state, kill_when)
        evaluator.resources = operation
        self.printer.write(f"{stack.stack_name}: {'creating' if creating else 'updating'}")
        if creating:
            self._create(operation, stack, evaluator, included, dependencies, raw_parameters)
        else:
            self._update(operation, stack, evaluator, included, dependencies, raw_parameters)
        return self._finish(operation, "CREATE" if creating else "UPDATE")

    @staticmethod
    def _create(
        operation: StackOperation,
        stack: StackArtifact,
        evaluator: Evaluator,
        included: list[str],
        dependencies: Mapping[str, set[str]],
        raw_parameters: dict[str, str],
    ) -> None:
        operation.state.parameters = raw_parameters
        operation.stack_event("CREATE_IN_PROGRESS", "User Initiated")
        if operation.apply(stack, evaluator, included, dependencies):
            operation.stack_event("CREATE_COMPLETE")
            return
        operation.stack_event(
            "ROLLBACK_IN_PROGRESS",
            f"{operation.failure_reason()} Rollback requested by user.",
        )
        outcome = operation.delete_all(
            list(operation.state.resources.values()), rolling_back_create=True
        )
        operation.state.outputs = {}
        left = outcome.failed + outcome.not_started
        if left:
            operation.stack_event(
                "ROLLBACK_FAILED",
                f"The following resource(s) failed to delete: [{', '.join(left)}].",
            )
        else:
            operation.stack_event("ROLLBACK_COMPLETE")

    @staticmethod
    def _update(
        operation: StackOperation,
        stack: StackArtifact,
        evaluator: Evaluator,
        included: list[str],
        dependencies: Mapping[str, set[str]],
        raw_parameters: dict[str, str],
    ) -> None:
        operation.state.parameters = raw_parameters
        operation.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
        if operation.apply(stack, evaluator, included, dependencies):
            operation.stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            operation.cleanup_after_update(included)
            operation.stack_event("UPDATE_COMPLETE")
            return
        operation.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", operation.failure_reason())
        failed = operation.roll_back_updates()
        operation.state.outputs = operation.previous_outputs
        operation.state.parameters = operation.previous_parameters
        if failed:
            operation.stack_event(
                "UPDATE_ROLLBACK_FAILED",
                f"The following resource(s) failed to update: [{', '.join(failed)}].",
            )
            return
        operation.stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        operation.cleanup_after_rollback()
        operation.stack_event("UPDATE_ROLLBACK_COMPLETE")

    def _has_changes(
        self,
        state: StackState,
        stack: StackArtifact,
        values: Mapping[str, Any],
        raw_parameters: Mapping[str, str],
        included: list[str],
        dependencies: Mapping[str, set[str]],
    ) -> bool:
        """Return True if deploying the template would change anything in the stack."""
        if set(included) != set(state.resources) or dict(raw_parameters) != state.parameters:
            return True
        evaluator = Evaluator(
            stack.template, self._pseudo_parameters(state), values, _RecordedResources(state)
        )
        resources = stack.template.get("Resources") or {}
        for logical_id in topological_order(included, dependencies):
            resource = resources[logical_id]
            record: ResourceRecord = state.resources[logical_id]
            try:
                properties = evaluator.resolve(resource.get("Properties") or {}, logical_id)
            except TemplateError:
                return True
            if is_custom_resource(record.resource_type):
                properties = stringify_scalars(properties)
            if (
                record.resource_type != resource.get("Type")
                or record.properties != properties
                or record.status.endswith("_FAILED")
                or record.deletion_policy != str(resource.get("DeletionPolicy", "Delete"))
                or record.update_replace_policy
                != str(resource.get("UpdateReplacePolicy", "Delete"))
            ):
                return True
        try:
            outputs = {
                name: stringify_scalars(evaluator.resolve(output.get("Value"), name))
                for name, output in (stack.template.get("Outputs") or {}).items()
                if output.get("Condition") is None or evaluator.condition(output["Condition"])
            }
        except TemplateError:
            return True
        return outputs != state.outputs

    def _finish(self, operation: StackOperation, kind: str) -> DeploymentResult:
        result = DeploymentResult(
            stack_name=operation.state.stack_name,
            stack_id=operation.state.stack_id,
            operation=kind,
            status=operation.state.status,
            status_reason=operation.state.status_reason,
            events=list(operation.events),
            deliveries=list(operation.deliveries),
            problems=list(operation.problems),
            outputs=dict(operation.state.outputs),
            elapsed_seconds=time.monotonic() - operation.started,
        )
        for problem in result.problems:
            self.printer.write(f"  problem: {redact_text(problem)}")
        self.printer.write(result.summary())
        logger.info("%s", result.summary())
        return result
