"""The Lambda asset: exact content, verified dependencies, and a hash that follows the content."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from lookout_retraining.bundling import (
    BundleSource,
    BundlingError,
    LocalBundler,
    bundle_lambda_asset,
    handler_code,
    handler_package_directory,
    project_pins,
)

CRHELPER_FILES = [
    "crhelper-2.0.12.dist-info/LICENSE",
    "crhelper-2.0.12.dist-info/METADATA",
    "crhelper-2.0.12.dist-info/NOTICE",
    "crhelper/__init__.py",
    "crhelper/log_helper.py",
    "crhelper/resource_helper.py",
    "crhelper/utils.py",
]
ISODATE_FILES = [
    "isodate-0.7.2.dist-info/LICENSE",
    "isodate-0.7.2.dist-info/METADATA",
    "isodate/__init__.py",
    "isodate/duration.py",
    "isodate/isodates.py",
    "isodate/isodatetime.py",
    "isodate/isoduration.py",
    "isodate/isoerror.py",
    "isodate/isostrf.py",
    "isodate/isotime.py",
    "isodate/isotzinfo.py",
    "isodate/tzinfo.py",
    "isodate/version.py",
]


def handler_sources():
    package = handler_package_directory()
    return sorted(
        f"{package.name}/{path.relative_to(package).as_posix()}"
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    )


def files_under(directory):
    return sorted(
        path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()
    )


def asset_key(source=None):
    """The S3 object key (the asset hash) of the Lambda code bundled from ``source``."""
    stack = cdk.Stack(cdk.App(), "Stack")
    code = handler_code(LocalBundler(source))
    return code.bind(stack).s3_location.object_key


def site_packages():
    return Path(str(importlib.metadata.distribution("crhelper").locate_file("")))


def record_line(path, root):
    digest = hashlib.sha256(path.read_bytes()).digest()
    encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return f"{path.relative_to(root).as_posix()},sha256={encoded},{path.stat().st_size}"


def fake_crhelper(site, version, *, tamper=False):
    """Install a copy of crhelper's code under another version into ``site``."""
    installed = importlib.metadata.distribution("crhelper")
    shutil.copytree(
        site_packages() / "crhelper",
        site / "crhelper",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    dist_info = site / f"crhelper-{version}.dist-info"
    dist_info.mkdir()
    for name in ("LICENSE", "NOTICE"):
        shutil.copyfile(
            site_packages() / f"crhelper-{installed.version}.dist-info" / name, dist_info / name
        )
    metadata = installed.read_text("METADATA") or ""
    (dist_info / "METADATA").write_text(
        re.sub(r"(?m)^Version: .*$", f"Version: {version}", metadata)
    )
    lines = [record_line(path, site) for path in sorted(site.rglob("*")) if path.is_file()]
    (dist_info / "RECORD").write_text("\n".join([*lines, f"crhelper-{version}.dist-info/RECORD,,"]))
    if tamper:
        with (site / "crhelper" / "utils.py").open("a") as utils:
            utils.write("# changed after installation\n")


def test_asset_file_list_is_exactly_handler_crhelper_and_isodate(reference):
    assert files_under(reference.asset_directory()) == sorted(
        handler_sources() + CRHELPER_FILES + ISODATE_FILES
    )


def test_asset_holds_no_boto3_tests_or_bytecode(reference):
    files = files_under(reference.asset_directory())

    assert "lookout_retraining_handler/rules.py" in files
    assert not [
        path
        for path in files
        if path.startswith(("boto3", "botocore"))
        or "__pycache__" in path
        or path.endswith((".pyc", ".pyi"))
        or "/tests/" in path
    ]


def test_project_pins_match_lambda_requirements_file(repo_root):
    requirements = (repo_root / "lambda_src" / "requirements.txt").read_text()
    pinned = dict(re.findall(r"(?m)^([A-Za-z0-9_.-]+)==([^\s\\]+)", requirements))

    assert project_pins() == pinned == {"crhelper": "2.0.12", "isodate": "0.7.2"}


def test_bundle_installed_version_differs_from_pin_raises(tmp_path):
    source = BundleSource(pins={"crhelper": "2.0.13", "isodate": "0.7.2"})

    with pytest.raises(
        BundlingError, match=r"crhelper 2\.0\.12 is installed, but .* pins crhelper==2\.0\.13"
    ):
        bundle_lambda_asset(tmp_path, source)


def test_bundle_file_differs_from_record_raises(tmp_path):
    site = tmp_path / "site"
    fake_crhelper(site, "2.0.12", tamper=True)
    source = BundleSource(search_path=[str(site), str(site_packages())])
    output = tmp_path / "out"
    output.mkdir()

    with pytest.raises(BundlingError, match=r"crhelper: .*utils\.py does not match its RECORD"):
        bundle_lambda_asset(output, source)


def test_bundle_dependency_not_installed_raises(tmp_path):
    source = BundleSource(search_path=[str(tmp_path)])

    with pytest.raises(BundlingError, match=r"crhelper is not installed \(searched "):
        bundle_lambda_asset(tmp_path, source)


def test_asset_changed_dependency_version_changes_hash(tmp_path):
    site = tmp_path / "site"
    fake_crhelper(site, "2.0.13")
    newer = BundleSource(
        search_path=[str(site), str(site_packages())],
        pins={"crhelper": "2.0.13", "isodate": "0.7.2"},
    )
    bundles = {name: tmp_path / name for name in ("pinned", "newer")}
    for directory in bundles.values():
        directory.mkdir()

    bundle_lambda_asset(bundles["pinned"], BundleSource())
    bundle_lambda_asset(bundles["newer"], newer)

    # Same code, only the version in the distribution's metadata differs...
    code = [path for path in files_under(bundles["pinned"]) if path.endswith(".py")]
    assert all(
        (bundles["pinned"] / path).read_bytes() == (bundles["newer"] / path).read_bytes()
        for path in code
    )
    assert "crhelper-2.0.13.dist-info/METADATA" in files_under(bundles["newer"])
    # ... and the asset hash moves with it.
    assert asset_key(newer) != asset_key(BundleSource())


def test_asset_same_content_elsewhere_with_other_file_modes_keeps_hash(tmp_path):
    copy = tmp_path / "elsewhere" / "lookout_retraining_handler"
    shutil.copytree(handler_package_directory(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*.py"):
        path.chmod(0o600)
        os.utime(path, (1_000_000_000, 1_000_000_000))

    assert asset_key(BundleSource(handler_directory=copy)) == asset_key(BundleSource())


UMASK_PROBE = """
import os, sys

os.umask(0o077)
import aws_cdk as cdk
from lookout_retraining.bundling import handler_code

app = cdk.App(outdir=sys.argv[1])
print(handler_code().bind(cdk.Stack(app, "Stack")).s3_location.object_key)
"""


def test_asset_bundled_under_umask_077_is_readable_and_keeps_hash(tmp_path):
    # In a process of its own: the umask is process-wide, and other tests run beside this one.
    outdir = tmp_path / "cdk.out"
    probe = subprocess.run(
        [sys.executable, "-c", UMASK_PROBE, str(outdir)],
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    object_key = probe.stdout.strip().splitlines()[-1]

    asset = outdir / f"asset.{object_key.removesuffix('.zip')}"
    wrong_modes = {
        path.relative_to(asset).as_posix(): oct(stat.S_IMODE(path.stat().st_mode))
        for path in [asset, *asset.rglob("*")]
        if stat.S_IMODE(path.stat().st_mode) != (0o755 if path.is_dir() else 0o644)
    }

    assert (asset / "lookout_retraining_handler" / "__init__.py").is_file()
    assert wrong_modes == {}
    assert object_key == asset_key(BundleSource())


def test_asset_changed_handler_source_changes_hash(tmp_path):
    copy = tmp_path / "lookout_retraining_handler"
    shutil.copytree(handler_package_directory(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "rules.py").open("a") as rules:
        rules.write("\n")

    assert asset_key(BundleSource(handler_directory=copy)) != asset_key(BundleSource())


def copy_sources(repo_root, target):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "cdk.out")
    target.mkdir(parents=True)
    for name in ("app.py", "cdk.json"):
        shutil.copy2(repo_root / name, target / name)
    for name in ("constructs", "lambda_src"):
        shutil.copytree(repo_root / name, target / name, ignore=ignore)


def source_environment(clone):
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(clone / "constructs"), str(clone / "lambda_src")]
    )
    environment["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    return environment


@pytest.mark.synth
def test_example_app_two_clones_synthesize_same_assembly_and_asset_hash(repo_root, tmp_path):
    clones = [tmp_path / "first" / "repo", tmp_path / "second" / "elsewhere"]
    for clone in clones:
        copy_sources(repo_root, clone)
    for path in (clones[1] / "lambda_src").rglob("*.py"):
        path.chmod(0o600)
        os.utime(path, (1_000_000_000, 1_000_000_000))
    context = json.loads((repo_root / "cdk.json").read_text())["context"]

    for clone in clones:
        imported = subprocess.run(
            [sys.executable, "-c", "import lookout_retraining_handler as h; print(h.__file__)"],
            env=source_environment(clone),
            capture_output=True,
            text=True,
            check=True,
        )
        assert imported.stdout.strip().startswith(str(clone))
    synths = [
        subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=clone,
            env=source_environment(clone)
            | {
                "CDK_OUTDIR": str(clone / "cdk.out"),
                "CDK_CONTEXT_JSON": json.dumps(context),
                "CDK_VALIDATION": "false",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone in clones
    ]
    for synth in synths:
        _, stderr = synth.communicate(timeout=300)
        assert synth.returncode == 0, stderr

    outputs = [clone / "cdk.out" for clone in clones]
    # Byte for byte the same cloud assembly, CDK's own timing report aside.
    files = [
        sorted(
            path.relative_to(output).as_posix()
            for path in output.rglob("*")
            if path.is_file() and path.name != "performance-counters.json"
        )
        for output in outputs
    ]
    assert files[0] == files[1]
    assert [
        path
        for path in files[0]
        if (outputs[0] / path).read_bytes() != (outputs[1] / path).read_bytes()
    ] == []
    template = json.loads((outputs[0] / "LookoutRetrainingExample.template.json").read_text())
    (function,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    assert function["Properties"]["Code"]["S3Key"] == asset_key(BundleSource())
