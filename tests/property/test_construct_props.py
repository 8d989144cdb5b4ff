"""Generated props for RetrainingScheduler: valid ones synthesize, invalid ones raise our error.

Each prop is drawn valid or broken by construction (``hostile_values``): a wrong type, an
out-of-range or non-finite number, a malformed or non-ASCII string, a naive datetime or one
without a UTC day, an enum of the wrong kind, a second scheduler on the same model or with
another log retention. Then:

- a valid combination synthesizes, and the custom resource carries exactly the properties
  (and removal policies) it declares;
- an invalid one raises ``PropertyValidationError`` (or its subclass) naming a broken prop,
  before the scheduler's construct exists; never another exception from deep in CDK or jsii.

A non-finite number handed to jsii kills its kernel process, and every CDK call after it in
the process; so each example starts by checking that jsii still answers.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hostile_values import (
    ZONES,
    invalid_durations,
    invalid_model_names,
    model_names,
    valid_durations,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

from lookout_retraining import (
    LookbackWindow,
    PromoteMode,
    RetrainingFrequency,
    RetrainingScheduler,
)
from lookout_retraining_handler.rules import PropertyValidationError

pytestmark = [pytest.mark.synth, pytest.mark.slow]

SCHEDULER_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"
NOT_CHECKED = ("ServiceToken", "ServiceTimeout")
CALENDAR_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Prop:
    """One prop as generated: how to make its value, whether it is valid, what it renders."""

    label: str
    make: Any
    valid: bool
    rendered: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return self.label


def literal(value, valid, rendered=None):
    return Prop(repr(value), lambda: value, valid, rendered or {})


def unit(method, amount, designator):
    valid = isinstance(amount, int) and not isinstance(amount, bool)
    if valid:
        days = amount * {"D": 1, "M": 30, "Y": 365}[designator]
        valid = 30 <= days <= 365
    rendered = {"RetrainingFrequency": f"P{amount}{designator}"} if valid else {}
    factory = getattr(RetrainingFrequency, method)
    return Prop(
        f"RetrainingFrequency.{method}({amount!r})", lambda: factory(amount), valid, rendered
    )


def of(text, valid):
    rendered = {"RetrainingFrequency": text} if valid else {}
    return Prop(
        f"RetrainingFrequency.of({text!r})", lambda: RetrainingFrequency.of(text), valid, rendered
    )


non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf")])
not_whole = st.one_of(
    non_finite,
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=4),
    st.none(),
    st.builds(object),
)
frequencies = {
    True: st.one_of(
        st.integers(30, 365).map(lambda n: unit("days", n, "D")),
        st.integers(1, 12).map(lambda n: unit("months", n, "M")),
        st.just(unit("years", 1, "Y")),
        valid_durations().map(lambda text: of(text, True)),
    ),
    False: st.one_of(
        st.one_of(st.integers(max_value=29), st.integers(min_value=366), not_whole).map(
            lambda n: unit("days", n, "D")
        ),
        st.one_of(st.integers(max_value=0), st.integers(min_value=13), not_whole).map(
            lambda n: unit("months", n, "M")
        ),
        st.one_of(st.integers(max_value=0), st.integers(min_value=2), not_whole).map(
            lambda n: unit("years", n, "Y")
        ),
        invalid_durations().map(lambda text: of(text, False)),
        st.sampled_from(["P30D", 30, None, LookbackWindow.DAYS_180]).map(
            lambda value: literal(value, False)
        ),
    ),
}
start_dates = {
    True: st.one_of(
        st.just(literal(None, True)),
        st.dates().map(lambda day: literal(day, True, {"RetrainingStartDate": day.isoformat()})),
        st.dates().map(
            lambda day: literal(day.isoformat(), True, {"RetrainingStartDate": day.isoformat()})
        ),
        st.datetimes(timezones=st.sampled_from(ZONES))
        .filter(lambda moment: 1 < moment.year < 9999)
        .map(
            lambda moment: literal(
                moment,
                True,
                {"RetrainingStartDate": moment.astimezone(datetime.UTC).date().isoformat()},
            )
        ),
    ),
    False: st.one_of(
        st.datetimes().map(lambda moment: literal(moment, False)),
        st.sampled_from(
            [
                datetime.datetime(1, 1, 1, tzinfo=ZONES[1]),
                datetime.datetime(9999, 12, 31, 23, tzinfo=ZONES[2]),
            ]
        ).map(lambda moment: literal(moment, False)),
        st.one_of(
            # Text that does not even begin like YYYY-MM-DD: never a start date.
            st.text(max_size=12).filter(lambda text: not CALENDAR_DAY.match(text)),
            st.integers(),
            non_finite,
        ).map(lambda value: literal(value, False)),
    ),
}
GENERATORS = {
    "model_name": {
        True: model_names.map(lambda name: literal(name, True, {"ModelName": name})),
        False: st.one_of(
            invalid_model_names,
            st.integers(),
            non_finite,
            st.none(),
            st.lists(st.text(), max_size=2),
        ).map(lambda value: literal(value, False)),
    },
    "retraining_frequency": frequencies,
    "lookback_window": {
        True: st.sampled_from(LookbackWindow).map(
            lambda window: literal(window, True, {"LookbackWindow": window.value})
        ),
        False: st.sampled_from(["P180D", 180, None, PromoteMode.MANUAL]).map(
            lambda value: literal(value, False)
        ),
    },
    "promote_mode": {
        True: st.sampled_from([None, *PromoteMode]).map(
            lambda mode: literal(mode, True, {} if mode is None else {"PromoteMode": mode.value})
        ),
        False: st.sampled_from(["MANUAL", 1, LookbackWindow.DAYS_360]).map(
            lambda value: literal(value, False)
        ),
    },
    "retraining_start_date": start_dates,
    "client_token": {
        True: st.one_of(
            st.none(), st.text(st.characters(max_codepoint=127), min_size=1, max_size=256)
        ).map(lambda token: literal(token, True, {} if token is None else {"ClientToken": token})),
        False: st.one_of(
            st.just(""),
            st.text(st.characters(max_codepoint=127), min_size=257, max_size=400),
            st.text(min_size=1, max_size=10).map(lambda text: text + "\u00e9"),
            st.integers(),
            non_finite,
        ).map(lambda value: literal(value, False)),
    },
    "running": {
        True: st.booleans().map(
            lambda flag: literal(flag, True, {} if flag else {"DesiredState": "STOPPED"})
        ),
        False: st.sampled_from(["true", 1, None, float("nan")]).map(
            lambda value: literal(value, False)
        ),
    },
    "adopt_existing": {
        True: st.booleans().map(
            lambda flag: literal(flag, True, {"AdoptExisting": "true"} if flag else {})
        ),
        False: st.sampled_from(["false", 0, None]).map(lambda value: literal(value, False)),
    },
    "removal_policy": {
        True: st.sampled_from(
            [
                cdk.RemovalPolicy.DESTROY,
                cdk.RemovalPolicy.RETAIN,
                cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            ]
        ).map(lambda policy: literal(policy, True)),
        False: st.sampled_from([cdk.RemovalPolicy.SNAPSHOT, "RETAIN", None]).map(
            lambda value: literal(value, False)
        ),
    },
    "log_retention": {
        True: st.sampled_from([logs.RetentionDays.THREE_MONTHS, logs.RetentionDays.ONE_WEEK]).map(
            lambda retention: literal(retention, True)
        ),
        False: st.sampled_from([90, "THREE_MONTHS", None]).map(lambda value: literal(value, False)),
    },
}
POLICIES = {
    cdk.RemovalPolicy.DESTROY: ("Delete", "Delete"),
    cdk.RemovalPolicy.RETAIN: ("Retain", "Retain"),
    cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE: ("RetainExceptOnCreate", "Retain"),
}


@st.composite
def prop_sets(draw):
    """Return (props, broken prop names): all valid half of the time."""
    props = {name: draw(choices[True]) for name, choices in GENERATORS.items()}
    if draw(st.booleans()):
        for name in draw(st.lists(st.sampled_from(sorted(GENERATORS)), min_size=1, max_size=2)):
            props[name] = draw(GENERATORS[name][False])
    return props, sorted(name for name, prop in props.items() if not prop.valid)


@st.composite
def second_schedulers(draw, first):
    """A second scheduler for the stack, None, or one that clashes with the first."""
    kind = draw(st.sampled_from(["none", "other", "same-model", "other-retention"]))
    if kind == "none":
        return None, None
    props = {name: draw(choices[True]) for name, choices in GENERATORS.items()}
    if kind == "same-model":
        props = {**props, "model_name": first["model_name"]}
        return {**props, "log_retention": first["log_retention"]}, "model_name"
    if props["model_name"].rendered == first["model_name"].rendered:
        return None, None
    if kind == "other-retention":
        retention = first["log_retention"].make()
        other = next(r for r in logs.RetentionDays if r != retention)
        return {**props, "log_retention": literal(other, True)}, "log_retention"
    return {**props, "log_retention": first["log_retention"]}, None


def add_scheduler(stack, construct_id, props):
    return RetrainingScheduler(
        stack, construct_id, **{name: prop.make() for name, prop in props.items()}
    )


def expected_resource(props):
    rendered = {}
    for prop in props.values():
        rendered.update(prop.rendered)
    deletion, update_replace = POLICIES[props["removal_policy"].make()]
    return rendered, deletion, update_replace


def rendered_resources(stack):
    template = cdk.assertions.Template.from_stack(stack).to_json()
    return [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == SCHEDULER_TYPE
    ]


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_construct_generated_props_synthesize_as_declared_or_raise_property_error(
    data, reliability_figures
):
    # jsii still answers: an earlier example did not kill its kernel.
    assert cdk.Token.is_unresolved("plain") is False
    first, broken = data.draw(prop_sets(), label="first")
    second, clash = (None, None) if broken else data.draw(second_schedulers(first), label="second")
    stack = cdk.Stack(cdk.App(), "Props")

    refused = None
    try:
        add_scheduler(stack, "First", first)
        if second is not None:
            add_scheduler(stack, "Second", second)
    except PropertyValidationError as error:
        refused = error

    if refused is not None:
        assert broken or clash, f"valid props refused: {refused}"
        assert refused.property_name in (broken or [clash]), (refused.property_name, broken)
        assert stack.node.try_find_child("Second" if clash else "First") is None
        reliability_figures.count("property-based: invalid construct props refused", 1)
        return
    assert not broken, f"invalid props {broken} were accepted"
    assert clash is None, f"a second scheduler clashing on {clash} was accepted"

    resources = rendered_resources(stack)

    declared = [props for props in (first, second) if props is not None]
    assert len(resources) == len(declared)
    for resource, props in zip(resources, declared, strict=True):
        rendered, deletion, update_replace = expected_resource(props)
        properties = {k: v for k, v in resource["Properties"].items() if k not in NOT_CHECKED}
        assert properties == rendered
        assert resource.get("DeletionPolicy") == deletion
        assert resource.get("UpdateReplacePolicy") == update_replace
    reliability_figures.count("property-based: valid construct props synthesized", 1)


EDGE_PROBE = """
import datetime, json, math, sys
import aws_cdk as cdk
from lookout_retraining import LookbackWindow, RetrainingFrequency, RetrainingScheduler
from lookout_retraining_handler.rules import PropertyValidationError

