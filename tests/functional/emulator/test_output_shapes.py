"""Every response of a broad scenario checked against botocore's output and error shapes."""

from __future__ import annotations

import contextlib
import datetime
import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore.validate import validate_parameters

from lookout_retraining.local.emulator import SUPPORTED_OPERATIONS
from lookout_retraining.local.emulator.patterns import compile_java_pattern

SCHEDULER = {"RetrainingFrequency": "P30D", "LookbackWindow": "P180D"}
# Every error's Message is a BoundedLengthString, [\P{M}\p{M}]{1,5000}: any character. The
# emulator validates inputs only and translates \p{ASCII} only, so this test spells it out.
ANY_CHARACTER_CLASS = ("[\\P{M}\\p{M}]", "(?s:.)")


@pytest.fixture
def recorded(lookout_client_factory):
    """A client that keeps each raw response (wire bytes) with its operation model."""
    client = lookout_client_factory(config=Config(parameter_validation=False))
    responses = []

    def keep(operation_model, response_dict, **_):
        responses.append((operation_model, dict(response_dict)))

    service_id = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-parse.{service_id}.*", keep)
    return client, responses


def _ignore_errors(call, *args, **kwargs):
    with contextlib.suppress(ClientError):
        call(*args, **kwargs)


def _run_broad_scenario(client, emulator):
    client.create_model(
        ModelName="pump-1",
        DatasetName="plant",
        RoleArn="arn:aws:iam::123456789012:role/lookout",
        LabelsInputConfiguration={"LabelGroupName": "labels"},
        TrainingDataStartTime=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        DataPreProcessingConfiguration={"TargetSamplingRate": "PT1M"},
        OffCondition="sensor-1 < 10",
        ModelDiagnosticsOutputConfiguration={"S3OutputConfiguration": {"Bucket": "my-bucket"}},
    )
    client.create_model(ModelName="pump-2", DatasetName="plant")
    client.describe_model(ModelName="pump-1")
    first_request = {
        "ModelName": "pump-1",
        "PromoteMode": "MANUAL",
        "RetrainingStartDate": datetime.datetime(2031, 6, 1, 12, tzinfo=datetime.UTC),
        "ClientToken": "request-1",
        **SCHEDULER,
    }
    client.create_retraining_scheduler(**first_request)
    client.create_retraining_scheduler(**first_request)
    emulator.settings.create_starts_scheduler = False
    client.create_retraining_scheduler(ModelName="pump-2", **SCHEDULER)
    client.describe_model(ModelName="pump-1")
    client.describe_retraining_scheduler(ModelName="pump-1")
    client.describe_retraining_scheduler(ModelName="pump-2")
    client.update_retraining_scheduler(ModelName="pump-1", LookbackWindow="P720D")
    first_page = client.list_retraining_schedulers(MaxResults=1)
    client.list_retraining_schedulers(MaxResults=1, NextToken=first_page["NextToken"])
    client.list_retraining_schedulers(ModelNameBeginsWith="pump", Status="RUNNING")
    client.list_retraining_schedulers(Status="STOPPING")
    client.start_retraining_scheduler(ModelName="pump-2")
    client.stop_retraining_scheduler(ModelName="pump-2")
    client.delete_retraining_scheduler(ModelName="pump-2")
    client.delete_model(ModelName="pump-2")

    _ignore_errors(
        client.create_retraining_scheduler,
        ModelName="pump-1",
        ClientToken="request-1",
        RetrainingFrequency="P60D",
        LookbackWindow="P180D",
    )
    _ignore_errors(client.create_retraining_scheduler, ModelName="pump-1", **SCHEDULER)
    _ignore_errors(client.create_retraining_scheduler, ModelName="pump-0", **SCHEDULER)
    _ignore_errors(
        client.create_retraining_scheduler,
        ModelName="pump-1",
        RetrainingFrequency="P10D",
        LookbackWindow="P1D",
    )
    _ignore_errors(client.create_model, ModelName="pump-1", DatasetName="plant")
    _ignore_errors(client.describe_model, ModelName="pump-0")
    _ignore_errors(client.describe_retraining_scheduler, ModelName="bad name")
    _ignore_errors(client.start_retraining_scheduler, ModelName="pump-1")
    _ignore_errors(client.delete_retraining_scheduler, ModelName="pump-1")
    _ignore_errors(client.delete_model, ModelName="pump-0")
    _ignore_errors(client.list_retraining_schedulers, MaxResults=0, NextToken="bad")
    emulator.settings.update_requires_stopped = True
    _ignore_errors(client.update_retraining_scheduler, ModelName="pump-1", PromoteMode="MANAGED")
    emulator.faults.throttle("ListRetrainingSchedulers", count=1)
    _ignore_errors(client.list_retraining_schedulers)
    emulator.faults.fail("StopRetrainingScheduler", count=1)
    _ignore_errors(client.stop_retraining_scheduler, ModelName="pump-1")
    client.stop_retraining_scheduler(ModelName="pump-1")
    _ignore_errors(client.stop_retraining_scheduler, ModelName="pump-1")


