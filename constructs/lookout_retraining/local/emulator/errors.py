"""The errors the emulator answers with, one class per AWS error code.

Each class carries the code that goes into the ``__type`` member of the JSON 1.0 error body and
the HTTP status the real service answers with (from the service's Smithy model). botocore reads
the code from ``__type`` and raises the matching ``client.exceptions.<Code>``.
"""

from __future__ import annotations

from typing import ClassVar


class ServiceError(Exception):
    """An error answered to the client as a JSON 1.0 error response.

    Parameters
    ----------
    message:
        The human-readable ``Message`` of the error body.

    Attributes
    ----------
    code:
        The AWS error code, sent as ``__type``.
    http_status:
        The HTTP status code of the response.
    """

    code: ClassVar[str] = "InternalServerException"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_body(self) -> dict[str, str]:
        """Return the JSON error body: ``{"__type": <code>, "Message": <message>}``."""
        return {"__type": self.code, "Message": self.message}


class ValidationException(ServiceError):
    """The input breaks a constraint of the service model or a service rule (HTTP 400)."""

    code = "ValidationException"
    http_status = 400


class AccessDeniedException(ServiceError):
    """The caller may not perform the operation (HTTP 403)."""

    code = "AccessDeniedException"
    http_status = 403


class ResourceNotFoundException(ServiceError):
    """The model or retraining scheduler named in the request does not exist (HTTP 404)."""

    code = "ResourceNotFoundException"
    http_status = 404


class ConflictException(ServiceError):
    """The request conflicts with the current state of the resource (HTTP 409)."""

    code = "ConflictException"
    http_status = 409


class ServiceQuotaExceededException(ServiceError):
    """A service quota would be exceeded (HTTP 402)."""

    code = "ServiceQuotaExceededException"
    http_status = 402


class ThrottlingException(ServiceError):
    """The request was throttled (HTTP 429)."""

    code = "ThrottlingException"
    http_status = 429


class InternalServerException(ServiceError):
    """The service failed to process the request (HTTP 500)."""

    code = "InternalServerException"
    http_status = 500


class UnknownOperationException(ServiceError):
    """The ``X-Amz-Target`` names no operation that the emulator implements (HTTP 400)."""

    code = "UnknownOperationException"
    http_status = 400


class SerializationException(ServiceError):
    """The request body is not a JSON object (HTTP 400)."""

    code = "SerializationException"
    http_status = 400
