"""Request validation from the service model's input shapes, in the service's wording."""

from __future__ import annotations

import re

import pytest
from botocore.config import Config

from lookout_retraining.local.emulator import SUPPORTED_OPERATIONS
from lookout_retraining.local.emulator.patterns import (
    UnsupportedPatternError,
    compile_java_pattern,
)
from lookout_retraining.local.emulator.service_model import operation_model
from lookout_retraining.local.emulator.validation import (
    UnsupportedShapeError,
    check_input_supported,
)

# botocore checks parameters before sending; these tests need the emulator to see bad ones.
UNCHECKED = Config(parameter_validation=False)


@pytest.fixture
def unchecked_client(lookout_client_factory):
    """A client that sends parameters botocore itself would refuse."""
    return lookout_client_factory(config=UNCHECKED)


def _violation(value: str, path: str, constraint: str) -> str:
    return f"Value {value} at '{path}' failed to satisfy constraint: {constraint}"


def test_create_all_required_members_missing_each_reported(raw_call, emulator):
    status, _, body = raw_call("CreateRetrainingScheduler", {})

    assert status == 400
    assert body["__type"] == "ValidationException"
    assert body["Message"].startswith("4 validation errors detected: ")
    for path in ("modelName", "retrainingFrequency", "lookbackWindow", "clientToken"):
        assert _violation("null", path, "Member must not be null") in body["Message"]
    assert emulator.snapshot()["schedulers"] == []


def test_required_member_explicit_null_treated_as_missing(raw_call):
    status, _, body = raw_call("DescribeRetrainingScheduler", {"ModelName": None})

    assert status == 400
    assert body["Message"] == (
        "1 validation error detected: " + _violation("null", "modelName", "Member must not be null")
    )


def test_model_name_too_long_length_and_pattern_violations(unchecked_client, expect_service_error):
    long_name = "m" * 201

    with expect_service_error("ValidationException", 400, match="2 validation errors") as caught:
        unchecked_client.describe_retraining_scheduler(ModelName=long_name)

    message = caught.value.response["Error"]["Message"]
    assert "Member must have length less than or equal to 200" in message
    assert "Member must satisfy regular expression pattern: ^[0-9a-zA-Z_-]{1,200}$" in message
    assert "(201 characters)" in message


def test_model_name_empty_minimum_length_violation(unchecked_client, expect_service_error):
    with expect_service_error(
        "ValidationException", 400, match="Member must have length greater than or equal to 1"
    ):
        unchecked_client.describe_retraining_scheduler(ModelName="")


@pytest.mark.parametrize("model_name", ["pump 1", "pump-1\n", "pümp"])
def test_model_name_outside_pattern_validation_error(
    unchecked_client, expect_service_error, model_name
):
    with expect_service_error(
        "ValidationException", 400, match="Member must satisfy regular expression pattern"
    ):
        unchecked_client.describe_retraining_scheduler(ModelName=model_name)


@pytest.mark.parametrize("client_token", ["token-ä", "emoji-\N{ROCKET}"])
def test_client_token_not_ascii_pattern_violation(
    emulator, model_name, create_scheduler, expect_service_error, client_token
):
    with expect_service_error(
        "ValidationException", 400, match="Member must satisfy regular expression pattern: "
    ) as caught:
        create_scheduler(ClientToken=client_token)

    assert "\\p{ASCII}{1,256}" in caught.value.response["Error"]["Message"]
    assert emulator.snapshot()["schedulers"] == []


def test_client_token_ascii_punctuation_and_spaces_accepted(model_name, create_scheduler):
    created = create_scheduler(ClientToken="~ request #1 {A|B} \t\\ end")

    assert created["Status"] == "PENDING"


def test_client_token_too_long_length_violation(model_name, create_scheduler, expect_service_error):
    with expect_service_error(
        "ValidationException", 400, match="Member must have length less than or equal to 256"
    ):
        create_scheduler(ClientToken="t" * 257)


