"""Physical ids and attributes for the resources the local deployer only records.

Roles, policies, log groups and the function itself do nothing locally, but their ids and
ARNs flow into other resources through ``Ref`` and ``Fn::GetAtt``, so they get values in the
format AWS gives them: a name generated from the stack and logical id unless the template
names the resource, and an ARN built from it.
"""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

_SUFFIX_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Environment:
    """Where a stack is deployed."""

    stack_name: str
    region: str
    account_id: str
    partition: str


# Resource type -> the property that names it, when the template may name it.
NAME_PROPERTIES = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SSM::Parameter": "Name",
}


# Other properties whose change CloudFormation carries out by replacement: IAM cannot change a
# managed policy's description or path (AWS::IAM::ManagedPolicy, "Update requires: Replacement").
REPLACEMENT_PROPERTIES = {"AWS::IAM::ManagedPolicy": ("Description", "Path")}


def generated_name(stack_name: str, logical_id: str, max_length: int = 64) -> str:
    """Return a name as CloudFormation generates one: ``<stack>-<logical id>-<suffix>``."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(12))
    budget = max_length - len(suffix) - 2
    stack_part = stack_name[: max(budget // 2, budget - len(logical_id))]
    logical_part = logical_id[: budget - len(stack_part)]
    return f"{stack_part}-{logical_part}-{suffix}"


def physical_resource(
    resource_type: str,
    logical_id: str,
    properties: Mapping[str, Any],
    environment: Environment,
) -> tuple[str, dict[str, Any]]:
    """Return a new physical id and the ``Fn::GetAtt`` attributes for a recorded resource."""
    partition, region, account = environment.partition, environment.region, environment.account_id
    name_property = NAME_PROPERTIES.get(resource_type)
    declared_name = properties.get(name_property) if name_property else None
    name = (
        str(declared_name)
        if isinstance(declared_name, str | int)
        else generated_name(environment.stack_name, logical_id)
    )
    if resource_type == "AWS::Lambda::Function":
        return name, {"Arn": f"arn:{partition}:lambda:{region}:{account}:function:{name}"}
    if resource_type == "AWS::IAM::Role":
        path = str(properties.get("Path") or "/")
        role_id = "AROA" + "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(17))
        return name, {"Arn": f"arn:{partition}:iam::{account}:role{path}{name}", "RoleId": role_id}
    if resource_type == "AWS::IAM::ManagedPolicy":
        path = str(properties.get("Path") or "/")
        arn = f"arn:{partition}:iam::{account}:policy{path}{name}"
        policy_id = "ANPA" + "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(17))
        return arn, {"PolicyArn": arn, "PolicyId": policy_id}
    if resource_type == "AWS::IAM::Policy":
        # CloudFormation's physical id for an inline policy is generated even when named.
        return generated_name(environment.stack_name, logical_id, 40), {}
    if resource_type == "AWS::Logs::LogGroup":
        return name, {"Arn": f"arn:{partition}:logs:{region}:{account}:log-group:{name}:*"}
    if resource_type == "AWS::SQS::Queue":
        url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        arn = f"arn:{partition}:sqs:{region}:{account}:{name}"
        return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}
    if resource_type == "AWS::SNS::Topic":
        arn = f"arn:{partition}:sns:{region}:{account}:{name}"
        return arn, {"TopicArn": arn, "TopicName": name}
    if resource_type == "AWS::S3::Bucket":
        bucket = name.lower()
        return bucket, {
            "Arn": f"arn:{partition}:s3:::{bucket}",
            "DomainName": f"{bucket}.s3.amazonaws.com",
        }
    if resource_type == "AWS::CDK::Metadata":
        return str(uuid.uuid4()), {}
    service = resource_type.split("::")[1].lower() if resource_type.count("::") == 2 else "unknown"
    kind = resource_type.rsplit("::", 1)[-1].lower()
    return name, {"Arn": f"arn:{partition}:{service}:{region}:{account}:{kind}/{name}"}


def synthetic_attribute(physical_id: str, attribute: str) -> str:
    """Return a stand-in value for an attribute the deployer does not model."""
    return f"{physical_id}.{attribute}"


def needs_new_physical_id(
    resource_type: str, old_properties: Mapping[str, Any], new_properties: Mapping[str, Any]
) -> bool:
    """Return True if an update renames the resource, or changes another property that
    CloudFormation can only change by replacement."""
    name_property = NAME_PROPERTIES.get(resource_type)
    replacing = (
        *((name_property,) if name_property else ()),
        *REPLACEMENT_PROPERTIES.get(resource_type, ()),
    )
    return any(old_properties.get(name) != new_properties.get(name) for name in replacing)
