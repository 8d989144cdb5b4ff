"""Local bundling of the Lambda asset: no Docker, no network.

The asset holds exactly three things: the ``lookout_retraining_handler`` package's Python
sources, and the Python sources of crhelper and isodate copied from their installed
distributions, each with its ``METADATA`` and licence files. boto3 comes from the Lambda runtime.

Every copied dependency is checked first: its installed version must equal the exact pin in this
project's metadata, and each copied file must match the sha256 in the distribution's RECORD. A
dependency's ``METADATA`` names its version, so a version change changes the asset even when
the code is identical. The asset hash is taken from the bundled output, so it changes exactly
when the bundled content changes. Files get mode 0644 and directories 0755 whatever the umask:
the hash ignores modes, but the zip that the CDK CLI publishes keeps them.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from aws_cdk import BundlingFileAccess, BundlingOutput, DockerVolume

logger = logging.getLogger(__name__)

HANDLER_PACKAGE = "lookout_retraining_handler"
PROJECT_DISTRIBUTION = "cdk-lookout-retraining"
BUNDLED_DISTRIBUTIONS = ("crhelper", "isodate")

# Never pulled: local bundling always succeeds or raises, so CDK never falls back to Docker.
_UNUSED_DOCKER_IMAGE = "lookout-retraining-local-bundling-only"

_REQUIREMENT_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;,]+)\s*(?:;.*)?$")
_LICENSE_FILE = re.compile(r"^(LICEN[CS]E|NOTICE|COPYING|AUTHORS)", re.IGNORECASE)
_EXCLUDED_DIRECTORIES = frozenset({"__pycache__", "tests", "test"})
# Readable by Lambda's runtime user whatever the umask of the machine that synthesizes.
_FILE_MODE = 0o644
_DIRECTORY_MODE = 0o755


class BundlingError(RuntimeError):
    """The Lambda asset cannot be built from what is installed."""


def canonical_name(name: str) -> str:
    """Return a distribution name in PEP 503 normal form (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_pins(
    distribution: str = PROJECT_DISTRIBUTION, names: Iterable[str] = BUNDLED_DISTRIBUTIONS
) -> dict[str, str]:
    """Return the exact version this project pins for each bundled dependency.

    Parameters
    ----------
    distribution:
        The installed project whose requirements carry the pins; default
        ``cdk-lookout-retraining``.
    names:
        The dependencies to look up; default crhelper and isodate.

    Raises
    ------
    BundlingError
        If the project is not installed or does not pin one of ``names`` with ``==``.
    """
    try:
        requirements = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError as error:
        raise BundlingError(
            f"{distribution} is not installed, so the Lambda asset's dependency pins cannot be "
            "read; install the project (pip install -e . in a checkout, or the wheel)"
        ) from error
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _REQUIREMENT_PIN.match(requirement)
        if match and "extra ==" not in requirement:
            pins[canonical_name(match.group(1))] = match.group(2)
    missing = [name for name in names if canonical_name(name) not in pins]
    if missing:
        raise BundlingError(
            f"{distribution} pins no exact version (name==version) for {', '.join(missing)}; "
            "the Lambda asset bundles only exactly pinned dependencies"
        )
    return {canonical_name(name): pins[canonical_name(name)] for name in names}


def handler_package_directory(package: str = HANDLER_PACKAGE) -> Path:
    """Return the directory of the handler package as Python would import it.

    This finds the package without importing it, in a source checkout installed in editable
    mode as in an installed wheel.

    Raises
    ------
    BundlingError
        If the package cannot be found.
    """
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise BundlingError(
            f"Cannot find the Lambda handler package {package!r} on sys.path; install "
            f"{PROJECT_DISTRIBUTION}"
        )
    return Path(locations[0])


@dataclass(frozen=True)
class BundleSource:
    """Where the Lambda asset's parts come from.

    Attributes
    ----------
    handler_directory:
        The handler package's directory; default: found with importlib.
    search_path:
        Directories to find the dependencies' distributions in; default None, meaning
        ``sys.path``, as ``import`` would.
    pins:
        Distribution name to exact version; default: the pins in this project's metadata.
    """

    handler_directory: Path = field(default_factory=handler_package_directory)
    search_path: Sequence[str] | None = None
    pins: Mapping[str, str] = field(default_factory=project_pins)


def bundle_lambda_asset(output_directory: Path, source: BundleSource | None = None) -> list[str]:
    """Write the Lambda asset's files into ``output_directory``.

    Parameters
    ----------
    output_directory:
        An existing, empty directory.
    source:
        Where the parts come from; default :class:`BundleSource` with its defaults.

    Returns
    -------
    list of str
        The written files, relative to ``output_directory``, sorted. Every file gets mode 0644
        and every directory, ``output_directory`` included, 0755, whatever the umask.

    Raises
    ------
    BundlingError
        If a dependency is missing, has another version than its pin, or a file differs from
        its distribution's RECORD.
    """
    source = source or BundleSource()
    written = _copy_handler_package(source.handler_directory, output_directory)
    for name, pinned_version in sorted(source.pins.items()):
        distribution = _find_distribution(name, source.search_path)
        written += _copy_distribution(distribution, name, pinned_version, output_directory)
    _set_modes(output_directory)
    logger.debug("Bundled %s files into %s", len(written), output_directory)
    return sorted(written)


def _copy_handler_package(package_directory: Path, output_directory: Path) -> list[str]:
    # Python sources only, as the wheel carries them: no caches, stubs or markers.
    written = []
    for path in sorted(package_directory.rglob("*.py")):
        relative = path.relative_to(package_directory)
        if _EXCLUDED_DIRECTORIES.intersection(relative.parts[:-1]):
            continue
        target = PurePosixPath(package_directory.name, *relative.parts)
        _copy_file(path, output_directory / target)
        written.append(str(target))
    if f"{package_directory.name}/__init__.py" not in written:
        raise BundlingError(f"{package_directory} is not a Python package: no __init__.py")
    return written


def _find_distribution(
    name: str, search_path: Sequence[str] | None
) -> importlib.metadata.Distribution:
    # The first match is the one that ``import`` would load, as for sys.path itself.
    found = (
        importlib.metadata.distributions(name=name)
        if search_path is None
        else importlib.metadata.distributions(name=name, path=list(search_path))
    )
    for distribution in found:
        return distribution
    where = "sys.path" if search_path is None else ", ".join(search_path)
    raise BundlingError(
        f"{name} is not installed (searched {where}); the Lambda asset bundles it from the "
        "installed distribution"
    )


def _copy_distribution(
    distribution: importlib.metadata.Distribution,
    name: str,
    pinned_version: str,
    output_directory: Path,
) -> list[str]:
    if distribution.version != pinned_version:
        raise BundlingError(
            f"{name} {distribution.version} is installed, but {PROJECT_DISTRIBUTION} pins "
            f"{name}=={pinned_version} for the Lambda asset; install the pinned version "
            f"(pip install {name}=={pinned_version})"
        )
    files = distribution.files
    if files is None:
        raise BundlingError(
            f"{name} {distribution.version} has no RECORD, so its files cannot be verified"
        )
    metadata_directory = (
        f"{canonical_name(name).replace('-', '_')}-{distribution.version}.dist-info"
    )
    written = []
    for record in files:
        target = _asset_path(record, metadata_directory)
        if target is None:
            continue
        installed = Path(str(record.locate()))
        _verify_record_hash(name, record, installed)
        _copy_file(installed, output_directory / target)
        written.append(str(target))
    if not any(path.endswith(".py") for path in written):
        raise BundlingError(f"{name} {distribution.version} installed no Python sources")
    return written


def _asset_path(
    record: importlib.metadata.PackagePath, metadata_directory: str
) -> PurePosixPath | None:
    """Map a RECORD entry to its place in the asset, or None to leave it out."""
    parts = PurePosixPath(record.as_posix()).parts
    # Files installed outside site-packages (scripts: ../../bin/...) are not the package's, and
    # no path may lead out of the asset (an absolute one, or .. further in).
    if not parts or parts[0] == "/" or ".." in parts:
        return None
    if parts[0].endswith(".dist-info"):
        # METADATA names the version; licence files must travel with the code they cover.
        inside = PurePosixPath(*parts[1:])
        keep = inside.as_posix() == "METADATA" or (
            bool(_LICENSE_FILE.match(inside.name)) or inside.parts[0] == "licenses"
        )
        return PurePosixPath(metadata_directory, inside) if keep else None
    if record.suffix != ".py" or _EXCLUDED_DIRECTORIES.intersection(parts[:-1]):
        return None
    return PurePosixPath(*parts)


def _verify_record_hash(name: str, record: importlib.metadata.PackagePath, installed: Path) -> None:
    if record.hash is None or record.hash.mode != "sha256":
        raise BundlingError(
            f"{name}: RECORD gives no sha256 for {record.as_posix()}, so it cannot be verified"
        )
    try:
        content = installed.read_bytes()
    except OSError as error:
        raise BundlingError(
            f"{name}: {installed} is in its RECORD but cannot be read ({error.strerror or error}); "
            f"reinstall {name}"
        ) from error
    digest = hashlib.sha256(content).digest()
    actual = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    if actual != record.hash.value:
        raise BundlingError(
            f"{name}: {installed} does not match its RECORD (sha256 {actual}, RECORD says "
            f"{record.hash.value}); reinstall {name}"
        )


def _copy_file(source: Path, target: Path) -> None:
    # Content only: permissions and times would make the bundle depend on the checkout.
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _set_modes(output_directory: Path) -> None:
    # The CDK CLI zips each file's mode but the asset hash ignores modes, so modes left to the
    # umask (0600 under umask 077) would publish, under the same hash, a zip whose handler the
    # Lambda runtime's user cannot read.
    output_directory.chmod(_DIRECTORY_MODE)
    for path in output_directory.rglob("*"):
        path.chmod(_DIRECTORY_MODE if path.is_dir() else _FILE_MODE)


@jsii.implements(ILocalBundling)
class LocalBundler:
    """CDK local bundling that builds the Lambda asset in-process.

    Parameters
    ----------
    source:
        Where the asset's parts come from; default :class:`BundleSource` with its defaults.

    Raises
    ------
    BundlingError
        If the default source cannot be determined (the project or its handler package is not
        installed).
    """

    def __init__(self, source: BundleSource | None = None) -> None:
        self.source = source or BundleSource()

    def try_bundle(
        self,
        output_dir: str,
        *,
        image: DockerImage,
        bundling_file_access: BundlingFileAccess | None = None,
        command: Sequence[str] | None = None,
        entrypoint: Sequence[str] | None = None,
        environment: Mapping[str, str] | None = None,
        local: ILocalBundling | None = None,
        network: str | None = None,
        output_type: BundlingOutput | None = None,
        platform: str | None = None,
        security_opt: str | None = None,
        user: str | None = None,
        volumes: Sequence[DockerVolume | dict[str, Any]] | None = None,
        volumes_from: Sequence[str] | None = None,
        working_directory: str | None = None,
    ) -> bool:
        """Bundle into ``output_dir`` and return True; errors raise instead of returning False.

        Returning False would send CDK to Docker, which this project never uses.
        """
        bundle_lambda_asset(Path(output_dir), self.source)
        return True


def handler_code(bundler: LocalBundler | None = None) -> lambda_.Code:
    """Return the Lambda code asset, bundled locally and hashed by its output.

    Parameters
    ----------
    bundler:
        The bundler to use; default :class:`LocalBundler` with the installed sources.
    """
    bundler = bundler or LocalBundler()
    return lambda_.Code.from_asset(
        str(bundler.source.handler_directory),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry(_UNUSED_DOCKER_IMAGE), local=bundler
        ),
    )