@pytest.mark.parametrize("lookback_window", ["P90D", "p180D", "P180DP360D"])
def test_lookback_window_outside_pattern_validation_error(
    model_name, create_scheduler, expect_service_error, lookback_window
):
    with expect_service_error("ValidationException", 400, match="^P180D$|^P360D$|^P540D$|^P720D$"):
        create_scheduler(LookbackWindow=lookback_window)


@pytest.mark.parametrize("retraining_frequency", ["30D", "PT30M", "P1Y1M1000D"])
def test_frequency_outside_pattern_validation_error(
    unchecked_client, model_name, expect_service_error, retraining_frequency
):
    with expect_service_error("ValidationException", 400, match="retrainingFrequency"):
        unchecked_client.create_retraining_scheduler(
            ModelName=model_name, RetrainingFrequency=retraining_frequency, LookbackWindow="P180D"
        )


def test_promote_mode_outside_enum_validation_error(
    unchecked_client, model_name, expect_service_error
):
    with expect_service_error("ValidationException", 400) as caught:
        unchecked_client.create_retraining_scheduler(
            ModelName=model_name,
            RetrainingFrequency="P30D",
            LookbackWindow="P180D",
            PromoteMode="AUTOMATIC",
        )

    assert caught.value.response["Error"]["Message"] == (
        "1 validation error detected: "
        + _violation(
            "'AUTOMATIC'", "promoteMode", "Member must satisfy enum value set: [MANAGED, MANUAL]"
        )
    )


def test_list_status_outside_enum_validation_error(unchecked_client, expect_service_error):
    with expect_service_error(
        "ValidationException",
        400,
        match="Member must satisfy enum value set: [PENDING, RUNNING, STOPPING, STOPPED]",
    ):
        unchecked_client.list_retraining_schedulers(Status="STARTED")


@pytest.mark.parametrize(
    ("max_results", "constraint"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (-5, "Member must have value greater than or equal to 1"),
        (501, "Member must have value less than or equal to 500"),
    ],
)
def test_list_max_results_out_of_range_validation_error(
    unchecked_client, expect_service_error, max_results, constraint
):
    with expect_service_error("ValidationException", 400) as caught:
        unchecked_client.list_retraining_schedulers(MaxResults=max_results)

    assert _violation(f"'{max_results}'", "maxResults", constraint) in str(caught.value)


@pytest.mark.parametrize("max_results", [1, 500])
def test_list_max_results_at_bounds_accepted(lookout_client, max_results):
    response = lookout_client.list_retraining_schedulers(MaxResults=max_results)

    assert response["RetrainingSchedulerSummaries"] == []


@pytest.mark.parametrize(
    ("member", "value", "constraint"),
    [
        ("ModelName", 5, "Member must be a string"),
        ("MaxResults", "10", "Member must be an integer"),
        ("MaxResults", 10.5, "Member must be an integer"),
        ("MaxResults", True, "Member must be an integer"),
    ],
)
def test_member_of_wrong_json_type_validation_error(raw_call, member, value, constraint):
    operation = "DescribeModel" if member == "ModelName" else "ListRetrainingSchedulers"

    status, _, body = raw_call(operation, {member: value})

    assert status == 400
    assert body["__type"] == "ValidationException"
    assert constraint in body["Message"]


@pytest.mark.parametrize(
    ("value", "constraint"),
    [
        ("2031-01-01", "Member must be a timestamp in epoch seconds (a JSON number)"),
        (True, "Member must be a timestamp in epoch seconds (a JSON number)"),
        (1e15, "Member must be a timestamp between"),
    ],
)
def test_start_date_not_epoch_seconds_validation_error(raw_call, model_name, value, constraint):
    request = {
        "ModelName": model_name,
        "RetrainingFrequency": "P30D",
        "LookbackWindow": "P180D",
        "ClientToken": "request-1",
        "RetrainingStartDate": value,
    }

    status, _, body = raw_call("CreateRetrainingScheduler", request)

    assert status == 400
    assert body["__type"] == "ValidationException"
    assert "retrainingStartDate" in body["Message"]
    assert constraint in body["Message"]


