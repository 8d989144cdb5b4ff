"""The provider's grants against what the handler did: needed, sufficient, and scoped.

IAM is not emulated, so this test plays it. A stack goes through every handler path (create,
a scheduler declared stopped, an in-place update, a start, a replacement by a literal model
name and one by a CfnParameter, destroy). For each stack operation the test knows the grant
policies before and after (the deployer's state) and when each policy appeared, changed or
went away (its stack events); so, for every call the handler made (the emulator's call log,
signed with the deployer's own access key), it can tell which policies were attached to the
function's role at that moment and whether one allowed that action on that model's ARN. Then:

- every call was allowed at the time it was made, by the role of the function that made it;
- every action the policies grant was used;
- every granted resource is the ARN pattern of a model the deployed template declares.

The suite-wide audit (``tests/support/suite_audit.py``) checks, for every handler run of the
whole suite, that each call is one of :data:`suite_audit.POLICY_OPERATIONS`; this test also
checks that that set is exactly what the synthesized policy grants.
"""

from __future__ import annotations

import fnmatch
import math
import time
from dataclasses import dataclass

import pytest
from end_to_end import Declared, answered_once, synthesize
from suite_audit import POLICY_OPERATIONS

pytestmark = [pytest.mark.synth]

STACK = "PolicyStack"
POLICY_TYPE = "AWS::IAM::ManagedPolicy"
SCHEDULER_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"
ARN_PREFIX = "arn:aws:lookoutequipment:us-east-1:123456789012:model/"
VERSION_1 = (
    Declared("Alpha", "alpha-1"),
    Declared("Beta", "beta-1", "P45D", running=False),
    Declared("Gamma", "gamma-1", model_parameter="GammaModel"),
)
VERSION_2 = (
    VERSION_1[0].changed(model_name="alpha-2"),
    VERSION_1[1].changed(frequency="P60D", running=True),
    VERSION_1[2],
)


@dataclass(frozen=True)
class Grant:
    """A policy's statements, attached to a role from ``start`` to ``end`` (epoch seconds)."""

    policy: str
    roles: tuple[str, ...]
    statements: tuple[dict, ...]
    start: float
    end: float

    def allows(self, role: str, action: str, arn: str, at: float) -> bool:
        if not self.start <= at <= self.end or role not in self.roles:
            return False
        return any(
            statement["Effect"] == "Allow"
            and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in statement["Action"])
            and any(fnmatch.fnmatchcase(arn, resource) for resource in statement["Resource"])
            for statement in self.statements
        )


@dataclass
class Operation:
    """One deploy or destroy: the state around it, its events and its time span."""

    before: object
    after: object
    result: object
    started: float
    finished: float


def policies(state):
    if state is None:
        return {}
    return {r.physical_id: r for r in state.resources.values() if r.resource_type == POLICY_TYPE}


def event_times(result, physical_id, statuses):
    return [
        event.timestamp.timestamp()
        for event in result.events
        if event.resource_type == POLICY_TYPE
        and event.physical_id == physical_id
        and event.status in statuses
    ]


def grants_of(operation):
    """Return the grants in effect during an operation, with when each began and ended.

    A policy updated in place changes at once: its old statements end when its update starts,
    its new ones begin when the update completes. A policy replaced or removed keeps its
    statements until its deletion starts (in the cleanup phase, or during a destroy).
    """
    before, after = policies(operation.before), policies(operation.after)
    grants = []
    for physical_id, record in before.items():
        ending = ("UPDATE_IN_PROGRESS",) if physical_id in after else ("DELETE_IN_PROGRESS",)
        ends = event_times(operation.result, physical_id, ending)
        grants.append(grant(record, -math.inf, min(ends, default=math.inf)))
    for physical_id, record in after.items():
        starts = event_times(operation.result, physical_id, ("CREATE_COMPLETE", "UPDATE_COMPLETE"))
        grants.append(grant(record, max(starts, default=-math.inf), math.inf))
    return grants


def grant(record, start, end):
    document = record.properties["PolicyDocument"]
    return Grant(
        record.logical_id,
        tuple(record.properties.get("Roles", ())),
        tuple(document["Statement"]),
        start,
        end,
    )


def function_role(state):
    """Return the role name of the stack's one Lambda function."""
    (function,) = [
        r for r in state.resources.values() if r.resource_type == "AWS::Lambda::Function"
    ]
    return str(function.properties["Role"]).rsplit("/", 1)[-1]


def declared_models(state):
    return {
        r.properties["ModelName"]
        for r in state.resources.values()
        if r.resource_type == SCHEDULER_TYPE
    }


