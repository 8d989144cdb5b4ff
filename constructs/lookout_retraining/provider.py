"""The per-stack provider that every RetrainingScheduler in a stack shares.

One Lambda function serves all schedulers of a stack, with its own log group, a role that can
write only to that log group, and managed policies that grant the six retraining-scheduler
actions on exactly the models the stack declares. The model ARNs are packed into as few managed
policies as IAM's size quotas allow.

Each grant policy's logical id is derived from its content. When a model leaves a policy (a
scheduler is removed, or its ``model_name`` changes and the scheduler is replaced), CloudFormation
creates the new policy during the update and deletes the old one only in the clean-up phase,
after the custom resource that depends on it has deleted its scheduler. An in-place policy update
would instead revoke the old model's grant before that Delete runs, and the Delete would fail with
AccessDenied while the stack still reports UPDATE_COMPLETE.

The models are packed in declaration order, so each policy holds a run of consecutive models. A
deployment replaces the first grant policy whose models change and every later one whose run
moves: removing or inserting a scheduler shifts every model after it, and so does a new
``model_name`` of another length; with names of similar length, every later policy changes.
Appending schedulers at the end of the declaration order replaces at most the last policy, plus
the new ones it adds. CloudFormation attaches every replacement before it detaches the policies
replaced, so during the update the role holds the old policies and the new ones together, and
IAM attaches at most 10 managed policies to a role: a stack with at most 5 grant policies before
and after can make any change in one deployment, while with more an early change can exceed the
quota and fail the update. Synthesis warns of such a stack (``GRANT_POLICIES_WARNING_ID``).

A model name that is a token (a CfnParameter, say) gets its value only at deploy time, so a new
value changes neither the template nor the logical id. Such names are also listed in the policy's
description, which IAM cannot change: CloudFormation replaces the policy whenever one of them
resolves to a new value, with the same order of creation and deletion as above.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import (
    Annotations,
    ArnFormat,
    Duration,
    IAnyProducer,
    IResolveContext,
    IStringProducer,
    Lazy,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IValidation

from lookout_retraining.bundling import handler_code
from lookout_retraining.tokens import is_unresolved
from lookout_retraining_handler import rules

if TYPE_CHECKING:
    from collections.abc import Sequence

PROVIDER_ID = "LookoutRetraining"
"""Construct id of the provider under its stack; short, because every custom resource's
ServiceToken names the function's logical id, which starts with it."""

PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
"""The newest Python runtime that the pinned aws-cdk-lib offers."""

HANDLER = "lookout_retraining_handler.handler.handler"

DEFAULT_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

# The handler's longest job is a Delete: StopRetrainingScheduler, wait for STOPPED (the API
# refuses DeleteRetrainingScheduler before that), then delete. Five minutes leave that wait ample
# room. The handler keeps its own deadline a few seconds short of the Lambda timeout and answers
# FAILED when it runs out, so every event it receives gets its response from the Lambda itself.
# ServiceTimeout matters only when no response comes at all (an import error, a crash before the
# handler starts): CloudFormation then fails the resource after six minutes instead of its
# default hour. The extra minute over the Lambda timeout covers the asynchronous invocation's
# queueing and a response sent in the Lambda's last seconds, so the Lambda always answers first.
LAMBDA_TIMEOUT = Duration.minutes(5)
SERVICE_TIMEOUT = Duration.minutes(6)

LAMBDA_MEMORY_MIB = 256
"""Lambda allots CPU in proportion to memory; twice the 128 MiB default gives the cold start's
imports (boto3, crhelper) twice the CPU."""

SCHEDULER_ACTIONS = tuple(
    f"lookoutequipment:{verb}RetrainingScheduler"
    for verb in ("Create", "Describe", "Update", "Start", "Stop", "Delete")
)

