"""ListRetrainingSchedulers: filters, MaxResults and opaque NextToken pagination."""

from __future__ import annotations

import datetime

import pytest


@pytest.fixture
def schedulers(emulator, create_scheduler):
    """Seven schedulers: pump-1..pump-5 RUNNING, fan-1 and fan-2 STOPPED."""
    for name in ("pump-1", "pump-2", "pump-3", "pump-4", "pump-5", "fan-1", "fan-2"):
        emulator.create_model(name)
        emulator.settings.create_starts_scheduler = name.startswith("pump")
        create_scheduler(name)
    emulator.settings.create_starts_scheduler = True


def _all_pages(client, **request):
    pages = []
    while True:
        response = client.list_retraining_schedulers(**request)
        pages.append(response)
        if "NextToken" not in response:
            return pages
        request["NextToken"] = response["NextToken"]


def _names(pages):
    return [item["ModelName"] for page in pages for item in page["RetrainingSchedulerSummaries"]]


def test_list_without_schedulers_empty_without_token(lookout_client):
    response = lookout_client.list_retraining_schedulers()

    assert response["RetrainingSchedulerSummaries"] == []
    assert "NextToken" not in response


def test_list_summaries_carry_scheduler_fields(lookout_client, emulator, create_scheduler):
    model_arn = emulator.create_model("pump-1")
    create_scheduler(
        "pump-1",
        LookbackWindow="P360D",
        RetrainingStartDate=datetime.datetime(2031, 3, 4, 5, 6, tzinfo=datetime.UTC),
    )

    summaries = lookout_client.list_retraining_schedulers()["RetrainingSchedulerSummaries"]

    assert summaries == [
        {
            "ModelName": "pump-1",
            "ModelArn": model_arn,
            "Status": "RUNNING",
            "RetrainingStartDate": datetime.datetime(2031, 3, 4, tzinfo=datetime.UTC),
            "RetrainingFrequency": "P30D",
            "LookbackWindow": "P360D",
        }
    ]


def test_list_max_results_pages_cover_all_once(lookout_client, schedulers):
    pages = _all_pages(lookout_client, MaxResults=3)

    assert [len(page["RetrainingSchedulerSummaries"]) for page in pages] == [3, 3, 1]
    assert _names(pages) == ["fan-1", "fan-2", "pump-1", "pump-2", "pump-3", "pump-4", "pump-5"]


def test_list_exact_page_size_last_page_without_token(lookout_client, schedulers):
    response = lookout_client.list_retraining_schedulers(MaxResults=7)

    assert len(response["RetrainingSchedulerSummaries"]) == 7
    assert "NextToken" not in response


def test_list_without_max_results_pages_of_fifty(lookout_client, emulator, create_scheduler):
    for index in range(51):
        emulator.create_model(f"model-{index:02d}")
        create_scheduler(f"model-{index:02d}")

    first = lookout_client.list_retraining_schedulers()
    second = lookout_client.list_retraining_schedulers(NextToken=first["NextToken"])

    assert len(first["RetrainingSchedulerSummaries"]) == 50
    assert [item["ModelName"] for item in second["RetrainingSchedulerSummaries"]] == ["model-50"]


def test_list_model_name_begins_with_only_matching(lookout_client, schedulers):
    pages = _all_pages(lookout_client, ModelNameBeginsWith="fan")

    assert _names(pages) == ["fan-1", "fan-2"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("RUNNING", ["pump-1", "pump-2", "pump-3", "pump-4", "pump-5"]),
        ("STOPPED", ["fan-1", "fan-2"]),
        ("PENDING", []),
        ("STOPPING", []),
    ],
)
def test_list_status_filter_only_matching(lookout_client, schedulers, status, expected):
    pages = _all_pages(lookout_client, Status=status)

    assert _names(pages) == expected
    assert all(
        item["Status"] == status for page in pages for item in page["RetrainingSchedulerSummaries"]
    )


def test_list_status_filter_sees_settled_status(lookout_client, emulator, create_scheduler):
    emulator.settings.pending_seconds = 60.0
    emulator.create_model("pump-1")
    create_scheduler("pump-1")

    pending = _names(_all_pages(lookout_client, Status="PENDING"))
    emulator.settings.pending_seconds = 0.0
    running = _names(_all_pages(lookout_client, Status="RUNNING"))

    assert pending == ["pump-1"]
    assert running == ["pump-1"]


def test_list_filters_combined_with_pagination(lookout_client, schedulers, emulator):
    lookout_client.stop_retraining_scheduler(ModelName="pump-2")

    pages = _all_pages(lookout_client, ModelNameBeginsWith="pump", Status="RUNNING", MaxResults=2)

    assert _names(pages) == ["pump-1", "pump-3", "pump-4", "pump-5"]
    assert len(pages) == 2


def test_list_schedulers_created_between_pages_not_repeated(
    lookout_client, schedulers, emulator, create_scheduler
):
    first = lookout_client.list_retraining_schedulers(MaxResults=4)
    emulator.create_model("aaa-early")
    create_scheduler("aaa-early")

    rest = _all_pages(lookout_client, MaxResults=4, NextToken=first["NextToken"])

    names = _names([first, *rest])
    assert len(names) == len(set(names)) == 7


@pytest.mark.parametrize("next_token", ["not-a-token", "eyJhZnRlciI6ICJ4In0=", "%%%"])
def test_list_invalid_next_token_validation_error(
    lookout_client, schedulers, expect_service_error, next_token
):
    with expect_service_error("ValidationException", 400, match="NextToken"):
        lookout_client.list_retraining_schedulers(NextToken=next_token)


def test_list_next_token_with_other_filters_validation_error(
    lookout_client, schedulers, expect_service_error
):
    token = lookout_client.list_retraining_schedulers(MaxResults=2)["NextToken"]

    with expect_service_error("ValidationException", 400, match="same ModelNameBeginsWith"):
        lookout_client.list_retraining_schedulers(NextToken=token, Status="RUNNING")


def test_list_other_region_excluded(lookout_client_factory, schedulers, emulator):
    eu_client = lookout_client_factory(region_name="eu-west-1")
    emulator.create_model("pump-eu", region="eu-west-1")
    eu_client.create_retraining_scheduler(
        ModelName="pump-eu", RetrainingFrequency="P30D", LookbackWindow="P180D"
    )

    eu_names = _names(_all_pages(eu_client))

    assert eu_names == ["pump-eu"]
