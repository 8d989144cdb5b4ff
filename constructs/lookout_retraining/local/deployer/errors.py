"""Errors raised by the local deployer."""

from __future__ import annotations


class DeployerError(Exception):
    """Base class of every error the local deployer raises."""


class AssemblyError(DeployerError):
    """The cloud assembly (``cdk.out``) is missing, unreadable or names no such stack."""


class TemplateError(DeployerError):
    """A template cannot be evaluated: an unknown reference, intrinsic or parameter value."""


class StackStateError(DeployerError):
    """The stack's saved state does not allow the requested operation."""