# IAM quotas (IAM User Guide, "IAM and AWS STS quotas"): characters of the policy JSON without
# whitespace. The per-role managed policy count is the default, adjustable quota.
MANAGED_POLICY_MAX_CHARACTERS = 6_144
MANAGED_POLICIES_PER_ROLE = 10
MAX_GRANT_POLICIES = MANAGED_POLICIES_PER_ROLE - 1
"""One attachment stays free, so that a stack holding the most grant policies can still deploy a
change that replaces only its last one (appending a scheduler, say): an update attaches a
replacement before it detaches the policy replaced. A change earlier in the declaration order
replaces more policies (see the module's docstring)."""
GRANT_POLICIES_ANY_CHANGE = MANAGED_POLICIES_PER_ROLE // 2
"""The most grant policies, before and after a change, with which every change deploys: replacing
all of them attaches as many again."""
GRANT_POLICIES_WARNING_ID = "lookout-retraining:grantPoliciesPerRole"
"""The id of the synth warning on a stack with more than ``GRANT_POLICIES_ANY_CHANGE`` grant
policies; ``Annotations.of(stack).acknowledge_warning()`` with it silences the warning."""
MANAGED_POLICY_DESCRIPTION_MAX_CHARACTERS = 1_000
"""AWS::IAM::ManagedPolicy Description: at most 1,000 characters; a change requires replacement."""

# The longest value each unresolved part of a model ARN can take, for sizing policies at synth.
PARTITION_MAX_LENGTH = len("aws-us-gov")
REGION_MAX_LENGTH = 25
"""No published maximum; the longest region code in use is 15 characters (us-isof-south-1)."""
ACCOUNT_ID_LENGTH = 12
MODEL_NAME_MAX_LENGTH = 200

GRANT_DESCRIPTION = "Lookout for Equipment retraining schedulers declared in this stack"
_DEPLOY_TIME_MODELS_NOTE = "; models given at deploy time: "
_MODEL_NAMES_SEPARATOR = ", "
TOKEN_MODELS_PER_POLICY = (
    MANAGED_POLICY_DESCRIPTION_MAX_CHARACTERS
    - len(GRANT_DESCRIPTION)
    - len(_DEPLOY_TIME_MODELS_NOTE)
    + len(_MODEL_NAMES_SEPARATOR)
) // (MODEL_NAME_MAX_LENGTH + len(_MODEL_NAMES_SEPARATOR))
"""The most model names that are tokens one grant policy's description can list, each counted
at the longest a model name can be."""

_MODEL_ARN_PREFIX_VARIABLE = "M"
_MODEL_NAME_VARIABLE_PREFIX = "N"
_ARN_SEPARATOR = ","
_POLICY_VERSION = "2012-10-17"
# The namespace CDK gives acknowledgements without a plugin prefix; cdk-nag accepts it.
_ANNOTATION_NAMESPACE = "Annotation"


class SchedulerCapacityError(rules.PropertyValidationError):
    """The stack already declares as many schedulers as IAM's quotas let one role grant."""


def _managed_policy_document(resources: object) -> dict[str, Any]:
    return {
        "Version": _POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Action": list(SCHEDULER_ACTIONS), "Resource": resources},
        ],
    }


_EMPTY_DOCUMENT_CHARACTERS = len(json.dumps(_managed_policy_document([]), separators=(",", ":")))


@dataclass(frozen=True)
class _ArnLimits:
    """The longest partition, region and account id a stack's model ARNs can hold."""

    partition: int
    region: int
    account: int

    @classmethod
    def of(cls, stack: Stack) -> _ArnLimits:
        return cls(
            partition=_longest(stack.partition, PARTITION_MAX_LENGTH),
            region=_longest(stack.region, REGION_MAX_LENGTH),
            account=_longest(stack.account, ACCOUNT_ID_LENGTH),
        )

    def arn_characters(self, model_name: str) -> int:
        """Characters of ``"arn:P:lookoutequipment:R:A:model/<name>/*"`` with its quotes."""
        name_length = _longest(model_name, MODEL_NAME_MAX_LENGTH)
        fixed = len("arn::lookoutequipment:::model//*") + len('""')
        return fixed + self.partition + self.region + self.account + name_length


def _longest(value: str, maximum: int) -> int:
    return maximum if is_unresolved(value) else len(value)