zone = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
west = datetime.timezone(datetime.timedelta(hours=-5))
def scheduler(**props):
    stack = cdk.Stack(cdk.App(), "Edge")
    RetrainingScheduler(stack, "Scheduler", **{
        "model_name": "pump-1",
        "retraining_frequency": RetrainingFrequency.days(30),
        "lookback_window": LookbackWindow.DAYS_180,
        **props,
    })
cases = {}
for method in ("days", "months", "years"):
    for label, amount in (("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf),
                          ("object", object())):
        cases[f"{method}({label})"] = (
            "retraining_frequency", lambda m=method, a=amount: getattr(RetrainingFrequency, m)(a)
        )
cases["start 0001-01-01T00:00+05:30"] = (
    "retraining_start_date",
    lambda: scheduler(retraining_start_date=datetime.datetime(1, 1, 1, tzinfo=zone)),
)
cases["start 9999-12-31T23:00-05:00"] = (
    "retraining_start_date",
    lambda: scheduler(retraining_start_date=datetime.datetime(9999, 12, 31, 23, tzinfo=west)),
)
outcomes = {}
for label, (expected, attempt) in cases.items():
    try:
        attempt()
        outcomes[label] = "accepted"
    except PropertyValidationError as error:
        outcomes[label] = error.property_name if error.property_name == expected else repr(error)
    except Exception as error:
        outcomes[label] = f"{type(error).__name__}: {str(error)[:120]}"
# jsii must still answer after all of them.
outcomes["jsii alive"] = cdk.Token.is_unresolved("plain") is False
print(json.dumps(outcomes))
"""


def test_construct_edge_values_raise_property_error_and_leave_jsii_running():
    import json
    import subprocess
    import sys

    # In a process of its own: if a value crashed jsii's kernel, it would take every later
    # CDK call of this worker with it.
    completed = subprocess.run(
        [sys.executable, "-c", EDGE_PROBE],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    outcomes = json.loads(completed.stdout.strip().splitlines()[-1])

    assert outcomes.pop("jsii alive") is True
    assert {label: outcome for label, outcome in outcomes.items()} == {
        label: ("retraining_start_date" if label.startswith("start") else "retraining_frequency")
        for label in outcomes
    }
