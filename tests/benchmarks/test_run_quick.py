"""The benchmark script itself: a quick run completes and prints every table with its targets.

The figures are not judged here (targets are reported by ``make bench``, never asserted); this
test only keeps the script working as the construct and the handler change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN_SCRIPT = Path(__file__).with_name("run.py")


@pytest.mark.slow
def test_benchmark_quick_run_prints_every_table_beside_its_targets(tmp_path):
    workdir = tmp_path / "bench"

    completed = subprocess.run(
        [sys.executable, str(RUN_SCRIPT), "--quick", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    output = completed.stdout
    for target in (
        "<= 1.00x at every N",
        "<= 700",
        "<= 5",
        "<= 10,240",
        "<= 6,144",
        "all hold at N=400 (not in this run)",
        "<= +10%",
        "1 write",
        "no write",
        "done <= 2 s after STOPPED",
        "(target: <= 1.3x)",
    ):
        assert target in output, f"the table lost the target {target!r}"
    assert "succeeded: 20/20" in output
    results = json.loads((workdir / "results.json").read_text())
    assert {result["count"] for result in results["synth"]["results"]} == {1, 10}
    assert (workdir / "template-size.png").stat().st_size > 0
