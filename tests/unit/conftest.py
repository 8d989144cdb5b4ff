"""Fixtures shared by the unit test suites: the repository, its CDK context, results built once,
and an evaluator of CloudFormation intrinsic functions.

Nothing here imports aws_cdk, so suites that do not synthesize start no jsii process.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root directory."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def recommended_context() -> dict[str, Any]:
    """The feature flags of this repository's cdk.json, as a new CDK project gets them."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


@contextlib.contextmanager
def built_once_in(shared: Path, name: str) -> Iterator[tuple[Path, bool]]:
    """Hold ``shared/name`` exclusively; yield it and whether another worker already built it."""
    shared.mkdir(parents=True, exist_ok=True)
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        directory = shared / name
        done = directory / ".built"
        yield directory, done.exists()
        directory.mkdir(exist_ok=True)
        done.touch()


@pytest.fixture(scope="session")
def shared_directory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A folder that every pytest-xdist worker of this session sees, for results built once."""
    base = tmp_path_factory.getbasetemp()
    worker = getattr(request.config, "workerinput", None)
    return (base.parent if worker is not None else base) / "shared"


@pytest.fixture(scope="session")
def built_once(
    shared_directory: Path,
) -> Callable[[str], contextlib.AbstractContextManager[tuple[Path, bool]]]:
    """Return ``built_once(name)``: a context holding a shared folder and whether it is built."""
    return functools.partial(built_once_in, shared_directory)


def evaluate_intrinsics(value: Any, references: Mapping[str, str]) -> Any:
    """Resolve Ref, Fn::GetAtt, Fn::Join, Fn::Sub and Fn::Split as CloudFormation would.

    ``references`` maps parameter and pseudo parameter names, and ``Logical.Attribute`` for
    GetAtt, to their values.
    """
    if isinstance(value, list):
        return [evaluate_intrinsics(item, references) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
        return {key: evaluate_intrinsics(item, references) for key, item in value.items()}
    ((function, argument),) = value.items()
    if function == "Ref":
        return references[argument]
    if function == "Fn::GetAtt":
        return references[f"{argument[0]}.{argument[1]}"]
    if function == "Fn::Join":
        delimiter, parts = argument
        return delimiter.join(evaluate_intrinsics(part, references) for part in parts)
    if function == "Fn::Split":
        delimiter, source = argument
        return evaluate_intrinsics(source, references).split(delimiter)
    if function == "Fn::Sub":
        body, variables = argument if isinstance(argument, list) else (argument, {})

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(evaluate_intrinsics(variables[name], references))
            return references[name]

        return re.sub(r"\$\{([^}]+)\}", substitute, body)
    raise ValueError(f"Unsupported intrinsic function {function}")


@pytest.fixture(scope="session")
def evaluate() -> Callable[[Any, Mapping[str, str]], Any]:
    """Return the evaluator of CloudFormation intrinsic functions used by the policy tests."""
    return evaluate_intrinsics