def _undefined_members(value, shape, path):
    """Yield the paths of raw JSON members that the shape does not define."""
    if shape.type_name == "structure":
        for name, member_value in value.items():
            if name not in shape.members:
                yield f"{path}.{name}"
            else:
                yield from _undefined_members(member_value, shape.members[name], f"{path}.{name}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            yield from _undefined_members(item, shape.member, f"{path}[{index}]")


def _constraint_breaches(value, shape, path):
    """Yield the raw values that break an enum, length, pattern or wire type of their shape."""
    type_name = shape.type_name
    if type_name == "structure":
        for name, member_value in value.items():
            if name in shape.members:
                yield from _constraint_breaches(member_value, shape.members[name], f"{path}.{name}")
    elif type_name == "list":
        for index, item in enumerate(value):
            yield from _constraint_breaches(item, shape.member, f"{path}[{index}]")
    elif type_name == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield f"{path}: timestamp {value!r} is not epoch seconds"
    elif type_name == "string":
        metadata = shape.metadata
        if metadata.get("enum") and value not in metadata["enum"]:
            yield f"{path}: {value!r} not in {metadata['enum']}"
        if not metadata.get("min", 0) <= len(value) <= metadata.get("max", len(value)):
            yield f"{path}: length {len(value)} out of range"
        pattern = metadata.get("pattern")
        if pattern and not _output_pattern(pattern).fullmatch(value):
            yield f"{path}: {value!r} does not match {pattern}"


def _output_pattern(pattern):
    return compile_java_pattern(pattern.replace(*ANY_CHARACTER_CLASS))


def _check_response(operation_model, response_dict):
    body = json.loads(response_dict["body"]) if response_dict["body"] else {}
    parsed = create_parser("json").parse(response_dict, operation_model.output_shape)
    parsed.pop("ResponseMetadata")
    operation = operation_model.name
    if response_dict["status_code"] == 200:
        shape = operation_model.output_shape
        if shape is None:
            assert body == {}, operation
            return None
        validate_parameters(parsed, shape)
        assert list(_undefined_members(body, shape, operation)) == []
        assert list(_constraint_breaches(body, shape, operation)) == []
        return None

    code = parsed["Error"]["Code"]
    declared = {shape.name: shape for shape in operation_model.error_shapes}
    assert code in declared, f"{operation} answered {code}, which it does not declare"
    error_shape = declared[code]
    error_body = {name: value for name, value in body.items() if name != "__type"}
    validate_parameters(error_body, error_shape)
    assert list(_undefined_members(error_body, error_shape, code)) == []
    assert list(_constraint_breaches(error_body, error_shape, code)) == []
    return code


def test_every_response_of_broad_scenario_matches_model_shapes(recorded, emulator):
    client, responses = recorded

    _run_broad_scenario(client, emulator)
    error_codes = [_check_response(model, response) for model, response in responses]

    assert len(responses) == len(emulator.calls) > 30
    succeeded = {model.name for (model, response) in responses if response["status_code"] == 200}
    assert succeeded == SUPPORTED_OPERATIONS
    assert set(error_codes) - {None} == {
        "ConflictException",
        "InternalServerException",
        "ResourceNotFoundException",
        "ThrottlingException",
        "ValidationException",
    }
