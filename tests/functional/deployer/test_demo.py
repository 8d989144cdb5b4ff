"""``make demo``'s program: every lifecycle step shown and completed, exit status 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.synth, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[3]


def test_demo_runs_every_lifecycle_step_and_exits_zero():
    completed = subprocess.run(
        [sys.executable, "-m", "lookout_retraining.local.demo"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        check=False,
    )

    output = completed.stdout
    assert completed.returncode == 0, output[-3000:] + completed.stderr[-3000:]
    for heading in (
        "Step 1 of 4: create the stack",
        "Step 2 of 4: an in-place change",
        "Step 3 of 4: a change of model",
        "Step 4 of 4: destroy the stack",
        "The emulator's state at the end",
    ):
        assert heading in output
    stack_lines = [line for line in output.splitlines() if "AWS::CloudFormation::Stack" in line]
    for status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"):
        assert any(f"| {status} " in line for line in stack_lines)
    assert "FAIL " not in output
    assert "All 4 lifecycle steps completed as expected" in output
    assert "X-Amz-Signature" not in output
