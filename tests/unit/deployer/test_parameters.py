"""Parameter values: overrides, previous values, defaults and constraints."""

from __future__ import annotations

import pytest

from lookout_retraining.local.deployer.engine import resolve_parameters
from lookout_retraining.local.deployer.errors import TemplateError

TEMPLATE = {
    "Parameters": {
        "Model": {"Type": "String", "Default": "pump-1", "AllowedPattern": "^[a-z0-9-]+$"},
        "Window": {"Type": "String", "Default": "P180D", "AllowedValues": ["P180D", "P360D"]},
        "Count": {"Type": "Number", "Default": 3, "MinValue": 1, "MaxValue": 5},
        "Names": {"Type": "CommaDelimitedList", "Default": "a, b"},
        "BootstrapVersion": {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": "/cdk-bootstrap/hnb659fds/version",
        },
    }
}


def test_resolve_parameters_defaults_apply_and_ssm_parameters_stay_unresolved():
    values, raw = resolve_parameters(TEMPLATE, {}, {})

    assert values == {"Model": "pump-1", "Window": "P180D", "Count": "3", "Names": ["a", "b"]}
    assert raw["Names"] == "a, b"
    assert "BootstrapVersion" not in values


def test_resolve_parameters_override_wins_over_previous_and_previous_over_default():
    values, _ = resolve_parameters(TEMPLATE, {"Model": "turbine-2"}, {"Model": "x", "Count": "4"})

    assert values["Model"] == "turbine-2"
    assert values["Count"] == "4"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Model": "Not Valid"}, "Parameter 'Model' failed to satisfy constraint"),
        ({"Window": "P540D"}, "Parameter 'Window' must be one of AllowedValues"),
        ({"Count": "9"}, "Parameter 'Count' must be at most 5"),
        ({"Count": "many"}, "Parameter 'Count' must be a number"),
        ({"Unknown": "x"}, r"Parameters: \['Unknown'\] do not exist in the template"),
    ],
    ids=["pattern", "allowed-values", "max-value", "number", "unknown"],
)
def test_resolve_parameters_rejects_values_the_template_forbids(overrides, message):
    with pytest.raises(TemplateError, match=message):
        resolve_parameters(TEMPLATE, overrides, {})


def test_resolve_parameters_missing_value_is_named():
    template = {"Parameters": {"Required": {"Type": "String"}}}

    with pytest.raises(TemplateError, match=r"Parameters: \['Required'\] must have values"):
        resolve_parameters(template, {}, {})