class _GrantPolicy(Construct):
    """A managed policy that grants the scheduler actions on a group of models."""

    def __init__(self, scope: Construct, id: str, *, role: iam.IRole, limits: _ArnLimits) -> None:
        super().__init__(scope, id)
        self._limits = limits
        self._model_names: list[str] = []
        self._token_model_names: list[str] = []
        self._characters = _EMPTY_DOCUMENT_CHARACTERS
        self._logical_id_cache: tuple[int, str] | None = None
        stack = Stack.of(self)
        self._model_arn_prefix = stack.format_arn(
            service="lookoutequipment",
            resource="model",
            resource_name="",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        self.resource = iam.CfnManagedPolicy(
            self,
            "Resource",
            # Lists the model names that are tokens: a new value replaces the policy (see the
            # module's docstring).
            description=Lazy.uncached_string(_DescriptionProducer(self)),
            roles=[role.role_name],
            policy_document=Lazy.uncached_any(_DocumentProducer(self)),
        )
        self.resource.override_logical_id(
            Lazy.uncached_string(_ContentLogicalIdProducer(self, f"{PROVIDER_ID}Grant"))
        )
        # cdk-nag names each IAM5 finding by the full Resource value, which is final only once
        # every scheduler is declared and cross-stack references are resolved: construct
        # validation runs then, after CDK's prepare step and before the validation plugins.
        self.node.add_validation(_AcknowledgeModelIdWildcards(self))

    @property
    def model_names(self) -> Sequence[str]:
        """The model names this policy grants, in declaration order (tokens included)."""
        return tuple(self._model_names)

    @property
    def estimated_characters(self) -> int:
        """The longest the resolved policy can be, in IAM's count (JSON without whitespace)."""
        return self._characters

    def characters_with(self, model_name: str) -> int:
        """The policy's estimated size once ``model_name`` is added."""
        separator = 1 if self._model_names else 0
        return self._characters + separator + self._limits.arn_characters(model_name)

    def fits(self, model_name: str) -> bool:
        """Whether ``model_name`` fits in this policy's size and description quotas."""
        tokens = len(self._token_model_names) + (1 if is_unresolved(model_name) else 0)
        return (
            self.characters_with(model_name) <= MANAGED_POLICY_MAX_CHARACTERS
            and tokens <= TOKEN_MODELS_PER_POLICY
        )

    def add(self, model_name: str) -> None:
        self._characters = self.characters_with(model_name)
        self._model_names.append(model_name)
        if is_unresolved(model_name):
            self._token_model_names.append(model_name)

    def render_description(self) -> str:
        """The description: fixed, then the model names that are tokens, if any."""
        if not self._token_model_names:
            return GRANT_DESCRIPTION
        listed = _MODEL_NAMES_SEPARATOR.join(self._token_model_names)
        return f"{GRANT_DESCRIPTION}{_DEPLOY_TIME_MODELS_NOTE}{listed}"

    def render_resources(self) -> dict[str, Any]:
        """The Resource element: one Fn::Sub of all ARNs, split into a list.

        The shared prefix ``arn:<partition>:lookoutequipment:<region>:<account>:model/`` is a
        single substitution variable, so each model adds only its name to the template. Model
        names cannot hold ``,``, ``$`` or braces, so literal names go in verbatim; a token
        becomes a variable of its own.
        """
        variables: dict[str, object] = {_MODEL_ARN_PREFIX_VARIABLE: self._model_arn_prefix}
        arns = []
        for model_name in self._model_names:
            if model_name in self._token_model_names:
                variable = f"{_MODEL_NAME_VARIABLE_PREFIX}{len(variables) - 1}"
                variables[variable] = model_name
                model_name = f"${{{variable}}}"
            arns.append(f"${{{_MODEL_ARN_PREFIX_VARIABLE}}}{model_name}/*")
        return {"Fn::Split": [_ARN_SEPARATOR, {"Fn::Sub": [_ARN_SEPARATOR.join(arns), variables]}]}

    def acknowledge_wildcard_finding(self, reason: str) -> None:
        """Acknowledge the AwsSolutions-IAM5 finding on the current Resource value.

        cdk-nag names the finding ``AwsSolutions-IAM5[Resource::<JSON of the Resource>]`` when
        the Resource is an intrinsic function, and matches acknowledgements by that exact id.
        """
        resolved = Stack.of(self).resolve(self.render_resources())
        rendered = json.dumps(resolved, separators=(",", ":"), ensure_ascii=False)
        # The entry Validations.of(self).acknowledge() records, without the stack trace it adds:
        # captured during validation, that trace names the jsii kernel's temporary folder, and
        # the cloud assembly would differ from one synth to the next.
        self.node.add_metadata(
            Validations.ACKNOWLEDGED_RULES_METADATA_KEY,
            {f"{_ANNOTATION_NAMESPACE}::AwsSolutions-IAM5[Resource::{rendered}]": reason},
        )

    def content_logical_id(self, prefix: str) -> str:
        version = len(self._model_names)
        if self._logical_id_cache is not None and self._logical_id_cache[0] == version:
            return self._logical_id_cache[1]
        resolved = Stack.of(self).resolve(_managed_policy_document(self.render_resources()))
        digest = hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()
        logical_id = f"{prefix}{digest[:8].upper()}"
        self._logical_id_cache = (version, logical_id)
        return logical_id


@jsii.implements(IValidation)
class _AcknowledgeModelIdWildcards:
    """Acknowledge cdk-nag's AwsSolutions-IAM5 finding on a grant policy, by its exact id.

    It reports no error: construct validation is simply the last moment before synthesis at
    which the policy's Resource value is final.
    """

    REASON = (
        "Each resource is the ARN of one model that a scheduler in this stack declares, "
        "arn:<partition>:lookoutequipment:<region>:<account>:model/<ModelName>/*; the trailing "
        "* stands for the model id that the service appends to the ARN when it creates the "
        "model, which the stack cannot know"
    )

    def __init__(self, policy: _GrantPolicy) -> None:
        self._policy = policy

    def validate(self) -> list[str]:
        self._policy.acknowledge_wildcard_finding(self.REASON)
        return []


@jsii.implements(IValidation)
class _WarnOfGrantPolicyReplacements:
    """Warn when the stack has more grant policies than every update can replace at once.

    It reports no error: construct validation runs once every scheduler is declared, when the
    number of grant policies is final.
    """

    def __init__(self, provider: RetrainingSchedulerProvider) -> None:
        self._provider = provider

    def validate(self) -> list[str]:
        self._provider.warn_if_updates_can_exceed_policy_quota()
        return []


@jsii.implements(IStringProducer)
class _DescriptionProducer:
    def __init__(self, policy: _GrantPolicy) -> None:
        self._policy = policy

    def produce(self, context: IResolveContext) -> str:
        return self._policy.render_description()


@jsii.implements(IAnyProducer)
class _DocumentProducer:
    def __init__(self, policy: _GrantPolicy) -> None:
        self._policy = policy

    def produce(self, context: IResolveContext) -> Any:
        return _managed_policy_document(self._policy.render_resources())


@jsii.implements(IStringProducer)
class _ContentLogicalIdProducer:
    def __init__(self, policy: _GrantPolicy, prefix: str) -> None:
        self._policy = policy
        self._prefix = prefix

    def produce(self, context: IResolveContext) -> str:
        return self._policy.content_logical_id(self._prefix)


# Each stack's provider, so that each new scheduler finds it without a search through jsii.
_PROVIDERS: weakref.WeakKeyDictionary[Stack, RetrainingSchedulerProvider] = (
    weakref.WeakKeyDictionary()
)


class RetrainingSchedulerProvider(Construct):
    """The Lambda function, log group, role and grants shared by a stack's schedulers.

    Schedulers obtain it with :meth:`of`; there is one per stack, at the stack's top level under
    the id ``LookoutRetraining``.

    Attributes
    ----------
    function:
        The Lambda function that handles every scheduler's lifecycle events.
    role:
        Its role: log permissions inline, scheduler grants in managed policies.
    log_group:
        The function's log group.
    log_retention:
        The retention of that log group, which every scheduler in the stack must agree on.
    """

    def __init__(self, scope: Construct, id: str, *, log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        self.log_retention = log_retention
        self._grants: list[_GrantPolicy] = []
        # The scheduler that declared each model name, literal or token: two schedulers on one
        # token resolve to one model, and the second Create would fail at deploy time. The path
        # is read only for an error message, as every read of it is a round trip to jsii.
        self._owners: dict[str, Construct] = {}
        self._arn_limits = _ArnLimits.of(Stack.of(self))

        # Retained: when a first deployment fails, CloudFormation deletes what it created during
        # the rollback, and with the log group would go the only record of why the handler failed.
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Lookout for Equipment retraining scheduler provider",
            inline_policies={
                "Logs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[self.log_group.log_group_arn],
                        )
                    ]
                )
            },
        )
        self.function = lambda_.Function(
            self,
            "Handler",
            description="Custom resource handler for Lookout for Equipment retraining schedulers",
            runtime=PYTHON_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=handler_code(),
            role=self.role,
            log_group=self.log_group,
            timeout=LAMBDA_TIMEOUT,
            memory_size=LAMBDA_MEMORY_MIB,
            environment={
                "LOG_LEVEL": "INFO",
                # crhelper builds Lambda, EventBridge and CloudWatch Logs clients in CfnResource's
                # constructor for its polling mode unless AWS_SAM_LOCAL is set; this handler never
                # polls, and those clients cost about 30% of a cold start. The variable changes
                # nothing else in crhelper.
                "AWS_SAM_LOCAL": "true",
            },
        )
        self.node.add_validation(_WarnOfGrantPolicyReplacements(self))
        _PROVIDERS[Stack.of(self)] = self
        # Read once: every scheduler's ServiceToken is this same ARN.
        self.service_token = self.function.function_arn
        """The function ARN that each custom resource names as its ServiceToken."""

    @classmethod
    def find(cls, scope: Construct) -> RetrainingSchedulerProvider | None:
        """Return the provider of ``scope``'s stack, or None if no scheduler created it yet."""
        stack = Stack.of(scope)
        known = _PROVIDERS.get(stack)
        if known is not None:
            return known
        existing = stack.node.try_find_child(PROVIDER_ID)
        if existing is None:
            return None
        if not isinstance(existing, RetrainingSchedulerProvider):
            raise ValueError(
                f"The construct id {PROVIDER_ID!r} at the top of stack "
                f"{stack.node.path!r} is taken by {existing.node.path!r}; "
                "RetrainingScheduler keeps its shared Lambda function there, so rename that "
                "construct"
            )
        return existing

    @classmethod
    def of(
        cls, scope: Construct, *, log_retention: logs.RetentionDays
    ) -> RetrainingSchedulerProvider:
        """Return the provider of ``scope``'s stack, creating it on first use."""
        existing = cls.find(scope)
        if existing is not None:
            return existing
        return cls(Stack.of(scope), PROVIDER_ID, log_retention=log_retention)

    @classmethod
    def check_new_scheduler(
        cls, scope: Construct, *, model_name: str, log_retention: logs.RetentionDays
    ) -> RetrainingSchedulerProvider | None:
        """Refuse a scheduler that the stack's provider could not take, before it exists.

        Returns
        -------
        RetrainingSchedulerProvider or None
            The stack's provider, or None if no scheduler created it yet.

        Raises
        ------
        PropertyValidationError
            If another scheduler in the stack already declares the same ``model_name`` (the
            same literal, or the same token), or asked for another ``log_retention``.
        SchedulerCapacityError
            If the stack's grants are full: IAM's quotas allow no more model ARNs on one role.
        """
        provider = cls.find(scope)
        if provider is not None:
            provider._check(model_name, log_retention)
        return provider

    @property
    def grant_policies(self) -> Sequence[iam.CfnManagedPolicy]:
        """The managed policies that grant the scheduler actions, in packing order."""
        return tuple(grant.resource for grant in self._grants)

    @property
    def estimated_grant_characters(self) -> Sequence[int]:
        """Each grant policy's largest possible size in IAM's count, in packing order.

        Unresolved parts count at their longest: partition 10, region 25, account 12 and model
        name 200 characters.
        """
        return tuple(grant.estimated_characters for grant in self._grants)

    @property
    def model_names(self) -> Sequence[str]:
        """Every model name granted, in declaration order (tokens included)."""
        return tuple(name for grant in self._grants for name in grant.model_names)

    def add_scheduler(self, model_name: str, owner: Construct) -> iam.CfnManagedPolicy:
        """Grant the handler the scheduler actions on ``model_name``.

        Returns
        -------
        iam.CfnManagedPolicy
            The policy that holds the grant, which the scheduler's custom resource must depend
            on so that the grant outlives the scheduler's Delete.

        Raises
        ------
        PropertyValidationError, SchedulerCapacityError
            As :meth:`check_new_scheduler`.
        """
        self._check(model_name, self.log_retention)
        grant = self._grant_with_room_for(model_name)
        grant.add(model_name)
        self._owners[model_name] = owner
        return grant.resource

    def warn_if_updates_can_exceed_policy_quota(self) -> None:
        """Warn, at synth, when an update of the stack can hold too many policies on the role.

        With more than ``GRANT_POLICIES_ANY_CHANGE`` grant policies, a change early in the
        declaration order replaces so many that the old and new ones together exceed
        ``MANAGED_POLICIES_PER_ROLE`` (see the module's docstring).
        """
        count = len(self._grants)
        if count <= GRANT_POLICIES_ANY_CHANGE:
            return
        Annotations.of(self).add_warning_v2(
            GRANT_POLICIES_WARNING_ID,
            f"The {len(self.model_names)} retraining schedulers of stack "
            f"{Stack.of(self).node.path!r} use {count} grant policies (managed policies on the "
            "provider's role), which hold the models in declaration order. A deployment that "
            "removes or inserts a scheduler, or gives one a model_name of another length, "
            "replaces that scheduler's policy and every later one, and the role holds the old "
            "and the new policies together until the update completes: when the policies before "
            "and after such a change add up to more than IAM's "
            f"{MANAGED_POLICIES_PER_ROLE} managed policies per role, the update fails and rolls "
            "back. Adding schedulers, or removing the last ones, replaces at most the last "
            "policy, and running=False pauses a scheduler without removing it. To change an "
            "earlier scheduler, first move the "
            "last schedulers to another stack until this one has at most "
            f"{GRANT_POLICIES_ANY_CHANGE} grant policies, or ask AWS for a higher quota of "
            "managed policies per role.",
        )

    def _check(self, model_name: str, log_retention: logs.RetentionDays) -> None:
        if log_retention != self.log_retention:
            raise rules.PropertyValidationError(
                "log_retention",
                log_retention,
                f"log_retention {log_retention.name} differs from {self.log_retention.name}, "
                f"which another scheduler in stack {Stack.of(self).node.path!r} chose: the "
                "schedulers of a stack share one Lambda log group, so give them all the same "
                "log_retention",
            )
        owner = self._owners.get(model_name)
        if owner is not None:
            raise rules.PropertyValidationError(
                "model_name",
                model_name,
                f"model_name {rules.echo(model_name)} already has a scheduler in this stack, "
                f"{owner.node.path!r}: the service allows one retraining scheduler per model",
            )
        if self._fits_last_grant(model_name) or len(self._grants) < MAX_GRANT_POLICIES:
            return
        raise SchedulerCapacityError(
            "model_name",
            model_name,
            f"model_name {rules.echo(model_name)} does not fit: the {len(self.model_names)} "
            f"schedulers already in stack {Stack.of(self).node.path!r} fill "
            f"{MAX_GRANT_POLICIES} managed policies of at most {MANAGED_POLICY_MAX_CHARACTERS} "
            f"characters, each listing at most {TOKEN_MODELS_PER_POLICY} model names given as "
            f"tokens in its description (IAM attaches at most {MANAGED_POLICIES_PER_ROLE} to a "
            "role, and one stays free so that a change to the last policy can deploy), so "
            f"{len(self.model_names)} models with names like these is the most one stack can "
            "grant; declare the other schedulers in another stack",
        )

    def _fits_last_grant(self, model_name: str) -> bool:
        if not self._grants:
            return False
        return self._grants[-1].fits(model_name)

    def _grant_with_room_for(self, model_name: str) -> _GrantPolicy:
        if self._fits_last_grant(model_name):
            return self._grants[-1]
        grant = _GrantPolicy(
            self, f"Grant{len(self._grants)}", role=self.role, limits=self._arn_limits
        )
        self._grants.append(grant)
        return grant
