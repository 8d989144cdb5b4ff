"""The intrinsic function evaluator."""

from __future__ import annotations

import pytest

from lookout_retraining.local.deployer.errors import TemplateError
from lookout_retraining.local.deployer.intrinsics import (
    NO_VALUE,
    Evaluator,
    partition_of,
    referenced_names,
    stringify_scalars,
)


def test_ref_parameter_pseudo_parameter_and_resource_resolve(evaluator):
    value = {
        "Model": {"Ref": "Model"},
        "Region": {"Ref": "AWS::Region"},
        "Function": {"Ref": "Function"},
        "Sizes": {"Ref": "Sizes"},
    }

    resolved = evaluator.resolve(value, "Test")

    assert resolved == {
        "Model": "pump",
        "Region": "eu-west-1",
        "Function": "unit-function",
        "Sizes": ["a", "b"],
    }


def test_get_att_list_and_dotted_forms_resolve(evaluator):
    resolved = evaluator.resolve(
        [{"Fn::GetAtt": ["Scheduler", "ModelArn"]}, {"Fn::GetAtt": "Scheduler.Status"}], "Test"
    )

    assert resolved == ["arn:model/pump", "RUNNING"]


def test_join_with_nested_intrinsics_resolves(evaluator):
    value = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":x:", {"Ref": "Model"}]]}

    assert evaluator.resolve(value, "Test") == "arn:aws:x:pump"


def test_sub_string_form_resolves_parameters_resources_attributes_and_literals(evaluator):
    value = {"Fn::Sub": "${AWS::AccountId}/${Model}/${Function}/${Scheduler.Status}/${!Literal}"}

    assert evaluator.resolve(value, "Test") == "123456789012/pump/unit-function/RUNNING/${Literal}"


def test_sub_list_form_prefers_its_variables(evaluator):
    value = {"Fn::Sub": ["${Model}-${Suffix}", {"Model": "turbine", "Suffix": {"Ref": "Model"}}]}

    assert evaluator.resolve(value, "Test") == "turbine-pump"


def test_select_and_split_resolve(evaluator):
    value = {"Fn::Select": ["1", {"Fn::Split": [",", "x,y,z"]}]}

    assert evaluator.resolve(value, "Test") == "y"


def test_select_index_out_of_range_names_where(evaluator):
    with pytest.raises(TemplateError, match=r"^Resources\.A\.Fn::Select: index 5 is out of range"):
        evaluator.resolve({"Fn::Select": [5, ["a"]]}, "Resources.A")


def test_if_and_conditions_choose_branches(evaluator):
    value = {
        "Both": {"Fn::If": ["Both", "yes", "no"]},
        "Either": {"Fn::If": ["Either", "yes", "no"]},
    }

    assert evaluator.resolve(value, "Test") == {"Both": "yes", "Either": "yes"}
    assert evaluator.condition("IsIreland") is True


def test_no_value_removes_property_and_list_item(evaluator):
    value = {
        "Kept": "k",
        "Dropped": {"Fn::If": ["IsPump", {"Ref": "AWS::NoValue"}, "x"]},
        "Items": ["a", {"Ref": "AWS::NoValue"}, "b"],
    }

    assert evaluator.resolve(value, "Test") == {"Kept": "k", "Items": ["a", "b"]}
    assert evaluator.resolve({"Ref": "AWS::NoValue"}, "Test") is NO_VALUE


def test_find_in_map_get_azs_and_base64_resolve(evaluator):
    value = [
        {"Fn::FindInMap": ["Windows", {"Ref": "AWS::Region"}, "Default"]},
        {"Fn::GetAZs": ""},
        {"Fn::Base64": "hi"},
    ]

    assert evaluator.resolve(value, "Test") == [
        "P180D",
        ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        "aGk=",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Nowhere"}, "Unresolved resource dependency 'Nowhere'"),
        ({"Fn::GetAtt": ["Nowhere", "Arn"]}, "Unresolved resource dependency 'Nowhere'"),
        ({"Fn::ImportValue": "Shared"}, "cross-stack imports are not supported"),
        ({"Fn::Cidr": ["10.0.0.0/16", 1, 8]}, "does not support Fn::Cidr"),
        ({"Fn::If": ["Missing", "a", "b"]}, "Unresolved condition 'Missing'"),
        ({"Fn::Join": [",", "not-a-list"]}, "must be a list"),
    ],
    ids=["ref", "get-att", "import-value", "unsupported", "condition", "join"],
)
def test_unresolvable_value_raises_template_error(evaluator, value, message):
    with pytest.raises(TemplateError, match=message):
        evaluator.resolve(value, "Test")


def test_parameter_without_value_raises_template_error():
    template = {"Parameters": {"Version": {"Type": "AWS::SSM::Parameter::Value<String>"}}}
    evaluator = Evaluator(template, {}, {})

    with pytest.raises(TemplateError, match="parameter 'Version' has no value"):
        evaluator.resolve({"Ref": "Version"}, "Test")


def test_referenced_names_finds_ref_get_att_and_sub_names():
    value = {
        "A": {"Ref": "First"},
        "B": {"Fn::GetAtt": ["Second", "Arn"]},
        "C": {"Fn::Sub": "${Third.Arn}-${AWS::Region}-${!NotAName}"},
        "D": {"Fn::Sub": ["${Bound}-${Fourth}", {"Bound": {"Ref": "Fifth"}}]},
        "E": [{"Fn::Join": ["", [{"Ref": "Sixth"}]]}],
    }

    assert referenced_names(value) == {
        "First",
        "Second",
        "Third",
        "AWS::Region",
        "Fourth",
        "Fifth",
        "Sixth",
    }


def test_stringify_scalars_turns_numbers_and_booleans_into_strings():
    value = {"N": 5, "F": 2.5, "B": True, "L": [False, "x"], "O": {"Deep": 1}}

    assert stringify_scalars(value) == {
        "N": "5",
        "F": "2.5",
        "B": "true",
        "L": ["false", "x"],
        "O": {"Deep": "1"},
    }


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_partition_of_region_follows_its_prefix(region, partition):
    assert partition_of(region) == partition
