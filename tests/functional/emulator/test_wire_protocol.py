"""The JSON 1.0 wire protocol: targets, headers, credential scope, ARNs and error bodies."""

from __future__ import annotations

import re

import pytest

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_client_from_environment_endpoint_reaches_emulator(
    aws_session, emulator, model_name, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT", emulator.endpoint_url)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    client = aws_session.client("lookoutequipment")

    described = client.describe_model(ModelName=model_name)

    assert described["ModelName"] == model_name
    assert [call.operation for call in emulator.calls] == ["DescribeModel"]


def test_signed_call_region_and_access_key_from_credential_scope(lookout_client_factory, emulator):
    client = lookout_client_factory(
        region_name="eu-west-1",
        aws_access_key_id="AKIAOTHERKEY",
        aws_secret_access_key="other-secret",
    )

    created = client.create_model(ModelName="pump-9", DatasetName="plant")

    assert re.fullmatch(
        rf"arn:aws:lookoutequipment:eu-west-1:123456789012:model/pump-9/{UUID}",
        created["ModelArn"],
    )
    (call,) = emulator.calls
    assert (call.region, call.access_key_id) == ("eu-west-1", "AKIAOTHERKEY")


def test_model_in_other_region_not_found(lookout_client_factory, emulator, expect_service_error):
    emulator.create_model("pump-1", region="us-east-1")
    eu_client = lookout_client_factory(region_name="eu-west-1")

    with expect_service_error("ResourceNotFoundException", 404, match="region eu-west-1"):
        eu_client.describe_model(ModelName="pump-1")


def test_unsigned_call_default_region_no_access_key(raw_call, emulator, model_name):
    status, _, body = raw_call("DescribeModel", {"ModelName": model_name}, signed=False)

    assert status == 200
    assert body["ModelName"] == model_name
    (call,) = emulator.calls
    assert (call.region, call.access_key_id) == ("us-east-1", None)


def test_response_json_content_type_and_request_id(raw_call, model_name):
    status, headers, body = raw_call("DescribeModel", {"ModelName": model_name})

    assert status == 200
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert re.fullmatch(UUID, headers["x-amzn-RequestId"])
    assert body["Status"] == "SUCCESS"


def test_operation_without_output_empty_object_body(raw_call, model_name):
    status, _, body = raw_call("DeleteModel", {"ModelName": model_name})

    assert status == 200
    assert body == {}


def test_error_response_type_and_message_body(raw_call):
    status, headers, body = raw_call("DescribeModel", {"ModelName": "pump-0"})

    assert status == 404
    assert headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert set(body) == {"__type", "Message"}
    assert body["__type"] == "ResourceNotFoundException"


def test_unimplemented_operation_unknown_operation_400(lookout_client, emulator):
    with pytest.raises(lookout_client.exceptions.ClientError) as caught:
        lookout_client.list_models()

    response = caught.value.response
    assert response["Error"]["Code"] == "UnknownOperationException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "CreateRetrainingScheduler" in response["Error"]["Message"]
    assert emulator.calls[0].operation == "ListModels"


@pytest.mark.parametrize(
    "target", [None, "OtherService.DescribeModel", "AWSLookoutEquipmentFrontendService."]
)
def test_missing_or_foreign_target_unknown_operation_400(raw_call, emulator, target):
    status, _, body = raw_call(None, {}, target=target)

    assert status == 400
    assert body["__type"] == "UnknownOperationException"
    assert emulator.calls[0].error_code == "UnknownOperationException"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_body_not_json_object_serialization_exception_400(raw_call, body):
    status, _, answer = raw_call("DescribeModel", body)

    assert status == 400
    assert answer["__type"] == "SerializationException"


def test_empty_body_treated_as_empty_object(raw_call):
    status, _, body = raw_call("ListRetrainingSchedulers", b"")

    assert status == 200
    assert body == {"RetrainingSchedulerSummaries": []}


def test_get_request_refused_405(raw_call, emulator):
    status, headers, body = raw_call(None, b"", method="GET")

    assert status == 405
    assert headers["Allow"] == "POST"
    assert body["__type"] == "UnknownOperationException"
    assert emulator.calls == []
