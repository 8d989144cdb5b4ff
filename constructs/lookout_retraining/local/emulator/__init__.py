"""A local Amazon Lookout for Equipment: the retraining scheduler API, emulated for tests.

boto3 reaches it through its real JSON 1.0 wire protocol. Operations, request validation and
response shapes come from botocore's ``lookoutequipment`` service model; the service rules,
switches for what the API reference leaves open, and fault injection are the emulator's own.

>>> from lookout_retraining.local.emulator import Emulator, EmulatorSettings
>>> with Emulator(EmulatorSettings(pending_seconds=0.5)) as emulator:  # doctest: +SKIP
...     emulator.create_model("pump-1")
...     emulator.faults.throttle("CreateRetrainingScheduler", count=1)
"""

from __future__ import annotations

from lookout_retraining.local.emulator.errors import (
    AccessDeniedException,
    ConflictException,
    InternalServerException,
    ResourceNotFoundException,
    SerializationException,
    ServiceError,
    ServiceQuotaExceededException,
    ThrottlingException,
    UnknownOperationException,
    ValidationException,
)
from lookout_retraining.local.emulator.faults import FaultInjector
from lookout_retraining.local.emulator.service import Emulator
from lookout_retraining.local.emulator.service_model import (
    MUTATING_OPERATIONS,
    SUPPORTED_OPERATIONS,
)
from lookout_retraining.local.emulator.settings import CallRecord, EmulatorSettings
from lookout_retraining.local.emulator.state import StateFileError, StateFileInUseError

__all__ = [
    "MUTATING_OPERATIONS",
    "SUPPORTED_OPERATIONS",
    "AccessDeniedException",
    "CallRecord",
    "ConflictException",
    "Emulator",
    "EmulatorSettings",
    "FaultInjector",
    "InternalServerException",
    "ResourceNotFoundException",
    "SerializationException",
    "ServiceError",
    "ServiceQuotaExceededException",
    "StateFileError",
    "StateFileInUseError",
    "ThrottlingException",
    "UnknownOperationException",
    "ValidationException",
]
