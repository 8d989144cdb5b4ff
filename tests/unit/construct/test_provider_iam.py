"""The provider's role: only the scheduler actions, only on declared models, only its log group."""

from __future__ import annotations

import aws_cdk as cdk

from lookout_retraining import LookbackWindow, RetrainingFrequency, RetrainingScheduler
from lookout_retraining.provider import (
    GRANT_POLICIES_ANY_CHANGE,
    GRANT_POLICIES_WARNING_ID,
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_MAX_CHARACTERS,
    RetrainingSchedulerProvider,
    SchedulerCapacityError,
)

SCHEDULER_ACTIONS = [
    "lookoutequipment:CreateRetrainingScheduler",
    "lookoutequipment:DescribeRetrainingScheduler",
    "lookoutequipment:UpdateRetrainingScheduler",
    "lookoutequipment:StartRetrainingScheduler",
    "lookoutequipment:StopRetrainingScheduler",
    "lookoutequipment:DeleteRetrainingScheduler",
]


def add_scheduler(stack, construct_id, model_name):
    return RetrainingScheduler(
        stack,
        construct_id,
        model_name=model_name,
        retraining_frequency=RetrainingFrequency.days(30),
        lookback_window=LookbackWindow.DAYS_180,
    )


def grant_statements(synthesized, evaluate, references):
    return [
        statement
        for policy in synthesized.resources_of_type("AWS::IAM::ManagedPolicy").values()
        for statement in evaluate(policy["Properties"]["PolicyDocument"], references)["Statement"]
    ]


def test_grant_policy_allows_six_actions_on_exact_model_arns(
    reference, evaluate, realistic_pseudo_parameters
):
    references = realistic_pseudo_parameters | {"ModelParam": "param-model"}

    statements = grant_statements(reference, evaluate, references)

    assert statements == [
        {
            "Effect": "Allow",
            "Action": SCHEDULER_ACTIONS,
            "Resource": [
                "arn:aws:lookoutequipment:us-east-1:123456789012:model/pump-1/*",
                "arn:aws:lookoutequipment:us-east-1:123456789012:model/param-model/*",
                "arn:aws:lookoutequipment:us-east-1:123456789012:model/pump-3/*",
            ],
        }
    ]


def test_grant_policy_cfn_parameter_model_name_is_substituted_from_parameter(reference):
    (policy,) = reference.resources_of_type("AWS::IAM::ManagedPolicy").values()
    resource = policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"]

    (body, variables) = resource["Fn::Split"][1]["Fn::Sub"]
    assert "${M}${N0}/*" in body.split(",")
    assert variables["N0"] == {"Ref": "ModelParam"}


def test_grant_policy_in_explicit_environment_names_its_region_and_account(new_app, evaluate):
    app = new_app()
    stack = cdk.Stack(
        app, "Pinned", env=cdk.Environment(account="210987654321", region="eu-west-3")
    )
    add_scheduler(stack, "Scheduler", "pump-1")
    template = app.synth().get_stack_by_name("Pinned").template
    (policy,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"
    )

    document = evaluate(policy["Properties"]["PolicyDocument"], {})

    assert document["Statement"][0]["Resource"] == [
        "arn:aws:lookoutequipment:eu-west-3:210987654321:model/pump-1/*"
    ]


def test_role_has_only_log_permissions_inline_and_no_aws_managed_policy(reference):
    (role,) = reference.resources_of_type("AWS::IAM::Role").values()
    (log_group_id,) = reference.resources_of_type("AWS::Logs::LogGroup")

    assert "ManagedPolicyArns" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
    ]
    assert role["Properties"]["Policies"] == [
        {
            "PolicyName": "Logs",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
                    }
                ],
            },
        }
    ]
    assert not reference.resources_of_type("AWS::IAM::Policy")


def test_grant_policy_logical_id_changes_when_a_model_leaves_it(new_app):
    def grant_ids(model_names):
        stack = cdk.Stack(new_app(), "Stack")
        for index, model_name in enumerate(model_names):
            add_scheduler(stack, f"Scheduler{index}", model_name)
        provider = RetrainingSchedulerProvider.find(stack)
        return [stack.resolve(policy.logical_id) for policy in provider.grant_policies]

    before = grant_ids(["pump-1", "pump-2"])

    # A replacement, not an in-place update: the old policy, which still grants pump-2, is
    # deleted in the clean-up phase, after pump-2's scheduler.
    assert grant_ids(["pump-1"]) != before
    assert grant_ids(["pump-1", "pump-3"]) != before
    assert grant_ids(["pump-1", "pump-2"]) == before


def add_until_refused(stack, model_name_of):
    for index in range(1_000):
        try:
            add_scheduler(stack, f"Scheduler{index}", model_name_of(index))
        except SchedulerCapacityError as error:
            return index, error
    raise AssertionError("a thousand schedulers fitted")


def test_stack_full_of_longest_model_names_raises_saying_how_many_fit(new_app):
    stack = cdk.Stack(new_app(), "Stack")

    count, error = add_until_refused(stack, lambda index: f"{index:03d}".ljust(200, "m"))

    provider = RetrainingSchedulerProvider.find(stack)
    # One attachment stays free, so that a change to the last grant policy can still deploy.
    assert len(provider.grant_policies) == MANAGED_POLICIES_PER_ROLE - 1
    assert max(provider.estimated_grant_characters) <= MANAGED_POLICY_MAX_CHARACTERS
    assert error.property_name == "model_name"
    assert f"the {count} schedulers already in stack 'Stack' fill 9 managed policies" in str(error)
    assert "IAM attaches at most 10 to a role, and one stays free so that a change" in str(error)
    assert f"{count} models with names like these is the most one stack can grant" in str(error)
    assert stack.node.try_find_child(f"Scheduler{count}") is None


def fill_to_grant_policies(stack, policies, first_index=0):
    """Declare schedulers on the longest model names until the stack has ``policies`` grants."""
    index = first_index
    while True:
        provider = RetrainingSchedulerProvider.find(stack)
        if provider is not None and len(provider.grant_policies) == policies:
            return provider, index
        add_scheduler(stack, f"Scheduler{index}", f"{index:03d}".ljust(200, "m"))
        index += 1


def grant_policy_warnings(provider):
    # Construct validation, which synthesis runs once every scheduler is declared.
    provider.node.validate()
    return [entry.data for entry in provider.node.metadata if entry.type == "aws:cdk:warning"]


def test_stack_of_more_than_five_grant_policies_warns_until_acknowledged(new_app):
    stack = cdk.Stack(new_app(), "Stack")
    provider, next_index = fill_to_grant_policies(stack, GRANT_POLICIES_ANY_CHANGE)
    warnings_at_five = grant_policy_warnings(provider)

    fill_to_grant_policies(stack, GRANT_POLICIES_ANY_CHANGE + 1, next_index)
    (warning,) = grant_policy_warnings(provider)
    cdk.Annotations.of(stack).acknowledge_warning(GRANT_POLICIES_WARNING_ID)

    assert warnings_at_five == []
    assert f"use {GRANT_POLICIES_ANY_CHANGE + 1} grant policies" in warning
    assert f"more than IAM's {MANAGED_POLICIES_PER_ROLE} managed policies per role" in warning
    assert warning.endswith(f"[ack: {GRANT_POLICIES_WARNING_ID}]")
    # Acknowledged on the stack, the warning is gone and comes back at no later validation.
    assert grant_policy_warnings(provider) == []
