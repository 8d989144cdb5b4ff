"""AWS CDK constructs for Amazon Lookout for Equipment retraining schedulers.

The construct classes load aws_cdk (and with it jsii) on first use, so that the local emulator
and deployer under ``lookout_retraining.local`` import without starting a jsii process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lookout_retraining.scheduler import RetrainingScheduler
    from lookout_retraining.values import LookbackWindow, PromoteMode, RetrainingFrequency

__all__ = ["LookbackWindow", "PromoteMode", "RetrainingFrequency", "RetrainingScheduler"]

_EXPORTS = {
    "RetrainingScheduler": "lookout_retraining.scheduler",
    "LookbackWindow": "lookout_retraining.values",
    "PromoteMode": "lookout_retraining.values",
    "RetrainingFrequency": "lookout_retraining.values",
}


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'lookout_retraining' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)
