"""A stack's whole life, end to end: the real asset, the local deployer and the emulator.

After each step the emulator must hold exactly the schedulers the app declares, with exactly
the declared settings, and nothing else.
"""

from __future__ import annotations

import datetime

import pytest
from end_to_end import (
    EXAMPLE_STACK,
    Declared,
    answered_once,
    created_at,
    declared_state,
    observed_state,
    scheduler_ids,
    synthesize,
    synthesize_example_app,
)

pytestmark = [pytest.mark.synth, pytest.mark.slow]

STACK = "LifecycleStack"
VERSION_1 = (
    Declared("Alpha", "alpha-1", "P30D", "P180D", promote_mode="MANAGED"),
    Declared(
        "Beta",
        "beta-1",
        "P2M",
        "P360D",
        promote_mode="MANUAL",
        start_date=datetime.date(2027, 1, 4),
        running=False,
    ),
    Declared("Gamma", "gamma-1", "P45D", "P540D", model_parameter="GammaModel"),
    Declared("Delta", "delta-1", "P1Y", "P720D", start_date=datetime.date(2027, 3, 1)),
)
# Every scheduler changes in place: settings, promote mode, start date, running state.
VERSION_2 = (
    VERSION_1[0].changed(frequency="P60D", lookback="P360D"),
    VERSION_1[1].changed(promote_mode="MANAGED", running=True),
    VERSION_1[2].changed(frequency="P3M"),
    VERSION_1[3].changed(start_date=datetime.date(2027, 6, 1), running=False),
)


def test_stack_lifecycle_create_update_replace_destroy_matches_declaration_each_step(
    emulator, deployer_for, tmp_path, reliability_figures
):
    for model in ("alpha-1", "beta-1", "gamma-1", "gamma-2", "delta-1"):
        emulator.create_model(model)
    first = synthesize(tmp_path / "v1", STACK, VERSION_1)
    second = synthesize(tmp_path / "v2", STACK, VERSION_2)
    deployer = deployer_for()
    ids = first.logical_ids

    created = deployer.deploy(STACK, assembly_dir=first.outdir)
    after_create = observed_state(emulator)
    born = created_at(emulator)
    ids_after_create = scheduler_ids(created, deployer)
    updated = deployer.deploy(STACK, assembly_dir=second.outdir)
    after_update = observed_state(emulator)
    born_after_update = created_at(emulator)
    ids_after_update = scheduler_ids(updated, deployer)
    replaced = deployer.deploy(
        STACK, assembly_dir=second.outdir, parameters={"GammaModel": "gamma-2"}
    )
    after_replace = observed_state(emulator)
    ids_after_replace = scheduler_ids(replaced, deployer)
    destroyed = deployer.destroy(STACK)

    assert created.status == "CREATE_COMPLETE", created.status_reason
    assert after_create == declared_state(VERSION_1)
    assert ids_after_create == {
        ids["Alpha"]: "alpha-1",
        ids["Beta"]: "beta-1",
        ids["Gamma"]: "gamma-1",
        ids["Delta"]: "delta-1",
    }

    assert updated.status == "UPDATE_COMPLETE", updated.status_reason
    assert sorted((d.request_type, d.logical_id) for d in updated.deliveries) == sorted(
        ("Update", logical_id) for logical_id in ids.values()
    )
    assert after_update == declared_state(VERSION_2)
    assert ids_after_update == ids_after_create
    # In place: the same schedulers, not new ones.
    assert born_after_update == born

    assert replaced.status == "UPDATE_COMPLETE", replaced.status_reason
    assert [(d.request_type, d.logical_id) for d in replaced.deliveries] == [
        ("Update", ids["Gamma"]),
        ("Delete", ids["Gamma"]),
    ]
    assert replaced.deliveries[1].event["PhysicalResourceId"] == "gamma-1"
    assert ids_after_replace[ids["Gamma"]].startswith("gamma-2|previous=gamma-1@")
    assert after_replace == declared_state(VERSION_2, {"GammaModel": "gamma-2"})

    assert destroyed.status == "DELETE_COMPLETE", destroyed.status_reason
    assert observed_state(emulator) == {}
    for result in (created, updated, replaced, destroyed):
        answered_once(result, reliability_figures)
    reliability_figures.count("end to end: schedulers created", 4 + 1)


EXAMPLE_MODELS = ("compressor-line-1", "turbine-7", "pump-station-3", "pump-station-4")


def test_example_app_create_replace_by_parameter_destroy_keeps_only_retained_schedulers(
    emulator, deployer_for, tmp_path, reliability_figures
):
    arns = {model: emulator.create_model(model) for model in EXAMPLE_MODELS}
    assembly = synthesize_example_app(tmp_path / "example")
    deployer = deployer_for(assembly_dir=assembly)
    compressor = {
        "Status": "RUNNING",
        "RetrainingFrequency": "P1M",
        "LookbackWindow": "P180D",
        "PromoteMode": "MANAGED",
        "RetrainingStartDate": None,
    }
    turbine = {
        "Status": "STOPPED",
        "RetrainingFrequency": "P3M15D",
        "LookbackWindow": "P360D",
        "PromoteMode": "MANUAL",
        "RetrainingStartDate": "2026-01-05T00:00:00.000Z",
    }
    pump = {
        "Status": "RUNNING",
        "RetrainingFrequency": "P45D",
        "LookbackWindow": "P720D",
        "PromoteMode": "MANAGED",
        "RetrainingStartDate": None,
    }

    created = deployer.deploy(EXAMPLE_STACK)
    after_create = observed_state(emulator)
    replaced = deployer.deploy(EXAMPLE_STACK, parameters={"PumpModelName": "pump-station-4"})
    after_replace = observed_state(emulator)
    destroyed = deployer.destroy(EXAMPLE_STACK)

    assert created.status == "CREATE_COMPLETE", created.status_reason
    assert after_create == {
        "compressor-line-1": compressor,
        "turbine-7": turbine,
        "pump-station-3": pump,
    }
    assert created.outputs["CompressorModelArn"] == arns["compressor-line-1"]
    assert created.outputs["TurbineSchedulerStatus"] == "STOPPED"
    assert created.outputs["PumpModelArn"] == arns["pump-station-3"]
    # The pump scheduler is RETAIN: its replacement keeps the old scheduler where it is.
    assert replaced.status == "UPDATE_COMPLETE", replaced.status_reason
    assert [d.request_type for d in replaced.deliveries] == ["Update"]
    assert after_replace == after_create | {"pump-station-4": pump}
    assert replaced.outputs["PumpModelArn"] == arns["pump-station-4"]
    assert destroyed.status == "DELETE_COMPLETE", destroyed.status_reason
    assert observed_state(emulator) == {"pump-station-3": pump, "pump-station-4": pump}
    for result in (created, replaced, destroyed):
        answered_once(result, reliability_figures)
    reliability_figures.count("end to end: schedulers created", 3 + 1)
