"""Generated ResourceProperties and malformed events, through the real handler and emulator.

Hypothesis builds each property from parts that are valid or broken by construction: a missing
required key, a wrong JSON type, a huge or non-ASCII string, a duration out of range or not in
years, months and days, a start date without a UTC day, an unknown key. The expected outcome
comes from that construction and the service's rules (``hostile_values``), not from the
handler's own validation code:

- every event gets exactly one response, within CloudFormation's limits;
- an invalid one is FAILED, names a broken property, and reaches the service with no call at
  all (so with no mutating call);
- a valid one succeeds, and the scheduler is then exactly as declared.

The handler runs in-process (``build_handler()``, through the harness the functional tests
use) as one warm Lambda container per test, against one emulator. The settings are fixed
(``derandomize``), so CI sees the same examples every run.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

import pytest
from handler_harness import LambdaContext
from hostile_values import (
    LOOKBACK_WINDOWS,
    NON_ASCII_DURATIONS,
    ZONES,
    frequency_is_valid,
    invalid_durations,
    invalid_model_names,
    model_names,
    odd_text,
    valid_durations,
    wrong_types,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lookout_retraining.local.emulator import MUTATING_OPERATIONS

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
MISSING = object()
PROPERTY_NAMES = (
    "ModelName",
    "RetrainingFrequency",
    "LookbackWindow",
    "PromoteMode",
    "RetrainingStartDate",
    "ClientToken",
    "DesiredState",
    "AdoptExisting",
)
KNOWN_KEYS = (*PROPERTY_NAMES, "ServiceToken", "ServiceTimeout")


@dataclass(frozen=True)
class Part:
    """One property as generated: its value (or MISSING) and what it must become."""

    value: object
    valid: bool
    expected: object = None


def frequency_part(text):
    return Part(text, frequency_is_valid(text), text)


def start_date_part(moment):
    """A date-time with an offset: valid if its UTC day is a date (years 1 to 9999)."""
    try:
        day = moment.astimezone(datetime.UTC).date()
    except OverflowError:
        return Part(moment.isoformat(), False)
    return Part(moment.isoformat().replace("+00:00", "Z"), True, day)


valid_parts = {
    "ModelName": model_names.map(lambda name: Part(name, True, name)),
    "RetrainingFrequency": valid_durations().map(frequency_part),
    "LookbackWindow": st.sampled_from(LOOKBACK_WINDOWS).map(lambda text: Part(text, True, text)),
    "PromoteMode": st.sampled_from([MISSING, "MANAGED", "MANUAL"]).map(
        lambda mode: Part(mode, True, "MANAGED" if mode is MISSING else mode)
    ),
    "RetrainingStartDate": st.one_of(
        st.just(Part(MISSING, True, None)),
        st.dates().map(lambda day: Part(day.isoformat(), True, day)),
        st.datetimes(timezones=st.sampled_from(ZONES)).map(start_date_part),
    ),
    # Made unique, as the service refuses a token reused with other parameters.
    "ClientToken": st.one_of(
        st.just(MISSING),
        st.text(st.characters(max_codepoint=127), max_size=200),
    ).map(lambda token: Part(token if token is MISSING else f"{token}-{uuid.uuid4().hex}", True)),
    "DesiredState": st.sampled_from([MISSING, "RUNNING", "STOPPED"]).map(
        lambda state: Part(state, True, "STOPPED" if state == "STOPPED" else "RUNNING")
    ),
    "AdoptExisting": st.sampled_from([MISSING, "true", "false", True, False]).map(
        lambda flag: Part(flag, True)
    ),
}
invalid_parts = {
    "ModelName": st.one_of(st.just(MISSING), invalid_model_names, wrong_types, st.none()).map(
        lambda value: Part(value, False)
    ),
    "RetrainingFrequency": st.one_of(
        invalid_durations().map(frequency_part),
        st.one_of(st.just(MISSING), wrong_types, st.none()).map(lambda value: Part(value, False)),
    ),
    "LookbackWindow": st.one_of(
        st.sampled_from(["P90D", "p180d", "180", "P180D ", "P181D", "P\uff11\uff18\uff10D"]),
        st.just(MISSING),
        odd_text.filter(lambda text: text not in LOOKBACK_WINDOWS),
        wrong_types,
        st.none(),
    ).map(lambda value: Part(value, False)),
    "PromoteMode": st.one_of(st.sampled_from(["managed", "AUTO", "", "MANUAL "]), wrong_types).map(
        lambda value: Part(value, False)
    ),
    "RetrainingStartDate": st.one_of(
        st.sampled_from(
            [
                "2026-02-30",
                "2026-13-01",
                "2026-06-01T08:00:00",
                "2026-W01-1",
                "2026-001",
                "20260601",
                "next monday",
                "",
                "2026-06-01 ",
                "0001-01-01T00:00:00+05:30",
                "9999-12-31T23:00:00-05:00",
            ]
        ),
        wrong_types,
    ).map(lambda value: Part(value, False)),
    "ClientToken": st.one_of(
        st.just(""),
        st.integers(257, 5000).map(lambda n: "t" * n),
        st.text(min_size=1, max_size=20).map(lambda text: text + "\u00f6"),
        wrong_types,
    ).map(lambda value: Part(value, False)),
    "DesiredState": st.one_of(
        st.sampled_from(["running", "PAUSED", "", "STOPPED "]), wrong_types, st.none()
    ).map(lambda value: Part(value, False)),
    "AdoptExisting": st.one_of(
        st.sampled_from(["yes", "True", "FALSE", "1", ""]),
        st.integers(),
        st.none(),
        st.lists(st.booleans(), max_size=2),
    ).map(lambda value: Part(value, False)),
}

unknown_keys = st.text(min_size=1, max_size=60).filter(lambda key: key not in KNOWN_KEYS)


@st.composite
def declarations(draw, *, always_valid=False):
    """Return (properties, broken property names, expected parts): valid half of the time."""
    parts = {name: draw(valid_parts[name]) for name in PROPERTY_NAMES}
    if not always_valid and draw(st.booleans()):
        broken_names = draw(
            st.lists(st.sampled_from(PROPERTY_NAMES), min_size=1, max_size=3, unique=True)
        )
        for name in broken_names:
            parts[name] = draw(invalid_parts[name])
    broken_names = [name for name in PROPERTY_NAMES if not parts[name].valid]
    properties = {name: part.value for name, part in parts.items() if part.value is not MISSING}
    extra = [] if always_valid else draw(st.lists(unknown_keys, max_size=2, unique=True))
    for key in extra:
        properties[key] = draw(st.one_of(st.text(max_size=10), wrong_types))
    return properties, broken_names + extra, parts


def names_a_broken_property(reason, broken_names):
    return any(
        (name in reason) if name in PROPERTY_NAMES else ("Unknown propert" in reason)
        for name in broken_names
    )


def scheduler_of(emulator, model):
    found = [item for item in emulator.snapshot()["schedulers"] if item["ModelName"] == model]
    return found[0] if found else None


def expected_scheduler(parts, *, previous=None):
    """Return what the emulator must hold for a declaration that succeeded.

    On an update in place, an undeclared RetrainingStartDate leaves the previous one; an
    undeclared PromoteMode is the default, MANAGED, whether it was declared before or not.
    """
    start_day = parts["RetrainingStartDate"].expected
    start_date = (
        f"{start_day.isoformat()}T00:00:00.000Z"
        if start_day is not None
        else (previous or {}).get("RetrainingStartDate")
    )
    return {
        "Status": parts["DesiredState"].expected,
        "RetrainingFrequency": parts["RetrainingFrequency"].expected,
        "LookbackWindow": parts["LookbackWindow"].expected,
        "PromoteMode": parts["PromoteMode"].expected,
        "RetrainingStartDate": start_date,
    }


def observed(scheduler):
    keys = ("Status", "RetrainingFrequency", "LookbackWindow", "PromoteMode", "RetrainingStartDate")
    return {key: scheduler[key] for key in keys}


def ensure_model(emulator, model):
    if not any(item["ModelName"] == model for item in emulator.snapshot()["models"]):
        emulator.create_model(model)


def mutating(emulator):
    return [call.operation for call in emulator.calls if call.operation in MUTATING_OPERATIONS]


def check_one_response(invocation):
    # Invocation.response asserts exactly one response, readable and within 4,096 bytes.
    body = invocation.response
    assert len(body.get("Reason", "")) <= 256
    return body


@pytest.mark.slow
@settings(SETTINGS, max_examples=120)
@given(declaration=declarations())
def test_create_generated_properties_answered_once_failed_naming_property_or_as_declared(
    cloudformation, emulator, reliability_figures, declaration
):
    properties, broken_names, parts = declaration
    valid = not broken_names
    if valid:
        ensure_model(emulator, properties["ModelName"])
    emulator.clear_calls()

    created = cloudformation.create(properties)

    body = check_one_response(created)
    reliability_figures.count("property-based: generated events answered", 1)
    if not valid:
        assert body["Status"] == "FAILED"
        assert body["PhysicalResourceId"] == f"not-created|{created.event['RequestId']}"
        assert names_a_broken_property(body["Reason"], broken_names), body["Reason"]
        assert emulator.calls == []
        reliability_figures.count("property-based: invalid events failed with no call", 1)
        return
    model = properties["ModelName"]
    assert body["Status"] == "SUCCESS", body.get("Reason")
    assert body["PhysicalResourceId"] == model
    assert body["Data"]["ModelName"] == model
    assert observed(scheduler_of(emulator, model)) == expected_scheduler(parts)

    deleted = cloudformation.delete(model, properties)

    assert check_one_response(deleted)["Status"] == "SUCCESS"
    assert scheduler_of(emulator, model) is None
    reliability_figures.count("property-based: generated events answered", 1)
    reliability_figures.count("property-based: valid schedulers created as declared", 1)


@pytest.mark.slow
@settings(SETTINGS, max_examples=80)
@given(
    base=declarations(always_valid=True),
    change=declarations(),
    same_model=st.booleans(),
)
def test_update_generated_properties_answered_once_failed_unchanged_or_as_declared(
    cloudformation, emulator, reliability_figures, base, change, same_model
):
    base_properties, _, _ = base
    properties, broken_names, parts = change
    model = base_properties["ModelName"]
    ensure_model(emulator, model)
    created = cloudformation.create(base_properties)
    assert check_one_response(created)["Status"] == "SUCCESS"
    before = scheduler_of(emulator, model)
    valid = not broken_names
    if valid and same_model:
        properties["ModelName"] = model
    new_model = properties.get("ModelName")
    if valid:
        ensure_model(emulator, new_model)
    emulator.clear_calls()

    updated = cloudformation.update(model, properties, base_properties)

    body = check_one_response(updated)
    reliability_figures.count("property-based: generated events answered", 2)
    if not valid:
        assert body["Status"] == "FAILED"
        assert body["PhysicalResourceId"] == model
        assert names_a_broken_property(body["Reason"], broken_names), body["Reason"]
        assert emulator.calls == []
        assert scheduler_of(emulator, model) == before
        reliability_figures.count("property-based: invalid events failed with no call", 1)
        owned = [model]
    elif new_model == model:
        assert body["Status"] == "SUCCESS", body.get("Reason")
        assert body["PhysicalResourceId"] == model
        assert observed(scheduler_of(emulator, model)) == expected_scheduler(
            parts, previous=observed(before)
        )
        assert scheduler_of(emulator, model)["CreatedAt"] == before["CreatedAt"]
        owned = [model]
    else:
        assert body["Status"] == "SUCCESS", body.get("Reason")
        assert body["PhysicalResourceId"].startswith(f"{new_model}|previous={model}@")
        assert observed(scheduler_of(emulator, new_model)) == expected_scheduler(parts)
        assert scheduler_of(emulator, model) == before
        owned = [model, body["PhysicalResourceId"]]
    if valid:
        reliability_figures.count("property-based: valid schedulers updated as declared", 1)

    for physical_id in owned:
        assert (
            check_one_response(cloudformation.delete(physical_id, base_properties))["Status"]
            == "SUCCESS"
        )
    assert emulator.snapshot()["schedulers"] == []


# Values the generators hold but may never draw alone: each must fail on its own.
EDGE_VALUES = [
    *(("RetrainingFrequency", duration) for duration in NON_ASCII_DURATIONS),
    # Valid date-times whose UTC day falls outside the years 1 to 9999.
    ("RetrainingStartDate", "0001-01-01T00:00:00+05:30"),
    ("RetrainingStartDate", "9999-12-31T23:00:00-05:00"),
]


@pytest.mark.parametrize(("name", "value"), EDGE_VALUES)
def test_create_edge_value_fails_naming_the_property_without_any_call(
    cloudformation, emulator, models, name, value
):
    properties = {"ModelName": "pump-1", "RetrainingFrequency": "P30D", "LookbackWindow": "P180D"}

    created = cloudformation.create({**properties, name: value})

    assert created.status == "FAILED"
    assert created.reason.startswith(f"{name} ")
    assert emulator.calls == []


@st.composite
def malformed_events(draw, cloudformation):
    """A Create, Update or Delete of pump-1's scheduler, broken in one to three ways."""
    request_type = draw(st.sampled_from(["Create", "Update", "Delete"]))
    properties = {"ModelName": "pump-1", "RetrainingFrequency": "P30D", "LookbackWindow": "P180D"}
    event = cloudformation.event(
        request_type,
        properties,
        physical_id=None if request_type == "Create" else "pump-1",
        old_properties=properties if request_type == "Update" else None,
    )
    if draw(st.integers(0, 9)) == 0:
        return draw(
            st.one_of(st.lists(st.text(max_size=5), max_size=3), st.text(), st.none())
        ), False
    breakages = ["RequestType", "identity", "ResponseURL"]
    if request_type != "Create":
        breakages.append("PhysicalResourceId")
    if request_type != "Delete":
        breakages.append("ResourceProperties")
    chosen = draw(st.lists(st.sampled_from(breakages), min_size=1, max_size=3, unique=True))
    url_usable = True
    for breakage in chosen:
        if breakage == "RequestType":
            event["RequestType"] = draw(
                st.one_of(
                    st.text(max_size=20).filter(lambda t: t not in ("Create", "Update", "Delete")),
                    st.sampled_from(["create", "DELETE", "Delete ", "Replace"]),
                    wrong_types,
                    st.none(),
                )
            )
        elif breakage == "identity":
            name = draw(st.sampled_from(["StackId", "RequestId", "LogicalResourceId"]))
            value = draw(st.one_of(st.just(MISSING), st.just(""), wrong_types, st.none()))
            if value is MISSING:
                del event[name]
            else:
                event[name] = value
        elif breakage == "ResponseURL":
            url_usable = False
            https_url = event["ResponseURL"]
            event["ResponseURL"] = draw(
                st.one_of(
                    st.just("http://" + https_url.removeprefix("https://")),
                    st.just("ftp://" + https_url.removeprefix("https://")),
                    st.just(https_url.removeprefix("https://")),
                    st.just(https_url.replace("/cloudformation-responses/", "/ spaced/")),
                    st.just(""),
                    st.just(MISSING),
                    wrong_types,
                    st.none(),
                )
            )
            if event["ResponseURL"] is MISSING:
                del event["ResponseURL"]
        elif breakage == "PhysicalResourceId":
            value = draw(st.one_of(st.just(MISSING), st.just(""), wrong_types, st.none()))
            if value is MISSING:
                del event["PhysicalResourceId"]
            else:
                event["PhysicalResourceId"] = value
        elif breakage == "ResourceProperties":
            event["ResourceProperties"] = draw(
                st.one_of(st.text(max_size=20), st.lists(st.integers(), max_size=3), wrong_types)
            )
    return event, url_usable


