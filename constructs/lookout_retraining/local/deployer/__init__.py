"""A local CloudFormation and Lambda: deploy a synthesized CDK app against the emulator.

>>> from lookout_retraining.local.deployer import LocalDeployer  # doctest: +SKIP
>>> with LocalDeployer("cdk.out", endpoint_url=emulator.endpoint_url) as deployer:  # doctest: +SKIP
...     result = deployer.deploy()
...     result.status
'CREATE_COMPLETE'

See :class:`LocalDeployer` for what it emulates, and the README for what it does not.
"""

from __future__ import annotations

from lookout_retraining.local.deployer.assembly import CloudAssembly, StackArtifact
from lookout_retraining.local.deployer.custom_resources import (
    CustomResourceEvent,
    Delivery,
    FailureKind,
    InvocationRecord,
)
from lookout_retraining.local.deployer.engine import DeploymentResult, LocalDeployer
from lookout_retraining.local.deployer.errors import (
    AssemblyError,
    DeployerError,
    StackStateError,
    TemplateError,
)
from lookout_retraining.local.deployer.reporting import StackEvent
from lookout_retraining.local.deployer.sandbox import RunningInvocation
from lookout_retraining.local.deployer.state import ResourceRecord, StackState

__all__ = [
    "AssemblyError",
    "CloudAssembly",
    "CustomResourceEvent",
    "Delivery",
    "DeployerError",
    "DeploymentResult",
    "FailureKind",
    "InvocationRecord",
    "LocalDeployer",
    "ResourceRecord",
    "RunningInvocation",
    "StackArtifact",
    "StackEvent",
    "StackState",
    "StackStateError",
    "TemplateError",
]