def run(deployer, action, *args, **kwargs):
    before = deployer.stack_state(STACK)
    started = time.time()
    result = action(*args, **kwargs)
    finished = time.time()
    assert result.succeeded, (result.status, result.status_reason)
    return Operation(before, deployer.stack_state(STACK), result, started, finished)


@pytest.mark.slow
def test_handler_calls_all_allowed_every_grant_used_and_scoped_to_declared_models(
    emulator, deployer_for, tmp_path, reliability_figures
):
    for model in ("alpha-1", "alpha-2", "beta-1", "gamma-1", "gamma-2"):
        emulator.create_model(model)
    first = synthesize(tmp_path / "v1", STACK, VERSION_1)
    second = synthesize(tmp_path / "v2", STACK, VERSION_2)
    deployer = deployer_for()
    key = deployer.credentials["AWS_ACCESS_KEY_ID"]

    operations = [
        run(deployer, deployer.deploy, STACK, assembly_dir=first.outdir),
        run(deployer, deployer.deploy, STACK, assembly_dir=second.outdir),
        # A new parameter value changes no template, yet the old scheduler's cleanup Delete
        # still needs its grant: the policy must be replaced, not updated in place.
        run(
            deployer,
            deployer.deploy,
            STACK,
            assembly_dir=second.outdir,
            parameters={"GammaModel": "gamma-2"},
        ),
        run(deployer, deployer.destroy, STACK),
    ]

    model_arns = {model["ModelName"]: model["ModelArn"] for model in emulator.snapshot()["models"]}
    handler_calls = [call for call in emulator.calls if call.access_key_id == key]
    granted_actions = set()
    refused = []
    for operation in operations:
        grants = grants_of(operation)
        role = function_role(operation.before or operation.after)
        for state in (operation.before, operation.after):
            if state is None:
                continue
            declared = declared_models(state)
            for record in policies(state).values():
                for statement in record.properties["PolicyDocument"]["Statement"]:
                    assert set(statement) == {"Effect", "Action", "Resource"}
                    assert statement["Effect"] == "Allow"
                    granted_actions.update(statement["Action"])
                    # Scoped: each resource is a declared model's ARN pattern, nothing wider.
                    assert {
                        resource.removeprefix(ARN_PREFIX).removesuffix("/*")
                        for resource in statement["Resource"]
                    } <= declared
                    assert all(
                        resource.startswith(ARN_PREFIX) and resource.endswith("/*")
                        for resource in statement["Resource"]
                    )
        for call in handler_calls:
            if not operation.started <= call.started_at <= operation.finished:
                continue
            action = f"lookoutequipment:{call.operation}"
            # A call that names no model needs a grant on "*", which no policy may give.
            arn = model_arns.get(call.request.get("ModelName"), "*")
            if not any(g.allows(role, action, arn, call.started_at) for g in grants):
                refused.append((call.operation, call.request.get("ModelName")))

    called = {f"lookoutequipment:{call.operation}" for call in handler_calls}
    assert refused == []
    assert called == granted_actions
    assert granted_actions == {f"lookoutequipment:{name}" for name in POLICY_OPERATIONS}
    assert len(handler_calls) > 0
    for operation in operations:
        answered_once(operation.result, reliability_figures)


def test_grant_policy_description_lists_token_model_names_a_few_per_policy(tmp_path):
    parameters = [f"Model{index}" for index in range(5)]
    app = synthesize(
        tmp_path / "tokens",
        "TokenStack",
        [
            Declared(f"Scheduler{index}", f"model-{index}", model_parameter=name)
            for index, name in enumerate(parameters)
        ]
        + [Declared("Literal", "literal-1")],
    )
    template = app.template("TokenStack")
    grants = [r for r in template["Resources"].values() if r["Type"] == POLICY_TYPE]

    descriptions = [grant["Properties"]["Description"] for grant in grants]
    # A new parameter value changes the description, which IAM cannot update in place: the
    # policy is replaced, and the old one (still granting the old model) goes in the cleanup.
    listed = [
        [part["Ref"] for part in description["Fn::Join"][1] if isinstance(part, dict)]
        for description in descriptions
    ]
    assert listed == [parameters[:4], parameters[4:]]
    # Within IAM's 1,000 characters even when every name is as long as a model name can be.
    for description in descriptions:
        delimiter, parts = description["Fn::Join"]
        longest = delimiter.join("m" * 200 if isinstance(part, dict) else part for part in parts)
        assert len(longest) <= 1_000
