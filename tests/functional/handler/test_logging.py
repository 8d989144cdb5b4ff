"""Log lines: JSON, one INFO line per lifecycle step, and no event, ResponseURL or credential."""

from __future__ import annotations

import json

SERVICE_TOKEN_FRAGMENT = "function:handler-functional-provider"


def test_handler_logs_lifecycle_steps_as_json_without_secrets(
    cloudformation, emulator, models, properties, handler_log_lines
):
    emulator.settings.stopping_seconds = 0.05
    created = cloudformation.create({**properties, "ClientToken": "pump-1-token"})
    updated = cloudformation.update(
        created.physical_id,
        {**properties, "ClientToken": "pump-1-token", "LookbackWindow": "P360D"},
        properties,
    )
    cloudformation.create({**properties, "ModelName": "no-such-model"})
    cloudformation.create({**properties, "LookbackWindow": "P1D"})
    emulator.faults.throttle("StopRetrainingScheduler", count=1)
    cloudformation.delete(updated.physical_id, properties)
    broken = cloudformation.event("Delete", properties, physical_id="pump-1")
    broken["RequestType"] = "Destroy"
    cloudformation.send(broken)

    lines = handler_log_lines.lines
    entries = [json.loads(line) for line in lines]
    finished = [
        e for e in entries if e["message"].endswith(("finished: SUCCESS", "finished: FAILED"))
    ]
    assert len(finished) == 5
    for entry in finished:
        assert {"request_type", "logical_id", "physical_id", "outcome"} <= entry.keys()
    assert any(e.get("model") == "pump-1" and e["level"] == "INFO" for e in entries)
    assert any(e["level"] == "DEBUG" for e in entries)
    # crhelper's DEBUG dump of the event would carry the ServiceToken and the properties.
    assert not [line for line in lines if SERVICE_TOKEN_FRAGMENT in line]
    assert not [line for line in lines if "ResourceProperties" in line]
    # The teardown of the cloudformation fixture checks every line for credentials and
    # ResponseURL query strings, for this test and every other one.
