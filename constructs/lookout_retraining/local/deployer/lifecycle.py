"""One stack operation (create, update or delete) carried out as CloudFormation does it.

- Create: resources in dependency order, independent ones concurrently. On a failure,
  ``ROLLBACK_IN_PROGRESS``: every resource created, the failed one included (with the physical
  id it answered), is deleted in reverse order; the stack ends ``ROLLBACK_COMPLETE``.
- Update: new resources get Create, resources whose resolved properties changed get Update
  (an answer with another physical id is a replacement), unchanged ones get nothing. Then
  ``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`` deletes removed resources and replaced physical ids.
  On a failure, ``UPDATE_ROLLBACK_IN_PROGRESS`` sends each updated resource (the failed one
  included) an Update back to its previous properties, then the rollback cleanup deletes what
  the update created, replacements' new physical ids included.
- Delete: every resource in reverse dependency order.

``DeletionPolicy`` and ``UpdateReplacePolicy`` ``Retain`` keep a resource (``DELETE_SKIPPED``);
``RetainExceptOnCreate`` keeps it except when the operation that created it rolls back.
"""

from __future__ import annotations

import copy
import datetime
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.deployer.custom_resources import (
    DEFAULT_SERVICE_TIMEOUT_SECONDS,
    CustomResourceEvent,
    Delivery,
    FailureKind,
)
from lookout_retraining.local.deployer.errors import DeployerError, TemplateError
from lookout_retraining.local.deployer.graph import GraphOutcome, run_graph
from lookout_retraining.local.deployer.intrinsics import Evaluator, stringify_scalars
from lookout_retraining.local.deployer.reporting import STACK_RESOURCE_TYPE, StackEvent, redact_text
from lookout_retraining.local.deployer.sandbox import FunctionConfig
from lookout_retraining.local.deployer.state import ResourceRecord
from lookout_retraining.local.deployer.synthetic import (
    Environment,
    generated_name,
    needs_new_physical_id,
    physical_resource,
    synthetic_attribute,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from lookout_retraining.local.deployer.assembly import StackArtifact
    from lookout_retraining.local.deployer.custom_resources import CustomResourceInvoker
    from lookout_retraining.local.deployer.reporting import EventPrinter
    from lookout_retraining.local.deployer.sandbox import RunningInvocation
    from lookout_retraining.local.deployer.state import StackState, StateStore

logger = logging.getLogger(__name__)

LAMBDA_FUNCTION_TYPE = "AWS::Lambda::Function"
GENERIC_CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"
_LOG_TAIL_LINES = 12
_RETAIN = "Retain"
_RETAIN_EXCEPT_ON_CREATE = "RetainExceptOnCreate"


def is_custom_resource(resource_type: str) -> bool:
    """Return True for ``Custom::*`` and ``AWS::CloudFormation::CustomResource`` types."""
    return resource_type.startswith("Custom::") or resource_type == GENERIC_CUSTOM_RESOURCE_TYPE


class DeliveryRefusedError(DeployerError):
    """A request cannot be delivered: no function behind the ServiceToken, or a bad setting."""


def service_timeout_of(properties: Mapping[str, Any]) -> float:
    """Return the ``ServiceTimeout`` in seconds (CloudFormation's default 3600 when absent).

    Raises
    ------
    DeliveryRefusedError
        If it is not a number of seconds from 1 to 3600.
    """
    value = properties.get("ServiceTimeout")
    if value is None:
        return DEFAULT_SERVICE_TIMEOUT_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if not 1 <= seconds <= DEFAULT_SERVICE_TIMEOUT_SECONDS:
        raise DeliveryRefusedError(
            f"ServiceTimeout {value!r} is not a number of seconds from 1 to 3600"
        )
    return seconds


def function_config(record: ResourceRecord, store: StateStore) -> FunctionConfig:
    """Return the sandbox configuration of a deployed Lambda function.

    Raises
    ------
    DeliveryRefusedError
        If the function's runtime is not Python or its code was never published.
    """
    properties = record.properties
    runtime = str(properties.get("Runtime", ""))
    if not runtime.startswith("python"):
        raise DeliveryRefusedError(
            f"function {record.physical_id} uses runtime {runtime or '(none)'!r}; the local "
            "deployer runs Python functions only"
        )
    if record.code_path is None:
        raise DeliveryRefusedError(f"function {record.physical_id} has no published code")
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    logging_config = properties.get("LoggingConfig") or {}
    return FunctionConfig(
        function_name=record.physical_id,
        function_arn=str(record.attributes.get("Arn", record.physical_id)),
        handler=str(properties.get("Handler", "")),
        runtime=runtime,
        timeout_seconds=float(properties.get("Timeout", 3)),
        memory_mb=int(properties.get("MemorySize", 128)),
        environment={str(key): str(value) for key, value in variables.items()},
        code_folder=store.code_folder(record.code_path),
        log_group_name=str(logging_config.get("LogGroup") or f"/aws/lambda/{record.physical_id}"),
    )


def find_function(
    resources: Mapping[str, ResourceRecord], service_token: Any
) -> ResourceRecord | None:
    """Return the deployed Lambda function a ServiceToken names (ARN, qualified ARN or name)."""
    if not isinstance(service_token, str) or not service_token:
        return None
    base = ":".join(service_token.split(":")[:7]) if service_token.startswith("arn:") else None
    for record in resources.values():
        if record.resource_type != LAMBDA_FUNCTION_TYPE or record.status.endswith("_FAILED"):
            continue
        if base is not None and record.attributes.get("Arn") == base:
            return record
        if base is None and record.physical_id == service_token:
            return record
    return None


class StackOperation:
    """The live state of one stack operation: events, deliveries and what it changed.

    Parameters
    ----------
    state:
        The stack's state; it is changed in place as resources change, and saved after
        each change.
    invoker, store, printer:
        The deployer's services.
    max_concurrency:
        Most resource operations in flight at once.
    kill_when:
        Passed to every delivery (see :meth:`CustomResourceInvoker.deliver`).
    """

    def __init__(
        self,
        state: StackState,
        *,
        invoker: CustomResourceInvoker,
        store: StateStore,
        printer: EventPrinter,
        max_concurrency: int,
        kill_when: Callable[[RunningInvocation], bool] | None = None,
    ) -> None:
        self.state = state
        self.invoker = invoker
        self.store = store
        self.printer = printer
        self.max_concurrency = max_concurrency
        self.kill_when = kill_when
        self.lock = threading.RLock()
        self.cancel = threading.Event()
        self.started = time.monotonic()
        self.previous = copy.deepcopy(state.resources)
        self.previous_outputs = copy.deepcopy(state.outputs)
        self.previous_parameters = copy.deepcopy(state.parameters)
        self.events: list[StackEvent] = []
        self.deliveries: list[Delivery] = []
        self.problems: list[str] = []
        self.failed: list[str] = []
        self.stack_reason = ""
        self.created: list[str] = []
        self.updated: list[str] = []
        self.failed_updates: dict[str, dict[str, Any]] = {}
        self.replaced: dict[str, ResourceRecord] = {}
        self.replacements: dict[str, ResourceRecord] = {}

    @property
    def environment(self) -> Environment:
        """Return where the stack is deployed."""
        return Environment(
            stack_name=self.state.stack_name,
            region=self.state.region,
            account_id=self.state.account_id,
            partition=self.state.stack_id.split(":")[1],
        )

    def emit(
        self,
        logical_id: str,
        resource_type: str,
        status: str,
        physical_id: str = "",
        reason: str = "",
    ) -> None:
        """Record and print one stack event."""
        event = StackEvent(
            timestamp=datetime.datetime.now(datetime.UTC),
            stack_name=self.state.stack_name,
            logical_id=logical_id,
            resource_type=resource_type,
            status=status,
            physical_id=physical_id,
            reason=redact_text(reason),
        )
        with self.lock:
            # Printed under the same lock, so the printed order is the recorded order.
            self.events.append(event)
            self.printer.event(event)

    def stack_event(self, status: str, reason: str = "") -> None:
        """Set the stack's status, record the stack event and save the state."""
        with self.lock:
            self.state.status = status
            self.state.status_reason = reason
            self.save()
        self.emit(self.state.stack_name, STACK_RESOURCE_TYPE, status, self.state.stack_id, reason)

    def save(self) -> None:
        """Write the stack's state file."""
        with self.lock:
            self.store.save(self.state)

    def put(self, record: ResourceRecord) -> None:
        """Set a resource's record in the live state and save it."""
        with self.lock:
            self.state.resources[record.logical_id] = record
            self.save()

    def forget(self, logical_id: str) -> None:
        """Remove a resource from the live state and save it."""
        with self.lock:
            self.state.resources.pop(logical_id, None)
            self.save()

    def ref(self, logical_id: str) -> str:
        """Return ``Ref`` of a deployed resource: its physical id."""
        return self._available(logical_id).physical_id

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """Return ``Fn::GetAtt`` of a deployed resource."""
        record = self._available(logical_id)
        if attribute in record.attributes:
            return copy.deepcopy(record.attributes[attribute])
        if is_custom_resource(record.resource_type):
            raise TemplateError(
                f"CustomResource attribute error: Vendor response doesn't contain {attribute} "
                f"key in object {self.state.stack_id}|{logical_id}|{record.physical_id}"
            )
        return synthetic_attribute(record.physical_id, attribute)

    def _available(self, logical_id: str) -> ResourceRecord:
        with self.lock:
            record = self.state.resources.get(logical_id)
        if record is None or record.status.endswith("_FAILED"):
            raise TemplateError(f"resource {logical_id} is not available")
        return record

    def invoke(
        self,
        request_type: str,
        logical_id: str,
        resource_type: str,
        properties: dict[str, Any],
        *,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> Delivery:
        """Send one custom resource request to its function and wait for the outcome."""
        request_id = str(uuid.uuid4())
        payload: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": properties.get("ServiceToken"),
            "ResponseURL": self.invoker.recorder.new_url(
                self.state.stack_id, logical_id, request_id
            ),
            "StackId": self.state.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": properties,
        }
        if physical_id is not None:
            payload["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            payload["OldResourceProperties"] = old_properties
        event = CustomResourceEvent(payload)
        try:
            with self.lock:
                function = find_function(self.state.resources, properties.get("ServiceToken"))
            if function is None:
                raise DeliveryRefusedError(
                    f"ServiceToken {properties.get('ServiceToken')!r} names no Lambda function "
                    "of this stack; the local deployer invokes functions of the same stack only"
                )
            config = function_config(function, self.store)
            service_timeout = service_timeout_of(properties)
        except DeliveryRefusedError as exc:
            delivery = Delivery(
                event=event.redacted(),
                status="FAILED",
                reason=str(exc),
                failure_kind=FailureKind.NOT_INVOKED,
            )
        else:
            try:
                delivery = self.invoker.deliver(
                    self.state.stack_name,
                    event,
                    config,
                    service_timeout=service_timeout,
                    kill_when=self.kill_when,
                    cancel=self.cancel,
                )
            except OSError as exc:
                delivery = Delivery(
                    event=event.redacted(),
                    status="FAILED",
                    reason=f"the function's sandbox could not start: {exc}",
                    failure_kind=FailureKind.NOT_INVOKED,
                )
        with self.lock:
            self.deliveries.append(delivery)
            self.problems.extend(
                f"{logical_id} ({request_type}): {problem}" for problem in delivery.problems
            )
        if not delivery.succeeded:
            self._print_log_tail(delivery)
        return delivery

    def _print_log_tail(self, delivery: Delivery) -> None:
        if not delivery.attempts:
            return
        last = delivery.attempts[-1]
        self.printer.write(
            f"         last lines of {delivery.logical_id}'s handler log "
            f"({last.log_group_name} {last.log_stream_name}):"
        )
        for line in last.log_lines[-_LOG_TAIL_LINES:]:
            text = redact_text(line)
            self.printer.write(f"         | {text if len(text) <= 240 else text[:237] + '...'}")

    def _record(
        self,
        stack: StackArtifact,
        logical_id: str,
        resource_type: str,
        properties: dict[str, Any],
        template_resource: Mapping[str, Any],
        depends_on: list[str],
        previous: ResourceRecord | None,
    ) -> ResourceRecord | None:
        """Return the record of a resource the deployer only records (not a custom one).

        When the record cannot be made, emit the step's FAILED event and return None.
        """
        step = "CREATE" if previous is None else "UPDATE"
        try:
            if previous is not None and not needs_new_physical_id(
                resource_type, previous.properties, properties
            ):
                physical_id, attributes = previous.physical_id, previous.attributes
            else:
                physical_id, attributes = physical_resource(
                    resource_type, logical_id, properties, self.environment
                )
            code_path = None
            if resource_type == LAMBDA_FUNCTION_TYPE:
                code_path = self._publish_code(stack, logical_id, properties, template_resource)
        except DeployerError as exc:
            self.emit(logical_id, resource_type, f"{step}_FAILED", reason=str(exc))
            self._failed(logical_id)
            return None
        return ResourceRecord(
            logical_id=logical_id,
            resource_type=resource_type,
            physical_id=physical_id,
            status=f"{step}_COMPLETE",
            properties=properties,
            attributes=attributes,
            depends_on=depends_on,
            deletion_policy=str(template_resource.get("DeletionPolicy", "Delete")),
            update_replace_policy=str(template_resource.get("UpdateReplacePolicy", "Delete")),
            code_path=code_path,
        )

    def _publish_code(
        self,
        stack: StackArtifact,
        logical_id: str,
        properties: Mapping[str, Any],
        template_resource: Mapping[str, Any],
    ) -> str:
        code = properties.get("Code") or {}
        if isinstance(code.get("ZipFile"), str):
            digest = uuid.uuid5(uuid.NAMESPACE_URL, code["ZipFile"]).hex
            return self.store.publish_inline_code(f"inline-{digest}", code["ZipFile"])
        object_key = code.get("S3Key")
        if not isinstance(object_key, str):
            raise DeployerError(
                f"function {logical_id} has neither Code.S3Key nor Code.ZipFile; container "
                "images are not supported by the local deployer"
            )
        asset = stack.find_asset(object_key)
        if asset is not None:
            return self.store.publish_code(object_key, asset.source)
        asset_path = (template_resource.get("Metadata") or {}).get("aws:asset:path")
        if isinstance(asset_path, str) and stack.template_directory is not None:
            return self.store.publish_code(object_key, stack.template_directory / asset_path)
        if (self.store.directory / "assets" / object_key).is_dir():
            return f"assets/{object_key}"
        raise DeployerError(
            f"function {logical_id}'s code {object_key} is not an asset of this cloud assembly"
        )

    def apply(
        self,
        stack: StackArtifact,
        evaluator: Evaluator,
        included: list[str],
        dependencies: Mapping[str, set[str]],
    ) -> bool:
        """Create, update or leave alone each resource of the template, in dependency order.

        Returns True if every resource succeeded and the outputs resolved.
        """
        resources = stack.template.get("Resources") or {}

        def action(logical_id: str) -> bool:
            return self._apply_one(
                stack, evaluator, logical_id, resources[logical_id], dependencies[logical_id]
            )

        outcome = run_graph(
            included,
            dependencies,
            action,
            max_concurrency=self.max_concurrency,
            stop_on_failure=True,
            cancel=self.cancel,
        )
        if outcome.failed:
            return False
        try:
            outputs = self._resolve_outputs(stack, evaluator)
        except TemplateError as exc:
            self.stack_reason = str(exc)
            return False
        with self.lock:
            self.state.outputs = outputs
            self.save()
        return True

    def _resolve_outputs(self, stack: StackArtifact, evaluator: Evaluator) -> dict[str, Any]:
        outputs = {}
        for name, output in (stack.template.get("Outputs") or {}).items():
            condition = output.get("Condition")
            if condition is not None and not evaluator.condition(condition):
                continue
            outputs[name] = stringify_scalars(
                evaluator.resolve(output.get("Value"), f"Outputs.{name}.Value")
            )
        return outputs

    def _apply_one(
        self,
        stack: StackArtifact,
        evaluator: Evaluator,
        logical_id: str,
        template_resource: Mapping[str, Any],
        dependencies: set[str],
    ) -> bool:
        resource_type = str(template_resource.get("Type", ""))
        previous = self.previous.get(logical_id)
        failed_status = "CREATE_FAILED" if previous is None else "UPDATE_FAILED"
        try:
            properties = evaluator.resolve(
                template_resource.get("Properties") or {}, f"Resources.{logical_id}.Properties"
            )
        except TemplateError as exc:
            self.emit(logical_id, resource_type, failed_status, reason=str(exc))
            self._failed(logical_id)
            return False
        if is_custom_resource(resource_type):
            properties = stringify_scalars(properties)
        depends_on = sorted(dependencies)

        if previous is None:
            return self._create(
                stack, logical_id, resource_type, properties, template_resource, depends_on
            )
        if previous.resource_type != resource_type:
            self.emit(
                logical_id,
                resource_type,
                "UPDATE_FAILED",
                previous.physical_id,
                f"Update of resource type is not permitted. The new template modifies resource "
                f"type of resource {logical_id}.",
            )
            self._failed(logical_id)
            return False
        if properties == previous.properties:
            unchanged = copy.deepcopy(previous)
            unchanged.depends_on = depends_on
            unchanged.deletion_policy = str(template_resource.get("DeletionPolicy", "Delete"))
            unchanged.update_replace_policy = str(
                template_resource.get("UpdateReplacePolicy", "Delete")
            )
            self.put(unchanged)
            return True
        return self._update(
            stack, logical_id, resource_type, properties, template_resource, depends_on, previous
        )

    def _failed(self, logical_id: str) -> None:
        with self.lock:
            self.failed.append(logical_id)

    def _create(
        self,
        stack: StackArtifact,
        logical_id: str,
        resource_type: str,
        properties: dict[str, Any],
        template_resource: Mapping[str, Any],
        depends_on: list[str],
    ) -> bool:
        self.emit(logical_id, resource_type, "CREATE_IN_PROGRESS")
        if not is_custom_resource(resource_type):
            record = self._record(
                stack, logical_id, resource_type, properties, template_resource, depends_on, None
            )
            if record is None:
                return False
            self.put(record)
            with self.lock:
                self.created.append(logical_id)
            self.emit(logical_id, resource_type, "CREATE_COMPLETE", record.physical_id)
            return True

        delivery = self.invoke("Create", logical_id, resource_type, properties)
        policies: dict[str, Any] = {
            "deletion_policy": str(template_resource.get("DeletionPolicy", "Delete")),
            "update_replace_policy": str(template_resource.get("UpdateReplacePolicy", "Delete")),
        }
        if delivery.succeeded and delivery.physical_resource_id is not None:
            self.put(
                ResourceRecord(
                    logical_id=logical_id,
                    resource_type=resource_type,
                    physical_id=delivery.physical_resource_id,
                    status="CREATE_COMPLETE",
                    properties=properties,
                    attributes=delivery.data,
                    depends_on=depends_on,
                    **policies,
                )
            )
            with self.lock:
                self.created.append(logical_id)
            self.emit(logical_id, resource_type, "CREATE_COMPLETE", delivery.physical_resource_id)
            return True

        if delivery.failure_kind != FailureKind.NOT_INVOKED:
            # The handler ran, so something may exist: the rollback sends it a Delete, with
            # the physical id the handler answered or, failing that, a generated one.
            physical_id = delivery.physical_resource_id or generated_name(
                self.state.stack_name, logical_id
            )
            self.put(
                ResourceRecord(
                    logical_id=logical_id,
                    resource_type=resource_type,
                    physical_id=physical_id,
                    status="CREATE_FAILED",
                    properties=properties,
                    depends_on=depends_on,
                    **policies,
                )
            )
            with self.lock:
                self.created.append(logical_id)
        self.emit(
            logical_id,
            resource_type,
            "CREATE_FAILED",
            delivery.physical_resource_id or "",
            delivery.reason,
        )
        self._failed(logical_id)
        return False

    def _update(
        self,
        stack: StackArtifact,
        logical_id: str,
        resource_type: str,
        properties: dict[str, Any],
        template_resource: Mapping[str, Any],
        depends_on: list[str],
        previous: ResourceRecord,
    ) -> bool:
        self.emit(logical_id, resource_type, "UPDATE_IN_PROGRESS", previous.physical_id)
        if not is_custom_resource(resource_type):
            record = self._record(
                stack,
                logical_id,
                resource_type,
                properties,
                template_resource,
                depends_on,
                previous,
            )
            if record is None:
                return False
            self._updated(record, previous)
            self.emit(logical_id, resource_type, "UPDATE_COMPLETE", record.physical_id)
            return True

        if properties.get("ServiceToken") != previous.properties.get("ServiceToken"):
            self.emit(
                logical_id,
                resource_type,
                "UPDATE_FAILED",
                previous.physical_id,
                "Modifying service token is not allowed.",
            )
            self._failed(logical_id)
            return False
        delivery = self.invoke(
            "Update",
            logical_id,
            resource_type,
            properties,
            physical_id=previous.physical_id,
            old_properties=previous.properties,
        )
        if not delivery.succeeded or delivery.physical_resource_id is None:
            with self.lock:
                if delivery.failure_kind != FailureKind.NOT_INVOKED:
                    self.failed_updates[logical_id] = properties
            self.emit(
                logical_id, resource_type, "UPDATE_FAILED", previous.physical_id, delivery.reason
            )
            self._failed(logical_id)
            return False
        record = ResourceRecord(
            logical_id=logical_id,
            resource_type=resource_type,
            physical_id=delivery.physical_resource_id,
            status="UPDATE_COMPLETE",
            properties=properties,
            attributes=delivery.data,
            depends_on=depends_on,
            deletion_policy=str(template_resource.get("DeletionPolicy", "Delete")),
            update_replace_policy=str(template_resource.get("UpdateReplacePolicy", "Delete")),
        )
        if self._updated(record, previous):
            self.printer.progress(
                f"{logical_id}: the handler answered a new physical id, so this is a "
                f"replacement; {previous.physical_id} is deleted in the cleanup phase"
            )
        self.emit(logical_id, resource_type, "UPDATE_COMPLETE", record.physical_id)
        return True

    def _updated(self, record: ResourceRecord, previous: ResourceRecord) -> bool:
        """Record a successful update; return True if it was a replacement."""
        replaced = record.physical_id != previous.physical_id
        with self.lock:
            self.updated.append(record.logical_id)
            if replaced:
                self.replaced[record.logical_id] = previous
                self.replacements[record.logical_id] = copy.deepcopy(record)
        self.put(record)
        return replaced

    def delete_one(
        self,
        record: ResourceRecord,
        *,
        policy: str,
        remove_from_state: bool,
        rolling_back_create: bool,
    ) -> bool:
        """Delete one resource (or one replaced physical id); return True on success."""
        if policy == _RETAIN or (policy == _RETAIN_EXCEPT_ON_CREATE and not rolling_back_create):
            if remove_from_state:
                self.forget(record.logical_id)
            self.emit(record.logical_id, record.resource_type, "DELETE_SKIPPED", record.physical_id)
            return True
        self.emit(record.logical_id, record.resource_type, "DELETE_IN_PROGRESS", record.physical_id)
        if is_custom_resource(record.resource_type):
            delivery = self.invoke(
                "Delete",
                record.logical_id,
                record.resource_type,
                record.properties,
                physical_id=record.physical_id,
            )
            if not delivery.succeeded:
                self.emit(
                    record.logical_id,
                    record.resource_type,
                    "DELETE_FAILED",
                    record.physical_id,
                    delivery.reason,
                )
                return False
        if remove_from_state:
            self.forget(record.logical_id)
        self.emit(record.logical_id, record.resource_type, "DELETE_COMPLETE", record.physical_id)
        return True

    def delete_all(
        self, records: list[ResourceRecord], *, rolling_back_create: bool
    ) -> GraphOutcome:
        """Delete ``records`` in reverse dependency order; a failure keeps what it needs."""
        by_id = {record.logical_id: record for record in records}

        def action(logical_id: str) -> bool:
            record = by_id[logical_id]
            return self.delete_one(
                record,
                policy=record.deletion_policy,
                remove_from_state=True,
                rolling_back_create=rolling_back_create,
            )

        return run_graph(
            list(by_id),
            {record.logical_id: set(record.depends_on) for record in records},
            action,
            max_concurrency=self.max_concurrency,
            reverse=True,
            stop_on_failure=False,
            cancel=self.cancel,
        )

    def cleanup_after_update(self, included: list[str]) -> None:
        """Delete removed resources and the physical ids that replacements superseded."""
        removed = [record for lid, record in self.previous.items() if lid not in included]
        plan: dict[str, tuple[ResourceRecord, str, bool]] = {
            record.logical_id: (record, record.deletion_policy, True) for record in removed
        }
        for logical_id, old in self.replaced.items():
            policy = self.state.resources[logical_id].update_replace_policy
            plan[logical_id] = (old, policy, False)
        self._cleanup(plan, rolling_back_create=False)

    def cleanup_after_rollback(self) -> None:
        """Delete what the failed update created, replacements' new physical ids included."""
        plan: dict[str, tuple[ResourceRecord, str, bool]] = {}
        for logical_id in self.created:
            record = self.state.resources.get(logical_id)
            if record is not None:
                plan[logical_id] = (record, record.deletion_policy, True)
        for logical_id, replacement in self.replacements.items():
            current = self.state.resources.get(logical_id)
            if current is None or current.physical_id != replacement.physical_id:
                plan[logical_id] = (replacement, "Delete", False)
        self._cleanup(plan, rolling_back_create=True)

    def _cleanup(
        self, plan: dict[str, tuple[ResourceRecord, str, bool]], *, rolling_back_create: bool
    ) -> None:
        def action(logical_id: str) -> bool:
            record, policy, remove_from_state = plan[logical_id]
            deleted = self.delete_one(
                record,
                policy=policy,
                remove_from_state=remove_from_state,
                rolling_back_create=rolling_back_create,
            )
            if not deleted:
                # CloudFormation goes on: the cleanup failure leaves the resource behind.
                if remove_from_state:
                    self.forget(logical_id)
                with self.lock:
                    self.problems.append(
                        f"{logical_id}: the cleanup Delete of {record.physical_id} failed; that "
                        "resource may still exist"
                    )
            return deleted

        run_graph(
            list(plan),
            {logical_id: set(entry[0].depends_on) for logical_id, entry in plan.items()},
            action,
            max_concurrency=self.max_concurrency,
            reverse=True,
            stop_on_failure=False,
            failures_block=False,
            cancel=self.cancel,
        )

    def roll_back_updates(self) -> list[str]:
        """Update every updated resource (the failed one included) back to its previous
        properties, in the previous template's dependency order.

        Returns the logical ids whose rollback failed.
        """
        logical_ids = list(dict.fromkeys([*self.updated, *self.failed_updates]))

        def action(logical_id: str) -> bool:
            return self._roll_back_one(logical_id)

        outcome = run_graph(
            logical_ids,
            {lid: set(self.previous[lid].depends_on) for lid in logical_ids},
            action,
            max_concurrency=self.max_concurrency,
            stop_on_failure=False,
            cancel=self.cancel,
        )
        return outcome.failed + outcome.not_started

    def _roll_back_one(self, logical_id: str) -> bool:
        previous = self.previous[logical_id]
        with self.lock:
            current = copy.deepcopy(self.state.resources[logical_id])
            attempted = self.failed_updates.get(logical_id, current.properties)
        self.emit(logical_id, previous.resource_type, "UPDATE_IN_PROGRESS", current.physical_id)
        restored = copy.deepcopy(previous)
        restored.status = "UPDATE_COMPLETE"
        if is_custom_resource(previous.resource_type):
            delivery = self.invoke(
                "Update",
                logical_id,
                previous.resource_type,
                previous.properties,
                physical_id=current.physical_id,
                old_properties=attempted,
            )
            if not delivery.succeeded or delivery.physical_resource_id is None:
                self.emit(
                    logical_id,
                    previous.resource_type,
                    "UPDATE_FAILED",
                    current.physical_id,
                    delivery.reason,
                )
                return False
            restored.physical_id = delivery.physical_resource_id
            restored.attributes = delivery.data
            if restored.physical_id not in (previous.physical_id, current.physical_id):
                with self.lock:
                    self.problems.append(
                        f"{logical_id}: the rollback Update answered physical id "
                        f"{restored.physical_id}, not {previous.physical_id} (the one before "
                        "the update); the stack no longer tracks the latter"
                    )
        self.put(restored)
        self.emit(logical_id, previous.resource_type, "UPDATE_COMPLETE", restored.physical_id)
        return True

    def failure_reason(self) -> str:
        """Return the stack status reason CloudFormation gives after a failed forward phase."""
        if not self.failed:
            return self.stack_reason
        creates = [lid for lid in self.failed if lid not in self.previous]
        updates = [lid for lid in self.failed if lid in self.previous]
        parts = []
        if creates:
            parts.append(f"The following resource(s) failed to create: [{', '.join(creates)}].")
        if updates:
            parts.append(f"The following resource(s) failed to update: [{', '.join(updates)}].")
        return " ".join(parts)
