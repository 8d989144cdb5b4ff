"""Fixtures for the deployer's unit tests: an intrinsic evaluator over a small template."""

from __future__ import annotations

from typing import Any

import pytest

from lookout_retraining.local.deployer.errors import TemplateError
from lookout_retraining.local.deployer.intrinsics import Evaluator

PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::NotificationARNs": [],
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/Unit/0000",
    "AWS::StackName": "Unit",
    "AWS::URLSuffix": "amazonaws.com",
}


class FakeResources:
    """Deployed resources for ``Ref`` and ``Fn::GetAtt``: physical ids and attributes."""

    def __init__(self, physical_ids: dict[str, str], attributes: dict[str, dict[str, Any]]):
        self.physical_ids = physical_ids
        self.attributes = attributes

    def ref(self, logical_id: str) -> str:
        return self.physical_ids[logical_id]

    def get_att(self, logical_id: str, attribute: str) -> Any:
        try:
            return self.attributes[logical_id][attribute]
        except KeyError as error:
            raise TemplateError(f"{logical_id} has no attribute {attribute}") from error


TEMPLATE = {
    "Parameters": {"Model": {"Type": "String"}, "Sizes": {"Type": "CommaDelimitedList"}},
    "Conditions": {
        "IsIreland": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
        "IsPump": {"Fn::Equals": [{"Ref": "Model"}, "pump"]},
        "Both": {"Fn::And": [{"Condition": "IsIreland"}, {"Condition": "IsPump"}]},
        "Either": {"Fn::Or": [{"Condition": "IsPump"}, {"Fn::Not": [{"Condition": "IsIreland"}]}]},
    },
    "Mappings": {"Windows": {"eu-west-1": {"Default": "P180D"}}},
    "Resources": {
        "Function": {"Type": "AWS::Lambda::Function"},
        "Scheduler": {"Type": "Custom::Thing"},
    },
}


@pytest.fixture
def evaluator() -> Evaluator:
    """An evaluator with parameters Model=pump, Sizes=[a, b] and two deployed resources."""
    resources = FakeResources(
        {"Function": "unit-function", "Scheduler": "pump"},
        {
            "Function": {"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:unit-function"},
            "Scheduler": {"ModelArn": "arn:model/pump", "Status": "RUNNING"},
        },
    )
    return Evaluator(TEMPLATE, PSEUDO_PARAMETERS, {"Model": "pump", "Sizes": ["a", "b"]}, resources)
