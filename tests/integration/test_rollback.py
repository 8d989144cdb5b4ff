"""A failed stack update and its rollback: every scheduler back to its previous settings.

Four schedulers change in one update: two in place (settings, promote mode, running state),
one replaced (a new model), and the last one, which waits for the other three, moves to a model
that does not exist, so its update fails. CloudFormation then sends each updated resource an
Update back to its previous properties (the replaced one back to its old model, whose
scheduler it must recognise as its own) and deletes what the update created.
"""

from __future__ import annotations

import pytest
from end_to_end import (
    Declared,
    answered_once,
    created_at,
    declared_state,
    observed_state,
    scheduler_ids,
    synthesize,
)

pytestmark = [pytest.mark.synth]

STACK = "RollbackStack"
BEFORE = (
    Declared("Alpha", "alpha-1", "P30D", "P180D"),
    Declared("Beta", "beta-1", "P45D", "P360D", promote_mode="MANUAL"),
    Declared("Delta", "delta-1", "P2M", "P540D", running=False),
    Declared("Gamma", "gamma-1", "P3M", "P720D"),
)
AFTER = (
    BEFORE[0].changed(frequency="P60D", lookback="P360D"),
    BEFORE[1].changed(model_name="beta-2", frequency="P90D"),
    BEFORE[2].changed(running=True, promote_mode="MANUAL"),
    # Waits for the others, so that its failure comes once they are all updated.
    BEFORE[3].changed(model_name="gamma-missing", depends_on=("Alpha", "Beta", "Delta")),
)


@pytest.mark.parametrize("update_requires_stopped", [False, True])
def test_update_failing_on_one_scheduler_rolls_every_scheduler_back(
    emulator, deployer_for, tmp_path, update_requires_stopped, reliability_figures
):
    for model in ("alpha-1", "beta-1", "beta-2", "delta-1", "gamma-1"):
        emulator.create_model(model)
    before = synthesize(tmp_path / "before", STACK, BEFORE)
    after = synthesize(tmp_path / "after", STACK, AFTER)
    ids = before.logical_ids
    deployer = deployer_for()
    created = deployer.deploy(STACK, assembly_dir=before.outdir)
    assert created.status == "CREATE_COMPLETE", created.status_reason
    state_before, born, physical_before = (
        observed_state(emulator),
        created_at(emulator),
        scheduler_ids(created, deployer),
    )
    emulator.settings.update_requires_stopped = update_requires_stopped

    result = deployer.deploy(STACK, assembly_dir=after.outdir)

    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.status_reason
    (rolling_back,) = [e for e in result.events if e.status == "UPDATE_ROLLBACK_IN_PROGRESS"]
    assert f"failed to update: [{ids['Gamma']}]" in rolling_back.reason
    (failed,) = [d for d in result.deliveries if not d.succeeded]
    assert failed.logical_id == ids["Gamma"]
    assert "gamma-missing" in failed.reason
    assert "was not found" in failed.reason
    # Forward: Alpha, Beta and Delta updated before Gamma failed; then each of the four got
    # its rollback Update, and the cleanup deleted the scheduler Beta's replacement created.
    requests = [(d.request_type, d.logical_id, d.succeeded) for d in result.deliveries]
    forward, rollback, cleanup = requests[:4], requests[4:8], requests[8:]
    assert sorted(forward) == sorted(
        [
            ("Update", ids["Alpha"], True),
            ("Update", ids["Beta"], True),
            ("Update", ids["Delta"], True),
            ("Update", ids["Gamma"], False),
        ]
    )
    assert sorted(rollback) == sorted(("Update", lid, True) for lid in ids.values())
    assert cleanup == [("Delete", ids["Beta"], True)]
    assert result.deliveries[8].event["PhysicalResourceId"].startswith("beta-2|previous=")
    assert result.problems == []
    # Every scheduler as it was: same settings, same running state, same scheduler.
    assert state_before == declared_state(BEFORE)
    assert observed_state(emulator) == state_before
    assert created_at(emulator) == born
    assert scheduler_ids(result, deployer) == physical_before
    answered_once(result, reliability_figures)
    reliability_figures.count("faults injected: failed updates rolled back", 1)
