"""The deployer with the real construct and handler: a synthesized app's whole lifecycle.

The app is synthesized in-process with the RetrainingScheduler construct, so the very asset
CloudFormation would upload runs in the deployer's Lambda-like sandboxes against the emulator.
"""

from __future__ import annotations

import pytest

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
    assert created.outputs == {} or all(isinstance(v, str) for v in created.outputs.values())

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
