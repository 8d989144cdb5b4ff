"""End-to-end fixtures: the local deployer against the ``emulator`` fixture.

The helpers that synthesize apps and read the emulator's state are in
``tests/support/end_to_end.py``. The in-process handler harness's fixtures are re-exported for
the tests of the handler's own retries (``tests/support/handler_harness.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from handler_harness import cloudformation as cloudformation
from handler_harness import handler_environment as handler_environment
from handler_harness import handler_log_lines as handler_log_lines
from handler_harness import handler_module as handler_module
from handler_harness import recorder as recorder

from lookout_retraining.local.deployer import LocalDeployer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from lookout_retraining.local.emulator import Emulator


@pytest.fixture
def deployer_for(emulator: Emulator, tmp_path: Path) -> Iterator[Callable[..., LocalDeployer]]:
    """Build LocalDeployers against the ``emulator`` fixture; they are closed after the test.

    ``deployer_for(**options)``: options go to :class:`LocalDeployer`. The defaults keep the
    state under the test's folder and shorten Lambda's pause before a retry.
    """
    made: list[LocalDeployer] = []

    def build(**options: Any) -> LocalDeployer:
        options.setdefault("endpoint_url", emulator.endpoint_url)
        options.setdefault("state_dir", tmp_path / "state")
        options.setdefault("retry_delay_seconds", 0.2)
        deployer = LocalDeployer(**options)
        made.append(deployer)
        return deployer

    yield build
    for deployer in made:
        deployer.close()
