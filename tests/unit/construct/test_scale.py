"""Scale: resources and bytes per scheduler, IAM quotas at 400, the policies an update replaces."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from cfnlint.api import ManualArgs, lint_file

from lookout_retraining.provider import (
    ACCOUNT_ID_LENGTH,
    GRANT_POLICIES_ANY_CHANGE,
    GRANT_POLICIES_WARNING_ID,
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_MAX_CHARACTERS,
    MAX_GRANT_POLICIES,
    MODEL_NAME_MAX_LENGTH,
    PARTITION_MAX_LENGTH,
    REGION_MAX_LENGTH,
    TOKEN_MODELS_PER_POLICY,
)

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
# cfn-lint's W3005 flags a DependsOn that a reference already implies: aws-cdk-lib's Function
# adds one on its role, which its Role property already names with Fn::GetAtt.
LINT_SETTINGS = ManualArgs(ignore_checks=["W3005"])


def other_resources(fleet):
    return {
        logical_id: resource["Type"]
        for logical_id, resource in fleet.template["Resources"].items()
        if resource["Type"] != RESOURCE_TYPE
    }


def grant_policies(fleet):
    return fleet.resources_of_type("AWS::IAM::ManagedPolicy")


def model_name_length(fleet, index):
    return MODEL_NAME_MAX_LENGTH if index < fleet.parameter_models else len(f"pump-{index:04d}")


def fewest_grant_policies(fleet, empty_document_characters):
    """Pack the fleet's model ARNs in declaration order into policies of IAM's size quota.

    Each ARN counts at its longest, as the synth-time estimate does: partition, region and
    account at their maximum, a model name given as a parameter at 200 characters. In-order
    greedy packing needs the fewest policies of any packing that keeps declaration order.
    """
    assert fleet.parameter_models <= TOKEN_MODELS_PER_POLICY
    policies, characters = 0, MANAGED_POLICY_MAX_CHARACTERS
    for index in range(fleet.count):
        arn = (
            f"arn:{'p' * PARTITION_MAX_LENGTH}:lookoutequipment:{'r' * REGION_MAX_LENGTH}:"
            f"{'1' * ACCOUNT_ID_LENGTH}:model/{'m' * model_name_length(fleet, index)}/*"
        )
        added = len(",") + len(json.dumps(arn))
        if characters + added > MANAGED_POLICY_MAX_CHARACTERS:
            policies, characters = policies + 1, empty_document_characters - len(",")
        characters += added
    return policies


@pytest.mark.parametrize("count", SIZES)
def test_fleet_costs_one_custom_resource_per_scheduler_plus_shared_resources(
    fleets, iam_size, count
):
    fleet = fleets[count]
    document = next(iter(grant_policies(fleet).values()))["Properties"]["PolicyDocument"]
    statement = document["Statement"][0]
    empty_document = dict(document, Statement=[dict(statement, Resource=[])])

    assert len(fleet.resources_of_type(RESOURCE_TYPE)) == count
    assert sorted(set(other_resources(fleet).values())) == [
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
    ]
    # Function, role, log group, and the fewest grant policies that IAM's size quota allows.
    assert len(grant_policies(fleet)) == fewest_grant_policies(fleet, iam_size(empty_document))
    assert list(grant_policies(fleet)) == fleet.grant_logical_ids
    assert len(other_resources(fleet)) == 3 + len(grant_policies(fleet))
    assert len(other_resources(fleet)) <= 3 + MAX_GRANT_POLICIES
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
    # Every grant policy is attached; what an update attaches besides is tested below.
    assert len(attached) == len(grant_policies(fleet)) <= MAX_GRANT_POLICIES
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


def update(before, after):
    """What an update from grant policies ``before`` to ``after`` does with them.

    Returns the policies deleted in the cleanup phase, the policies created, and how many are
    attached to the role at the update's peak: every old one and every new one.
    """
    gone = [logical_id for logical_id in before if logical_id not in after]
    created = [logical_id for logical_id in after if logical_id not in before]
    return gone, created, len(set(before) | set(after))


def first_index_of_policy(fleet, policy):
    return sum(fleet.models_per_grant[:policy])


@pytest.mark.parametrize("change", ["removed", "inserted"])
def test_fleet_of_400_early_change_replaces_every_policy_beyond_role_quota(
    fleets, fleet_variant_grants, change
):
    fleet = fleets[400]
    before = fleet.grant_logical_ids
    early = fleet.parameter_models
    indices = [index for index in range(fleet.count) if index != early]
    if change == "inserted":
        # A scheduler on a new model, declared among the first.
        indices = [*range(early), fleet.count, *range(early, fleet.count)]

    after = fleet_variant_grants(indices, fleet.parameter_models)

    # The change's own policy, the first, and every later one: the models after it all moved.
    gone, created, peak = update(before, after)
    assert gone == before
    assert created == after
    assert peak > MANAGED_POLICIES_PER_ROLE


def test_fleet_of_400_late_removal_replaces_only_last_policy(fleets, fleet_variant_grants):
    fleet = fleets[400]
    before = fleet.grant_logical_ids
    late = first_index_of_policy(fleet, len(before) - 1)
    indices = [index for index in range(fleet.count) if index != late]

    after = fleet_variant_grants(indices, fleet.parameter_models)

    gone, created, peak = update(before, after)
    assert after[:-1] == before[:-1]
    assert gone == before[-1:]
    assert created == after[-1:]
    assert peak == len(before) + 1 <= MANAGED_POLICIES_PER_ROLE


def test_fleet_of_400_appended_scheduler_replaces_at_most_last_policy(fleets, fleet_variant_grants):
    fleet = fleets[400]
    before = fleet.grant_logical_ids

    after = fleet_variant_grants(range(fleet.count + 1), fleet.parameter_models)

    gone, _, peak = update(before, after)
    assert after[: len(before) - 1] == before[:-1]
    assert len(gone) <= 1
    assert peak <= MANAGED_POLICIES_PER_ROLE


@pytest.mark.parametrize(
    ("size", "policies"),
    [(100, 2), (400, GRANT_POLICIES_ANY_CHANGE)],
    ids=["fleet-of-100", "first-five-policies-of-400"],
)
def test_fleet_of_at_most_five_policies_removing_first_scheduler_fits_role_quota(
    fleets, fleet_variant_grants, size, policies
):
    # A fleet's first policies are full, so its first schedulers make a fleet of that many.
    fleet = fleets[size]
    count = first_index_of_policy(fleet, policies)
    before = fleet_variant_grants(range(count), fleet.parameter_models)

    after = fleet_variant_grants(range(1, count), fleet.parameter_models)

    # Removing the first scheduler replaces every policy: the most that any change can replace.
    gone, created, peak = update(before, after)
    assert before == fleet.grant_logical_ids[:policies]
    assert gone == before
    assert created == after
    assert len(after) <= policies
    assert peak <= MANAGED_POLICIES_PER_ROLE


def warnings_of(fleet):
    return [
        (path, entry["data"])
        for path, entries in fleet.metadata().items()
        for entry in entries
        if entry["type"] == "aws:cdk:warning"
    ]


def test_fleet_of_400_warns_that_an_early_change_can_exceed_role_quota(fleets):
    fleet = fleets[400]

    ((path, message),) = warnings_of(fleet)

    assert path == "/Fleet400/LookoutRetraining"
    assert message.endswith(f"[ack: {GRANT_POLICIES_WARNING_ID}]")
    assert f"use {len(fleet.grant_logical_ids)} grant policies" in message
    assert "IAM's 10 managed policies per role" in message
    assert f"until this one has at most {GRANT_POLICIES_ANY_CHANGE} grant policies" in message
    # The warning is reported, and fails nothing: cdk-nag's checks raised on no finding.
    (report,) = fleet.validation_report()["pluginReports"]
    assert report["conclusion"] == "success"
    assert [violation["severity"] for violation in report["violations"]] == ["warning"]


def test_fleet_of_100_has_no_warning(fleets):
    assert warnings_of(fleets[100]) == []


def test_fleet_of_100_passes_aws_solutions_checks_with_nothing_unacknowledged(fleets):
    fleet = fleets[100]
    acknowledged = [
        path
        for path, entries in fleet.metadata().items()
        for entry in entries
        if entry["type"] == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]

    # Synthesis raised on no finding; the report lists none, not even acknowledged warnings.
    assert fleet.validation_report()["pluginReports"] == []
    assert len(fleet.grant_logical_ids) == 2
    # Each grant policy acknowledges the finding on its own Resource value.
    assert acknowledged == [
        "/Fleet100/LookoutRetraining/Grant0",
        "/Fleet100/LookoutRetraining/Grant1",
    ]


def test_fleet_of_100_template_passes_cfn_lint(fleets):
    # Two grant policies, each custom resource depending on its own: every shape of a large stack.
    matches = lint_file(fleets[100].template_path, config=LINT_SETTINGS)

    assert [str(match) for match in matches] == []


@pytest.mark.slow
def test_fleet_of_400_template_passes_cfn_lint(fleets):
    matches = lint_file(fleets[400].template_path, config=LINT_SETTINGS)

    assert [str(match) for match in matches] == []
