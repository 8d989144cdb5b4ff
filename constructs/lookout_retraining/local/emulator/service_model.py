"""Access to botocore's ``lookoutequipment`` service model, the emulator's source of truth.

Operation names, the JSON 1.0 target prefix, request constraints and response shapes all come
from the model botocore ships, so the emulator cannot drift from the API that boto3 speaks.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import botocore.session

if TYPE_CHECKING:
    from botocore.model import OperationModel, ServiceModel

SERVICE_NAME = "lookoutequipment"

SUPPORTED_OPERATIONS: frozenset[str] = frozenset(
    {
        "CreateRetrainingScheduler",
        "DescribeRetrainingScheduler",
        "UpdateRetrainingScheduler",
        "StartRetrainingScheduler",
        "StopRetrainingScheduler",
        "DeleteRetrainingScheduler",
        "ListRetrainingSchedulers",
        "CreateModel",
        "DescribeModel",
        "DeleteModel",
    }
)
"""The operations the emulator implements; any other target is an UnknownOperationException."""

MUTATING_OPERATIONS: frozenset[str] = frozenset(
    {
        "CreateRetrainingScheduler",
        "UpdateRetrainingScheduler",
        "StartRetrainingScheduler",
        "StopRetrainingScheduler",
        "DeleteRetrainingScheduler",
        "CreateModel",
        "DeleteModel",
    }
)
"""The supported operations that can change state (for "no mutating call" assertions)."""


@functools.cache
def service_model() -> ServiceModel:
    """Return botocore's ``lookoutequipment`` service model, loaded once per process."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def target_prefix() -> str:
    """Return the JSON 1.0 ``X-Amz-Target`` prefix, ``AWSLookoutEquipmentFrontendService``."""
    return str(service_model().metadata["targetPrefix"])


def operation_model(operation_name: str) -> OperationModel:
    """Return the model of one operation.

    Raises
    ------
    botocore.exceptions.OperationNotFoundError
        If the service model has no such operation.
    """
    return service_model().operation_model(operation_name)


def all_operation_names() -> frozenset[str]:
    """Return the names of every operation in the service model, implemented or not."""
    return frozenset(service_model().operation_names)
