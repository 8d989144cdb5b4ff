"""Fixtures shared by every test suite: a fresh Lookout for Equipment emulator and a client.

Also, for every test: the suite-wide audit of the handler's calls and logs (``suite_audit``).
The helpers in ``tests/support`` import by module name (``suite_audit``, ``handler_harness``)
from any test or conftest, whatever pytest's import mode.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from lookout_retraining.local.emulator import Emulator, EmulatorSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mypy_boto3_lookoutequipment import LookoutEquipmentClient

sys.path.insert(0, str(Path(__file__).with_name("support")))
# pytester: the suite-wide audit's own tests run small sessions with it.
pytest_plugins = ("suite_audit", "pytester")

TEST_REGION = "us-east-1"
TEST_ACCESS_KEY_ID = "AKIAEMULATORTESTKEY1"
TEST_SECRET_ACCESS_KEY = "emulator-test-secret-not-checked"
# One attempt: a test sees each error the emulator answers instead of botocore's retries.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="session")
def aws_session() -> boto3.session.Session:
    """A boto3 session with fake credentials; sharing it loads the service model once."""
    return boto3.session.Session(
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
        region_name=TEST_REGION,
    )


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A running emulator with default settings and empty state, stopped after the test."""
    with Emulator(EmulatorSettings()) as running:
        yield running


@pytest.fixture
def lookout_client_factory(
    emulator: Emulator, aws_session: boto3.session.Session
) -> Callable[..., LookoutEquipmentClient]:
    """Build more clients bound to ``emulator``: ``factory(config=..., region_name=..., ...)``.

    The default config makes a single attempt per call; a given ``config`` is merged over it.
    Other keyword arguments go to ``Session.client`` (``aws_access_key_id``, ...).
    """

    def build(config: Config | None = None, **client_arguments: Any) -> LookoutEquipmentClient:
        client_arguments.setdefault("region_name", TEST_REGION)
        merged = NO_RETRIES if config is None else NO_RETRIES.merge(config)
        return aws_session.client(
            "lookoutequipment",
            endpoint_url=emulator.endpoint_url,
            config=merged,
            **client_arguments,
        )

    return build


@pytest.fixture
def lookout_client(
    lookout_client_factory: Callable[..., LookoutEquipmentClient],
) -> LookoutEquipmentClient:
    """A boto3 ``lookoutequipment`` client for ``emulator``: region us-east-1, no retries."""
    return lookout_client_factory()
