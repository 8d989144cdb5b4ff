"""The example app: it synthesizes offline, with cdk-nag's AwsSolutions checks and no finding."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from cfnlint.api import ManualArgs, lint_file

STACK_ID = "LookoutRetrainingExample"
RESOURCE_TYPE = "Custom::LookoutEquipmentRetrainingScheduler"
# cfn-lint's W3005 flags a DependsOn that a reference already implies: aws-cdk-lib's Function
# adds one on its role, which its Role property already names with Fn::GetAtt.
LINT_SETTINGS = ManualArgs(ignore_checks=["W3005"])


@pytest.fixture(scope="module")
def example_app_module(repo_root):
    spec = importlib.util.spec_from_file_location("example_app", repo_root / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example_outdir(example_app_module, recommended_context, built_once):
    """The example app's cloud assembly, synthesized once per session as `cdk synth` does.

    The cdk.json context, CDK's built-in template validation and the AwsSolutions checks are on;
    synthesis raises on any unacknowledged finding.
    """
    with built_once("example-app") as (directory, built):
        if not built:
            app = cdk.App(context=recommended_context, outdir=str(directory / "cdk.out"))
            example_app_module.build_app(app).synth()
    return directory / "cdk.out"


def read_json(path):
    return json.loads(path.read_text())


def test_example_app_synthesizes_with_aws_solutions_checks_and_no_finding(example_outdir):
    # Synthesis raised on no finding; the report lists none, not even acknowledged warnings.
    assert read_json(example_outdir / "validation-report.json")["pluginReports"] == []


def test_example_app_acknowledges_wildcard_finding_on_construct_with_reason(example_outdir):
    metadata = read_json(example_outdir / f"{STACK_ID}.metadata.json")
    acknowledgements = [
        (path, entry["data"])
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]

    ((path, data),) = acknowledgements
    ((rule, reason),) = data.items()
    assert path == f"/{STACK_ID}/LookoutRetraining/Grant0"
    assert rule.startswith("Annotation::AwsSolutions-IAM5[Resource::")
    assert "the trailing * stands for the model id" in reason


def test_example_app_declares_parameter_model_and_literal_models(example_outdir):
    template = read_json(example_outdir / f"{STACK_ID}.template.json")
    schedulers = [r for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE]

    model_names = [scheduler["Properties"]["ModelName"] for scheduler in schedulers]
    assert model_names == ["compressor-line-1", "turbine-7", {"Ref": "PumpModelName"}]
    assert template["Parameters"]["PumpModelName"]["AllowedPattern"] == "^[0-9a-zA-Z_-]{1,200}$"
    assert len(template["Outputs"]) == 6


def test_example_app_unacknowledged_finding_fails_synth(
    example_app_module, recommended_context, tmp_path
):
    app = cdk.App(context=recommended_context, outdir=str(tmp_path / "cdk.out"))
    example_app_module.build_app(app)
    stack = app.node.find_child(STACK_ID)
    iam.ManagedPolicy(
        stack,
        "Careless",
        statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])],
    )

    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed: .*AwsSolutions-IAM5") as raised:
        app.synth()

    assert "LookoutRetrainingExample/Careless/Resource" in str(raised.value)
    assert "LookoutRetraining/Grant0" not in str(raised.value)


def test_example_app_unknown_example_context_raises(example_app_module):
    app = cdk.App(context={"example": "nonexistent"})

    with pytest.raises(ValueError, match=r"example='nonexistent' names no example: use one of"):
        example_app_module.build_app(app)


def test_example_app_template_passes_cfn_lint(example_outdir):
    matches = lint_file(example_outdir / f"{STACK_ID}.template.json", config=LINT_SETTINGS)

    assert [str(match) for match in matches] == []


def test_reference_template_passes_cfn_lint(reference):
    matches = lint_file(reference.template_path, config=LINT_SETTINGS)

    assert [str(match) for match in matches] == []


def test_cdk_json_turns_off_cli_notices_and_telemetry(repo_root):
    settings = read_json(repo_root / "cdk.json")

    # The keys the pinned CLI reads: otherwise each command fetches notices and posts telemetry.
    assert settings["notices"] is False
    assert settings["context"]["cli-telemetry"] is False


def network_isolation():
    """Return the command prefix that runs a command with no network, or [] if none works.

    ``unshare -rn`` runs it in new user and network namespaces, where only a loopback device
    exists, down: any connection fails at once.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False)
    return [unshare, "-rn"] if probe.returncode == 0 else []


@pytest.mark.slow
@pytest.mark.synth
def test_cdk_synth_at_repo_root_succeeds_offline(repo_root, tmp_path):
    npx = shutil.which("npx")
    assert npx is not None, "npx is needed to run the pinned CDK CLI"
    environment = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    # No credentials or region: the stack is environment-agnostic.
    for variable in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID"):
        environment.pop(variable, None)
    # Where the kernel or a container refuses unprivileged user namespaces, unshare cannot run,
    # and the synth runs in this environment only: still with no credentials or region, so no
    # lookup can authenticate, but a connection attempt would not be refused.
    isolation = network_isolation()

    synth = subprocess.run(
        [*isolation, npx, "cdk", "synth", "--quiet", "--output", str(tmp_path / "cdk.out")],
        cwd=repo_root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert synth.returncode == 0, synth.stderr
    template = json.loads((tmp_path / "cdk.out" / f"{STACK_ID}.template.json").read_text())
    assert sum(r["Type"] == RESOURCE_TYPE for r in template["Resources"].values()) == 3
