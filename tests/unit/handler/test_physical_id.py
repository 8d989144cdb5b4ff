"""The physical id scheme: owned, owned after a replacement, and ids that own nothing."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lookout_retraining_handler.physical_id import (
    OwnedScheduler,
    PreviousScheduler,
    epoch_millis,
    not_created,
    parse_physical_id,
)

model_names = st.from_regex(r"[0-9a-zA-Z_-]{1,200}", fullmatch=True)


def test_physical_id_model_name_parses_as_owned():
    assert parse_physical_id("pump-1") == OwnedScheduler("pump-1")


def test_physical_id_previous_suffix_parses_model_and_creation_time():
    parsed = parse_physical_id("pump-2|previous=pump-1@1767323045678")

    assert parsed == OwnedScheduler("pump-2", PreviousScheduler("pump-1", 1767323045678))


def test_physical_id_not_created_owns_nothing():
    assert parse_physical_id(not_created("f2e9-request")) is None
    assert not_created("f2e9-request") == "not-created|f2e9-request"


def test_physical_id_model_named_not_created_is_owned():
    # Without the "|" it is a model name like any other.
    assert parse_physical_id("not-created") == OwnedScheduler("not-created")


@pytest.mark.parametrize(
    "physical_id",
    [
        "",
        " pump-1",
        "pump-1\n",
        "pump 1",
        "x" * 201,
        "pump-2|previous=pump-1",
        "pump-2|previous=pump-1@",
        "pump-2|previous=pump-1@12a",
        "pump-2|previous=pump-1@-5",
        "pump-2|previous=@123",
        "pump-2|previous=pump 1@123",
        "pump-2|previous=pump-1@1234567890123456",
        "pump-2|previous=pump-1@123|previous=pump-0@1",
        "pump-2|other=pump-1@123",
        "arn:aws:lookoutequipment:us-east-1:123456789012:model/pump-1",
        None,
        42,
        ["pump-1"],
    ],
)
def test_physical_id_malformed_owns_nothing(physical_id):
    assert parse_physical_id(physical_id) is None


@given(
    model=model_names,
    previous=st.none() | st.tuples(model_names, st.integers(0, 10**15 - 1)),
)
def test_physical_id_formatted_id_parses_back_unchanged(model, previous):
    owned = OwnedScheduler(model, None if previous is None else PreviousScheduler(*previous))

    assert parse_physical_id(str(owned)) == owned


def test_epoch_millis_truncates_to_whole_milliseconds():
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=datetime.UTC)

    assert epoch_millis(moment) == 1767323045678


def test_epoch_millis_same_instant_in_other_zone_is_equal():
    utc = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC)
    local = utc.astimezone(datetime.timezone(datetime.timedelta(hours=-7)))

    assert epoch_millis(local) == epoch_millis(utc)


def test_epoch_millis_naive_datetime_refused():
    with pytest.raises(ValueError, match="naive"):
        epoch_millis(datetime.datetime(2026, 1, 2))