def test_start_date_fractional_epoch_seconds_accepted(raw_call, lookout_client, model_name):
    request = {
        "ModelName": model_name,
        "RetrainingFrequency": "P30D",
        "LookbackWindow": "P180D",
        "ClientToken": "request-1",
        "RetrainingStartDate": 1924991999.999,
    }

    status, _, _ = raw_call("CreateRetrainingScheduler", request)

    assert status == 200
    described = lookout_client.describe_retraining_scheduler(ModelName=model_name)
    assert described["RetrainingStartDate"].timestamp() == 1924905600


def test_unknown_member_validation_error_nothing_created(raw_call, emulator, model_name):
    request = {
        "ModelName": model_name,
        "RetrainingFrequency": "P30D",
        "LookbackWindow": "P180D",
        "ClientToken": "request-1",
        "DesiredState": "RUNNING",
    }

    status, _, body = raw_call("CreateRetrainingScheduler", request)

    assert status == 400
    assert body["__type"] == "ValidationException"
    assert "at 'desiredState'" in body["Message"]
    assert "Member is not defined in CreateRetrainingSchedulerRequest" in body["Message"]
    assert emulator.snapshot()["schedulers"] == []


def test_nested_structure_members_validated(unchecked_client, expect_service_error):
    with expect_service_error("ValidationException", 400) as caught:
        unchecked_client.create_model(
            ModelName="pump-9",
            DatasetName="plant",
            ClientToken="m-1",
            Tags=[{"Key": "aws:reserved", "Value": "x"}],
            DataPreProcessingConfiguration={"TargetSamplingRate": "PT2S"},
        )

    message = caught.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected")
    assert "at 'tags.1.member.key'" in message
    assert "at 'dataPreProcessingConfiguration.targetSamplingRate'" in message


@pytest.mark.parametrize("operation", sorted(SUPPORTED_OPERATIONS))
def test_implemented_operation_input_is_fully_checkable(operation):
    check_input_supported(operation_model(operation))


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            "DescribeModelVersion",
            "DescribeModelVersion input member 'modelVersion' (shape ModelVersion) has type long",
        ),
        (
            "CreateLabel",
            "CreateLabel input member 'faultCode' (shape FaultCode) has a pattern the emulator "
            "cannot check",
        ),
    ],
    ids=["unchecked-type", "untranslatable-pattern"],
)
def test_operation_input_beyond_the_validation_is_refused_naming_the_member(operation, message):
    with pytest.raises(UnsupportedShapeError, match=re.escape(message)):
        check_input_supported(operation_model(operation))


@pytest.mark.parametrize(
    "pattern",
    ["[\\P{M}\\p{M}]{1,5000}", "\\p{Lu}\\p{Ll}+", "\\p{Alpha}+", "\\QA.B\\E"],
    ids=["complement", "general-category", "posix-class", "quoting"],
)
def test_java_pattern_beyond_ascii_property_class_is_refused(pattern):
    with pytest.raises(UnsupportedPatternError, match="supports the property class"):
        compile_java_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "accepted", "refused"),
    [
        ("\\p{ASCII}{1,256}", ["a", "~ \t\x7f"], ["", "é", "a" * 257]),
        ("[^\\p{ASCII}]+", ["ü"], ["u"]),
        ("[\\s\\w+-=\\.:/@]*", ["a b_c=1"], ["é"]),
        ("^P180D$|^P360D$|^P540D$|^P720D$", ["P360D"], ["P360D\n", "P180DP360D"]),
    ],
)
def test_java_pattern_translation_matches_whole_value(pattern, accepted, refused):
    compiled = compile_java_pattern(pattern)

    assert all(compiled.fullmatch(value) for value in accepted)
    assert not any(compiled.fullmatch(value) for value in refused)
