"""Scale: resources and template bytes per scheduler, and IAM quotas with 400 schedulers."""

from __future__ import annotations

import math

import pytest
from cfnlint.api import ManualArgs, lint_file

from lookout_retraining.provider import MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_MAX_CHARACTERS

RESOURCE_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"
SIZES = (1, 10, 100, 400)
# CloudFormation quotas: resources per stack, and a template uploaded through S3.
MAX_RESOURCES_PER_STACK = 500
MAX_TEMPLATE_BYTES = 1_000_000
MAX_TRUST_POLICY_CHARACTERS = 2_048
# IAM quota: the inline policies of one role together, as JSON without whitespace.
ROLE_INLINE_POLICIES_MAX_CHARACTERS = 10_240
# The longest log group name CloudFormation can generate is bounded by the 512 of the API.
LONGEST_LOG_GROUP_NAME = "L" * 512


def other_resources(fleet):
    return {
        logical_id: resource["Type"]
        for logical_id, resource in fleet.template["Resources"].items()
        if resource["Type"] != RESOURCE_TYPE
    }


def grant_policies(fleet):
    return fleet.resources_of_type("AWS::IAM::ManagedPolicy")


@pytest.mark.parametrize("count", SIZES)
def test_fleet_costs_one_custom_resource_per_scheduler_plus_shared_resources(fleets, count):
    fleet = fleets[count]
    models_per_policy = fleet.models_per_grant[0]

    assert len(fleet.resources_of_type(RESOURCE_TYPE)) == count
    assert sorted(set(other_resources(fleet).values())) == [
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
    ]
    # Function, role, log group, and the fewest grant policies that IAM's size quota allows.
    assert len(grant_policies(fleet)) == math.ceil(count / models_per_policy)
    assert len(other_resources(fleet)) == 3 + len(grant_policies(fleet))
    if count <= 100:
        assert len(other_resources(fleet)) <= 5


@pytest.mark.parametrize(("smaller", "larger"), [(1, 10), (10, 100), (100, 400), (1, 400)])
def test_fleet_template_grows_at_most_700_bytes_per_added_scheduler(fleets, smaller, larger):
    added_bytes = (
        fleets[larger].template_path.stat().st_size - fleets[smaller].template_path.stat().st_size
    )

    assert added_bytes / (larger - smaller) <= 700


def test_fleet_of_400_fits_cloudformation_quotas(fleets):
    fleet = fleets[400]

    assert len(fleet.template["Resources"]) <= MAX_RESOURCES_PER_STACK
    assert fleet.template_path.stat().st_size <= MAX_TEMPLATE_BYTES


@pytest.mark.parametrize("deployment", ["realistic", "worst-case"])
def test_fleet_of_400_fits_every_iam_quota(
    fleets,
    evaluate,
    iam_size,
    realistic_pseudo_parameters,
    worst_case_pseudo_parameters,
    deployment,
):
    fleet = fleets[400]
    ((role_id, role),) = fleet.resources_of_type("AWS::IAM::Role").items()
    (log_group_id,) = fleet.resources_of_type("AWS::Logs::LogGroup")
    if deployment == "realistic":
        references = realistic_pseudo_parameters | {"Model0": "pump-line-a", "Model1": "pump-b"}
        log_group_name = "Fleet400-LookoutRetrainingLogs5791F685-AbCdEfGhIjKl"
    else:
        references = worst_case_pseudo_parameters | {"Model0": "a" * 200, "Model1": "b" * 200}
        log_group_name = LONGEST_LOG_GROUP_NAME
    references[f"{log_group_id}.Arn"] = (
        f"arn:{references['AWS::Partition']}:logs:{references['AWS::Region']}:"
        f"{references['AWS::AccountId']}:log-group:{log_group_name}:*"
    )

    policy_sizes = [
        iam_size(evaluate(policy["Properties"]["PolicyDocument"], references))
        for policy in grant_policies(fleet).values()
    ]
    inline_size = sum(
        iam_size(evaluate(policy["PolicyDocument"], references))
        for policy in role["Properties"]["Policies"]
    )
    attached = [
        policy
        for policy in grant_policies(fleet).values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    ]

    assert max(policy_sizes) <= MANAGED_POLICY_MAX_CHARACTERS
    # The synth-time estimate is never below what IAM will count.
    assert all(
        size <= estimate
        for size, estimate in zip(policy_sizes, fleet.estimated_grant_characters, strict=True)
    )
    assert inline_size <= ROLE_INLINE_POLICIES_MAX_CHARACTERS
    assert iam_size(role["Properties"]["AssumeRolePolicyDocument"]) <= MAX_TRUST_POLICY_CHARACTERS
    # While an update replaces one grant policy, the old and the new one are both attached.
    assert len(attached) + 1 <= MANAGED_POLICIES_PER_ROLE
    assert "ManagedPolicyArns" not in role["Properties"]


def test_fleet_of_400_grants_every_model_exactly_once(
    fleets, evaluate, realistic_pseudo_parameters
):
    fleet = fleets[400]
    references = realistic_pseudo_parameters | {"Model0": "param-0", "Model1": "param-1"}

    granted = [
        arn
        for policy in grant_policies(fleet).values()
        for arn in evaluate(policy["Properties"]["PolicyDocument"], references)["Statement"][0][
            "Resource"
        ]
    ]

    prefix = "arn:aws:lookoutequipment:us-east-1:123456789012:model/"
    expected = [f"{prefix}param-0/*", f"{prefix}param-1/*"]
    expected += [f"{prefix}pump-{index:04d}/*" for index in range(2, 400)]
    assert granted == expected


def test_fleet_of_100_template_passes_cfn_lint(fleets):
    # Two grant policies, each custom resource depending on its own: every shape of a large stack.
    matches = lint_file(fleets[100].template_path, config=ManualArgs(ignore_checks=["W3005"]))

    assert [str(match) for match in matches] == []


@pytest.mark.slow
def test_fleet_of_400_template_passes_cfn_lint(fleets):
    matches = lint_file(fleets[400].template_path, config=ManualArgs(ignore_checks=["W3005"]))

    assert [str(match) for match in matches] == []
