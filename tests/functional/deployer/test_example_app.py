"""The deployer with the real construct and handler: a synthesized app's whole lifecycle.

The apps are synthesized in-process with the RetrainingScheduler construct, so the very asset
CloudFormation would upload runs in the deployer's Lambda-like sandboxes against the emulator.
"""

from __future__ import annotations

import pytest
from end_to_end import EXAMPLE_STACK, synthesize_example_app

pytestmark = [pytest.mark.synth, pytest.mark.slow]

STACK_NAME = "DeployerExampleStack"


def _synthesize(outdir, *, pump_days):
    import aws_cdk as cdk

    from lookout_retraining import (
        LookbackWindow,
        RetrainingFrequency,
        RetrainingScheduler,
    )

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, STACK_NAME)
    pump_model = cdk.CfnParameter(stack, "PumpModelName", default="pump-1")
    RetrainingScheduler(
        stack,
        "PumpScheduler",
        model_name=pump_model.value_as_string,
        retraining_frequency=RetrainingFrequency.days(pump_days),
        lookback_window=LookbackWindow.DAYS_180,
    )
    RetrainingScheduler(
        stack,
        "FanScheduler",
        model_name="fan-1",
        retraining_frequency=RetrainingFrequency.months(1),
        lookback_window=LookbackWindow.DAYS_360,
        running=False,
    )
    app.synth()
    return outdir


def _schedulers(emulator):
    return {item["ModelName"]: item for item in emulator.snapshot()["schedulers"]}


def test_example_app_create_update_replace_destroy_against_emulator(
    emulator, deployer_factory, tmp_path
):
    for model_name in ("pump-1", "pump-2", "fan-1"):
        emulator.create_model(model_name)
    first = _synthesize(tmp_path / "v1", pump_days=45)
    second = _synthesize(tmp_path / "v2", pump_days=60)
    deployer = deployer_factory(endpoint_url=emulator.endpoint_url, retry_attempts=2)

    created = deployer.deploy(STACK_NAME, assembly_dir=first)
    after_create = _schedulers(emulator)
    updated = deployer.deploy(STACK_NAME, assembly_dir=second)
    after_update = _schedulers(emulator)
    replaced = deployer.deploy(
        STACK_NAME, assembly_dir=second, parameters={"PumpModelName": "pump-2"}
    )
    after_replace = _schedulers(emulator)
    destroyed = deployer.destroy(STACK_NAME)

    assert created.status == "CREATE_COMPLETE", created.status_reason
    assert {name: item["Status"] for name, item in after_create.items()} == {
        "pump-1": "RUNNING",
        "fan-1": "STOPPED",
    }
    assert after_create["pump-1"]["RetrainingFrequency"] == "P45D"

    assert updated.status == "UPDATE_COMPLETE"
    assert [(d.request_type, d.physical_resource_id) for d in updated.deliveries] == [
        ("Update", "pump-1")
    ]
    assert after_update["pump-1"]["RetrainingFrequency"] == "P60D"

    assert replaced.status == "UPDATE_COMPLETE"
    requests = [(d.request_type, d.event.get("PhysicalResourceId")) for d in replaced.deliveries]
    assert requests == [("Update", "pump-1"), ("Delete", "pump-1")]
    assert (replaced.deliveries[0].physical_resource_id or "").startswith("pump-2")
    assert set(after_replace) == {"pump-2", "fan-1"}

    assert destroyed.status == "DELETE_COMPLETE"
    assert _schedulers(emulator) == {}

    secrets = [value for value in deployer.credentials.values()]
    for result in (created, updated, replaced, destroyed):
        for invocation in result.invocations:
            assert "X-Amz-Signature" not in invocation.log
            assert not any(secret in invocation.log for secret in secrets)


def test_example_app_outputs_each_schedulers_model_arn_and_status(
    emulator, deployer_factory, tmp_path
):
    arns = {
        model_name: emulator.create_model(model_name)
        for model_name in ("compressor-line-1", "turbine-7", "pump-station-3")
    }
    assembly = synthesize_example_app(tmp_path / "example")
    deployer = deployer_factory(endpoint_url=emulator.endpoint_url, retry_attempts=2)

    created = deployer.deploy(EXAMPLE_STACK, assembly_dir=assembly)

    assert created.status == "CREATE_COMPLETE", created.status_reason
    # app.py outputs <Name>ModelArn and <Name>SchedulerStatus for each of its three schedulers;
    # the turbine scheduler is declared not running.
    assert created.outputs == {
        "CompressorModelArn": arns["compressor-line-1"],
        "CompressorSchedulerStatus": "RUNNING",
        "TurbineModelArn": arns["turbine-7"],
        "TurbineSchedulerStatus": "STOPPED",
        "PumpModelArn": arns["pump-station-3"],
        "PumpSchedulerStatus": "RUNNING",
    }
    state = deployer.stack_state(EXAMPLE_STACK)
    assert state is not None
    assert state.outputs == created.outputs
