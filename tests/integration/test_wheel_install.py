"""The built wheel, installed in a fresh virtual environment, synthesizes an app elsewhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from lookout_retraining.bundling import BundleSource, bundle_lambda_asset

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSUMER_APP = """
import json
import sys

import aws_cdk as cdk

import lookout_retraining
import lookout_retraining_handler
from lookout_retraining import LookbackWindow, RetrainingFrequency, RetrainingScheduler

app = cdk.App()
stack = cdk.Stack(app, "Consumer")
scheduler = RetrainingScheduler(
    stack,
    "Scheduler",
    model_name="pump-1",
    retraining_frequency=RetrainingFrequency.months(1),
    lookback_window=LookbackWindow.DAYS_360,
)
app.synth()
json.dump(
    {
        "construct": lookout_retraining.__file__,
        "handler": lookout_retraining_handler.__file__,
    },
    sys.stdout,
)
"""


def run(command, **kwargs):
    completed = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert completed.returncode == 0, (
        f"{command[:4]} failed:\n{completed.stdout}\n{completed.stderr}"
    )
    return completed


def build_wheel(workspace):
    # From a copy, so the build leaves nothing behind in the checkout.
    source = workspace / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (REPO_ROOT / name).exists():
            shutil.copy2(REPO_ROOT / name, source / name)
    for name in ("constructs", "lambda_src"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=ignore)
    run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--wheel",
            "--outdir",
            str(workspace / "dist"),
            str(source),
        ]
    )
    (wheel,) = (workspace / "dist").glob("cdk_lookout_retraining-*.whl")
    return wheel


def fresh_venv_with(wheel, workspace):
    """A new venv holding the wheel, reusing this venv's installed dependencies."""
    venv = workspace / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site_packages = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    # Appended after the venv's own site-packages: the wheel's files and metadata come first.
    (site_packages / "reuse_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    )
    return python, site_packages


@pytest.mark.slow
@pytest.mark.synth
def test_wheel_in_fresh_venv_synthesizes_scheduler_outside_repository(tmp_path):
    wheel = build_wheel(tmp_path)
    python, site_packages = fresh_venv_with(wheel, tmp_path)
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "app.py").write_text(CONSUMER_APP)
    environment = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    environment |= {
        "CDK_OUTDIR": str(consumer / "cdk.out"),
        "CDK_VALIDATION": "false",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }

    synth = run([str(python), "app.py"], cwd=consumer, env=environment)

    imported = json.loads(synth.stdout)
    assert Path(imported["construct"]).is_relative_to(site_packages)
    assert Path(imported["handler"]).is_relative_to(site_packages)
    template = json.loads((consumer / "cdk.out" / "Consumer.template.json").read_text())
    resources = template["Resources"].values()
    (scheduler,) = (
        r for r in resources if r["Type"] == "Custom::LookoutEquipmentRetrainingScheduler"
    )
    assert scheduler["Properties"]["ModelName"] == "pump-1"
    (function,) = (r for r in resources if r["Type"] == "AWS::Lambda::Function")
    asset = consumer / "cdk.out" / f"asset.{function['Properties']['Code']['S3Key'][:-4]}"
    # The same files as a bundle of the sources the wheel was built from.
    from_checkout = tmp_path / "from-checkout"
    from_checkout.mkdir()
    handler_source = tmp_path / "source" / "lambda_src" / "lookout_retraining_handler"
    expected = bundle_lambda_asset(from_checkout, BundleSource(handler_directory=handler_source))
    assert (
        sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()) == expected
    )
    assert all(
        (asset / path).read_bytes() == (from_checkout / path).read_bytes() for path in expected
    )
