"""What a RetrainingScheduler renders: the custom resource, the shared function, the wiring."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Match
from cdk_nag import AwsSolutionsChecks

from lookout_retraining import LookbackWindow, RetrainingFrequency, RetrainingScheduler
from lookout_retraining.provider import (
    LAMBDA_TIMEOUT,
    PROVIDER_ID,
    SERVICE_TIMEOUT,
    RetrainingSchedulerProvider,
)

RESOURCE_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"


def function_logical_id(reference):
    (logical_id,) = reference.resources_of_type("AWS::Lambda::Function")
    return logical_id


def scheduler_resource(reference, name):
    return reference.template["Resources"][reference.logical_id(name)]


def test_scheduler_defaults_render_required_properties_only(reference):
    resource = scheduler_resource(reference, "defaults")

    assert resource["Type"] == RESOURCE_TYPE
    assert resource["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [function_logical_id(reference), "Arn"]},
        "ServiceTimeout": str(int(SERVICE_TIMEOUT.to_seconds())),
        "ModelName": "pump-1",
        "RetrainingFrequency": "P30D",
        "LookbackWindow": "P180D",
    }
    assert resource["DeletionPolicy"] == "Delete"
    assert resource["UpdateReplacePolicy"] == "Delete"


def test_scheduler_every_prop_set_renders_api_property_names(reference):
    resource = scheduler_resource(reference, "everything")

    assert resource["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [function_logical_id(reference), "Arn"]},
        "ServiceTimeout": str(int(SERVICE_TIMEOUT.to_seconds())),
        "ModelName": {"Ref": "ModelParam"},
        "RetrainingFrequency": "P2M",
        "LookbackWindow": "P360D",
        "PromoteMode": "MANUAL",
        "RetrainingStartDate": "2026-03-02",
        "ClientToken": "token-everything",
        "DesiredState": "STOPPED",
        "AdoptExisting": "true",
    }
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_scheduler_date_renders_iso_day_and_retain_on_update_or_delete(reference):
    resource = scheduler_resource(reference, "dated")

    assert resource["Properties"]["RetrainingStartDate"] == "2026-01-05"
    assert resource["Properties"]["RetrainingFrequency"] == "P3M15D"
    assert resource["Properties"]["PromoteMode"] == "MANAGED"
    assert resource["DeletionPolicy"] == "RetainExceptOnCreate"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_scheduler_attributes_read_data_keys_of_custom_resource(reference):
    scheduler = reference.schedulers["defaults"]
    logical_id = reference.logical_id("defaults")

    assert reference.stack.resolve(scheduler.attr_model_arn) == {
        "Fn::GetAtt": [logical_id, "ModelArn"]
    }
    assert reference.stack.resolve(scheduler.attr_status) == {"Fn::GetAtt": [logical_id, "Status"]}
    assert scheduler.model_name == "pump-1"
    assert isinstance(scheduler.custom_resource, cdk.CustomResource)
    assert scheduler.node.default_child is scheduler.custom_resource


def test_scheduler_string_tokens_pass_through_unchecked(new_app):
    app = new_app()
    stack = cdk.Stack(app, "Tokens")
    token = cdk.CfnParameter(stack, "Token", type="String")
    start = cdk.CfnParameter(stack, "Start", type="String")
    frequency = cdk.CfnParameter(stack, "Frequency", type="String")

    RetrainingScheduler(
        stack,
        "Scheduler",
        model_name="pump-1",
        retraining_frequency=RetrainingFrequency.of(frequency.value_as_string),
        lookback_window=LookbackWindow.DAYS_180,
        client_token=token.value_as_string,
        retraining_start_date=start.value_as_string,
    )

    cdk.assertions.Template.from_stack(stack).has_resource_properties(
        RESOURCE_TYPE,
        {
            "RetrainingFrequency": {"Ref": "Frequency"},
            "ClientToken": {"Ref": "Token"},
            "RetrainingStartDate": {"Ref": "Start"},
        },
    )


def test_stack_several_schedulers_share_one_function(reference):
    functions = reference.resources_of_type("AWS::Lambda::Function")
    schedulers = reference.resources_of_type(RESOURCE_TYPE)

    assert len(functions) == 1
    assert len(schedulers) == 3
    service_tokens = {str(s["Properties"]["ServiceToken"]) for s in schedulers.values()}
    assert service_tokens == {str({"Fn::GetAtt": [function_logical_id(reference), "Arn"]})}
    assert len(reference.resources_of_type("AWS::IAM::Role")) == 1
    assert len(reference.resources_of_type("AWS::Logs::LogGroup")) == 1


def test_two_stacks_each_get_their_own_function():
    app = cdk.App()
    stacks = [cdk.Stack(app, name) for name in ("One", "Two")]
    for stack in stacks:
        RetrainingScheduler(
            stack,
            "Scheduler",
            model_name="pump-1",
            retraining_frequency=RetrainingFrequency.days(30),
            lookback_window=LookbackWindow.DAYS_180,
        )

    providers = [RetrainingSchedulerProvider.find(stack) for stack in stacks]

    assert providers[0] is not None
    assert providers[1] is not None
    assert providers[0] is not providers[1]
    assert providers[0].node.path == f"One/{PROVIDER_ID}"


def newest_python_runtime():
    def version(runtime):
        return tuple(int(part) for part in re.findall(r"\d+", runtime.name))

    runtimes = [
        value
        for name in dir(lambda_.Runtime)
        if name.startswith("PYTHON_")
        and isinstance(value := getattr(lambda_.Runtime, name), lambda_.Runtime)
    ]
    return max(runtimes, key=version)


def test_function_runtime_is_newest_python_runtime_of_pinned_cdk(reference):
    reference.assertions.has_resource_properties(
        "AWS::Lambda::Function", {"Runtime": newest_python_runtime().name}
    )


def test_function_runs_handler_on_arm64_with_documented_environment(reference):
    reference.assertions.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Architectures": ["arm64"],
            "Handler": "lookout_retraining_handler.handler.handler",
            "Environment": {"Variables": {"LOG_LEVEL": "INFO", "AWS_SAM_LOCAL": "true"}},
            "LoggingConfig": {
                "LogGroup": {"Ref": Match.string_like_regexp("LookoutRetrainingLogs")}
            },
        },
    )


def test_service_timeout_exceeds_lambda_timeout_by_a_margin(reference):
    (function,) = reference.resources_of_type("AWS::Lambda::Function").values()
    lambda_timeout = function["Properties"]["Timeout"]
    service_timeouts = {
        int(resource["Properties"]["ServiceTimeout"])
        for resource in reference.resources_of_type(RESOURCE_TYPE).values()
    }

    assert lambda_timeout == LAMBDA_TIMEOUT.to_seconds()
    assert service_timeouts == {int(SERVICE_TIMEOUT.to_seconds())}
    (service_timeout,) = service_timeouts
    # The Lambda answers first, with room for queueing and the response upload.
    assert service_timeout - lambda_timeout >= 30
    # A handler that never answers fails the stack within minutes, not CloudFormation's hour.
    assert service_timeout <= 10 * 60


def test_log_group_keeps_default_retention_and_survives_rollback(reference):
    (log_group,) = reference.resources_of_type("AWS::Logs::LogGroup").values()

    assert log_group["Properties"] == {"RetentionInDays": 90}
    assert log_group["DeletionPolicy"] == "Retain"


def test_custom_resource_depends_on_policy_granting_its_model(reference, evaluate):
    references = {"AWS::Partition": "aws", "AWS::Region": "us-east-1"}
    references |= {"AWS::AccountId": "123456789012", "ModelParam": "param-model"}
    policies = reference.resources_of_type("AWS::IAM::ManagedPolicy")

    for name in ("defaults", "everything", "dated"):
        resource = scheduler_resource(reference, name)
        model_name = evaluate(resource["Properties"]["ModelName"], references)
        granting = {
            logical_id
            for logical_id, policy in policies.items()
            if f"arn:aws:lookoutequipment:us-east-1:123456789012:model/{model_name}/*"
            in evaluate(policy["Properties"]["PolicyDocument"], references)["Statement"][0][
                "Resource"
            ]
        }
        assert len(granting) == 1
        assert granting <= set(resource["DependsOn"])


def test_custom_resource_delete_runs_while_policy_attached_to_role(reference):
    # Each custom resource depends on a grant policy that attaches itself to the role, so the
    # policy, and with it the role's grant, outlives the custom resource's Delete.
    (role_id,) = reference.resources_of_type("AWS::IAM::Role")
    policies = reference.resources_of_type("AWS::IAM::ManagedPolicy")

    for name in ("defaults", "everything", "dated"):
        depends_on = scheduler_resource(reference, name)["DependsOn"]
        (grant_id,) = (logical_id for logical_id in depends_on if logical_id in policies)
        assert policies[grant_id]["Properties"]["Roles"] == [{"Ref": role_id}]


def single_scheduler(new_app, **props):
    stack = cdk.Stack(new_app(), "Single")
    scheduler = RetrainingScheduler(
        stack,
        "Scheduler",
        model_name="pump-1",
        retraining_frequency=RetrainingFrequency.days(30),
        lookback_window=LookbackWindow.DAYS_180,
        **props,
    )
    return scheduler, stack


def test_log_group_renders_log_retention_prop(new_app):
    _, stack = single_scheduler(new_app, log_retention=logs.RetentionDays.ONE_WEEK)

    template = cdk.assertions.Template.from_stack(stack)

    template.has_resource("AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 7}})


def test_scheduler_apply_removal_policy_retain_renders_retain_policies(new_app):
    scheduler, stack = single_scheduler(new_app)

    scheduler.apply_removal_policy(cdk.RemovalPolicy.RETAIN)

    cdk.assertions.Template.from_stack(stack).has_resource(
        RESOURCE_TYPE, {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


def test_scheduler_cross_stack_model_name_is_imported_and_acknowledged(new_app):
    app = new_app()
    producer = cdk.Stack(app, "Producer")
    model_name = ssm.StringParameter(producer, "ModelName", string_value="pump-9").string_value
    consumer = cdk.Stack(app, "Consumer")
    RetrainingScheduler(
        consumer,
        "Scheduler",
        model_name=model_name,
        retraining_frequency=RetrainingFrequency.days(30),
        lookback_window=LookbackWindow.DAYS_180,
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    # Raises on an unacknowledged finding: the acknowledgement names the resolved reference.
    template = app.synth().get_stack_by_name("Consumer").template

    resources = template["Resources"].values()
    (scheduler,) = (r for r in resources if r["Type"] == RESOURCE_TYPE)
    (policy,) = (r for r in resources if r["Type"] == "AWS::IAM::ManagedPolicy")
    reference = scheduler["Properties"]["ModelName"]
    # A weak (Fn::GetStackOutput) or strong (Fn::ImportValue) reference, as the flags choose.
    assert set(reference) <= {"Fn::GetStackOutput", "Fn::ImportValue"}
    resource = policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"]
    (body, variables) = resource["Fn::Split"][1]["Fn::Sub"]
    assert body == "${M}${N0}/*"
    assert variables["N0"] == reference


def test_app_synthesized_twice_gives_identical_templates(new_app):
    def synthesize_once():
        app = new_app()
        stack = cdk.Stack(app, "Twice")
        parameter = cdk.CfnParameter(stack, "ModelParam", type="String")
        for index, model_name in enumerate(["pump-1", parameter.value_as_string, "pump-3"]):
            RetrainingScheduler(
                stack,
                f"Scheduler{index}",
                model_name=model_name,
                retraining_frequency=RetrainingFrequency.days(30),
                lookback_window=LookbackWindow.DAYS_180,
            )
        return json.dumps(app.synth().get_stack_by_name("Twice").template, sort_keys=True)

    assert synthesize_once() == synthesize_once()