@SETTINGS
@given(data=st.data())
def test_malformed_event_answered_failed_or_logged_without_crash_or_mutating_call(
    cloudformation, emulator, handler_log_lines, reliability_figures, data
):
    if not scheduler_of(emulator, "pump-1"):
        ensure_model(emulator, "pump-1")
        created = cloudformation.create(
            {"ModelName": "pump-1", "RetrainingFrequency": "P30D", "LookbackWindow": "P180D"}
        )
        assert check_one_response(created)["Status"] == "SUCCESS"
    issued = len(cloudformation.issued_urls)
    event, url_usable = data.draw(malformed_events(cloudformation))
    issued_url = (
        cloudformation.issued_urls[-1] if len(cloudformation.issued_urls) > issued else None
    )
    before = scheduler_of(emulator, "pump-1")
    logged_before = len(handler_log_lines.lines)
    emulator.clear_calls()

    cloudformation.sent += 1
    cloudformation.handler(event, LambdaContext(30.0))

    responses = [] if issued_url is None else cloudformation.recorder.responses_for(issued_url)
    reliability_figures.count("property-based: malformed events handled", 1)
    assert mutating(emulator) == []
    assert emulator.calls == []
    assert scheduler_of(emulator, "pump-1") == before
    if url_usable:
        assert len(responses) == 1
        body = responses[0].body
        assert body is not None
        assert body["Status"] == "FAILED"
        physical_id = event.get("PhysicalResourceId")
        if isinstance(physical_id, str) and physical_id:
            assert body["PhysicalResourceId"] == physical_id
        else:
            assert body["PhysicalResourceId"].startswith("not-created|")
    else:
        assert responses == []
        assert any(
            "no usable ResponseURL" in line for line in handler_log_lines.lines[logged_before:]
        )
