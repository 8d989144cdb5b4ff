"""Every validation rule: FAILED naming the property and value, before any call."""

from __future__ import annotations

import pytest

VALID = {
    "ModelName": "pump-1",
    "RetrainingFrequency": "P30D",
    "LookbackWindow": "P180D",
}
MISSING = object()

# (property, value given, text the reason must hold: the property and the value as echoed)
RULES = [
    pytest.param("ModelName", MISSING, "ModelName is required", id="model-name-missing"),
    pytest.param(
        "RetrainingFrequency", MISSING, "RetrainingFrequency is required", id="frequency-missing"
    ),
    pytest.param("LookbackWindow", MISSING, "LookbackWindow is required", id="lookback-missing"),
    pytest.param(
        "Schedule", "weekly", "Unknown property 'Schedule' (value 'weekly')", id="unknown-property"
    ),
    pytest.param("ModelName", 42, "ModelName must be a string, got int 42", id="wrong-type"),
    pytest.param(
        "RetrainingFrequency",
        ["P30D"],
        "RetrainingFrequency must be a string, got list ['P30D']",
        id="frequency-wrong-type",
    ),
    pytest.param(
        "LookbackWindow", 180, "LookbackWindow must be a string, got int 180", id="lookback-type"
    ),
    pytest.param(
        "PromoteMode", True, "PromoteMode must be a string, got bool True", id="promote-mode-type"
    ),
    pytest.param(
        "RetrainingStartDate",
        5,
        "RetrainingStartDate must be a string, got int 5",
        id="start-date-wrong-type",
    ),
    pytest.param(
        "ClientToken", 7, "ClientToken must be a string, got int 7", id="token-wrong-type"
    ),
    pytest.param(
        "DesiredState",
        False,
        "DesiredState must be a string, got bool False",
        id="desired-state-wrong-type",
    ),
    pytest.param("AdoptExisting", 1, "AdoptExisting 1 is not a flag", id="adopt-flag-wrong-type"),
    pytest.param("ModelName", "pump 1", "ModelName 'pump 1' is not a valid", id="name-pattern"),
    pytest.param("ModelName", "p" * 201, "ModelName 'ppp", id="name-too-long"),
    pytest.param(
        "RetrainingFrequency", "30 days", "RetrainingFrequency '30 days' is not", id="not-iso"
    ),
    pytest.param("RetrainingFrequency", "P10D", "'P10D' is shorter than", id="frequency-short"),
    pytest.param("RetrainingFrequency", "P1Y1D", "'P1Y1D' is longer than", id="frequency-long"),
    pytest.param("LookbackWindow", "P90D", "LookbackWindow 'P90D' is not", id="lookback-value"),
    pytest.param("PromoteMode", "AUTO", "PromoteMode 'AUTO' is not", id="promote-mode"),
    pytest.param(
        "RetrainingStartDate", "next monday", "RetrainingStartDate 'next monday'", id="start-date"
    ),
    pytest.param(
        "RetrainingStartDate",
        "2026-06-01T08:00:00",
        "RetrainingStartDate '2026-06-01T08:00:00'",
        id="start-date-without-offset",
    ),
    pytest.param("ClientToken", "", "ClientToken '' must hold 1 to 256", id="token-empty"),
    pytest.param("ClientToken", "t" * 257, "it holds 257 characters", id="token-too-long"),
    pytest.param("ClientToken", "t\u00f6ken", "some of them not ASCII", id="token-not-ascii"),
    pytest.param("DesiredState", "PAUSED", "DesiredState 'PAUSED' is not", id="desired-state"),
    pytest.param("AdoptExisting", "yes", "AdoptExisting 'yes' is not a flag", id="adopt-flag"),
]


def with_rule_broken(name, value):
    properties = dict(VALID)
    if value is MISSING:
        del properties[name]
    else:
        properties[name] = value
    return properties


@pytest.mark.parametrize(("name", "value", "expected"), RULES)
def test_create_invalid_property_fails_naming_it_without_any_call(
    cloudformation, emulator, models, name, value, expected
):
    created = cloudformation.create(with_rule_broken(name, value))

    assert created.status == "FAILED"
    assert created.physical_id == f"not-created|{created.event['RequestId']}"
    assert name in created.reason
    assert expected in created.reason
    assert emulator.calls == []


@pytest.mark.parametrize(("name", "value", "expected"), RULES)
def test_update_invalid_property_fails_keeping_physical_id_without_any_call(
    cloudformation, emulator, models, name, value, expected
):
    updated = cloudformation.update("pump-1", with_rule_broken(name, value), VALID)

    assert updated.status == "FAILED"
    assert updated.physical_id == "pump-1"
    assert expected in updated.reason
    assert emulator.calls == []


def test_create_properties_not_an_object_fails_without_any_call(cloudformation, emulator):
    event = cloudformation.event("Create", None)
    event["ResourceProperties"] = "ModelName=pump-1"

    created = cloudformation.send(event)

    assert created.status == "FAILED"
    assert "ResourceProperties must be an object" in created.reason
    assert emulator.calls == []
