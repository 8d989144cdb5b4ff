"""Evaluate the CloudFormation intrinsic functions that CDK emits.

The evaluator resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``,
``Fn::Split``, ``Fn::If`` (with the template's ``Conditions``), ``Fn::FindInMap``,
``Fn::GetAZs`` and ``Fn::Base64``. Anything else (``Fn::ImportValue``, ``Fn::Cidr``, the
language extensions) raises :class:`TemplateError` naming the function and where it was found.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lookout_retraining.local.deployer.errors import TemplateError

if TYPE_CHECKING:
    from collections.abc import Mapping

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_CONDITION_FUNCTIONS = frozenset({"Fn::And", "Fn::Equals", "Fn::Not", "Fn::Or", "Condition"})


class _NoValue:
    """The value of ``Ref: AWS::NoValue``: removes the property or list item that holds it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class ResourceLookup(Protocol):
    """What the evaluator needs to know about the stack's deployed resources."""

    def ref(self, logical_id: str) -> str:
        """Return the value of ``Ref`` on a resource: its physical id."""
        ...

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """Return a resource attribute; raise :class:`TemplateError` if it has none by that name."""
        ...


def partition_of(region: str) -> str:
    """Return the AWS partition of ``region`` (``aws``, ``aws-cn`` or ``aws-us-gov``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def url_suffix_of(region: str) -> str:
    """Return the domain suffix of the service endpoints in ``region``."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def _intrinsic(value: Any) -> tuple[str, Any] | None:
    """Return ``(name, argument)`` if ``value`` is a one-key intrinsic function object."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((name, argument),) = value.items()
    if name == "Ref" or name.startswith("Fn::"):
        return name, argument
    return None


def _sub_names(text: str) -> list[str]:
    """Return the variable names a ``Fn::Sub`` string refers to (``${!Literal}`` excluded)."""
    return [
        match.group(1).strip()
        for match in _SUB_VARIABLE.finditer(text)
        if not match.group(1).startswith("!")
    ]


def referenced_names(value: Any) -> set[str]:
    """Return every name that ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub`` in ``value`` refers to.

    ``Fn::GetAtt`` and ``${Name.Attribute}`` contribute the resource name only. Names bound by a
    ``Fn::Sub`` variable map are not references.
    """
    names: set[str] = set()
    intrinsic = _intrinsic(value)
    if intrinsic is not None:
        name, argument = intrinsic
        if name == "Ref" and isinstance(argument, str):
            names.add(argument)
            return names
        if name == "Fn::GetAtt":
            if isinstance(argument, str):
                names.add(argument.split(".", 1)[0])
            elif isinstance(argument, list) and argument and isinstance(argument[0], str):
                names.add(argument[0])
                names.update(referenced_names(argument[1:]))
            return names
        if name == "Fn::Sub":
            text: Any = argument if isinstance(argument, str) else None
            variables: Any = None
            if isinstance(argument, list) and len(argument) == 2:
                text, variables = argument
            if isinstance(text, str):
                bound = set(variables) if isinstance(variables, dict) else set()
                names.update(
                    sub_name.split(".", 1)[0]
                    for sub_name in _sub_names(text)
                    if sub_name.split(".", 1)[0] not in bound and sub_name not in bound
                )
            if isinstance(variables, dict):
                names.update(referenced_names(list(variables.values())))
            return names
        return referenced_names(argument)
    if isinstance(value, dict):
        for item in value.values():
            names.update(referenced_names(item))
    elif isinstance(value, list):
        for item in value:
            names.update(referenced_names(item))
    return names


@dataclass
class Evaluator:
    """Resolve intrinsic functions in template values.

    Parameters
    ----------
    template:
        The whole template: its ``Conditions``, ``Mappings`` and ``Resources`` are consulted.
    pseudo_parameters:
        Values of ``AWS::Region``, ``AWS::AccountId`` and the other pseudo parameters.
    parameters:
        Resolved parameter values: a string, or a list for ``CommaDelimitedList`` and
        ``List<...>`` types.
    resources:
        Lookup of deployed resources for ``Ref`` and ``Fn::GetAtt`` on them. Default None:
        any reference to a resource raises :class:`TemplateError`.
    """

    template: Mapping[str, Any]
    pseudo_parameters: Mapping[str, Any]
    parameters: Mapping[str, Any]
    resources: ResourceLookup | None = None
    _condition_values: dict[str, bool] = field(default_factory=dict, init=False, repr=False)
    _conditions_in_progress: set[str] = field(default_factory=set, init=False, repr=False)

    def resolve(self, value: Any, where: str) -> Any:
        """Return ``value`` with every intrinsic function evaluated.

        A property or list item whose value is ``Ref: AWS::NoValue`` is removed; at the top
        level :data:`NO_VALUE` itself is returned.

        Raises
        ------
        TemplateError
            For an unknown reference, an unsupported function or a malformed argument; the
            message starts with ``where``.
        """
        intrinsic = _intrinsic(value)
        if intrinsic is not None:
            return self._evaluate(intrinsic[0], intrinsic[1], where)
        if isinstance(value, dict):
            resolved_object = {}
            for key, item in value.items():
                resolved = self.resolve(item, f"{where}.{key}")
                if resolved is not NO_VALUE:
                    resolved_object[key] = resolved
            return resolved_object
        if isinstance(value, list):
            resolved_items = [self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value)]
            return [item for item in resolved_items if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        """Return the value of the template condition ``name``.

        Raises
        ------
        TemplateError
            If the condition does not exist, is circular or does not evaluate to a boolean.
        """
        if name in self._condition_values:
            return self._condition_values[name]
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"Template format error: Unresolved condition {name!r}")
        if name in self._conditions_in_progress:
            raise TemplateError(f"Template format error: Condition {name!r} refers to itself")
        self._conditions_in_progress.add(name)
        try:
            value = self._condition_value(conditions[name], f"Conditions.{name}")
        finally:
            self._conditions_in_progress.discard(name)
        self._condition_values[name] = value
        return value

    def _condition_value(self, value: Any, where: str) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((name, argument),) = value.items()
            if name in _CONDITION_FUNCTIONS:
                result = self._evaluate(name, argument, where)
                if isinstance(result, bool):
                    return result
        if isinstance(value, bool):
            return value
        raise TemplateError(
            f"{where}: a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition"
        )

    def _evaluate(self, name: str, argument: Any, where: str) -> Any:
        where = f"{where}.{name}"
        if name == "Ref":
            return self._ref(argument, where)
        if name == "Fn::GetAtt":
            return self._get_att(argument, where)
        if name == "Fn::Join":
            return self._join(argument, where)
        if name == "Fn::Sub":
            return self._sub(argument, where)
        if name == "Fn::Select":
            return self._select(argument, where)
        if name == "Fn::Split":
            return self._split(argument, where)
        if name == "Fn::If":
            return self._if(argument, where)
        if name == "Fn::FindInMap":
            return self._find_in_map(argument, where)
        if name == "Fn::GetAZs":
            region = self.resolve(argument, where) or self.pseudo_parameters["AWS::Region"]
            return [f"{region}{zone}" for zone in "abc"]
        if name == "Fn::Base64":
            text = self._string(self.resolve(argument, where), where)
            return base64.b64encode(text.encode()).decode()
        if name == "Fn::Equals":
            return self._equals(argument, where)
        if name in ("Fn::And", "Fn::Or"):
            if not isinstance(argument, list) or not argument:
                raise TemplateError(f"{where}: expects a list of conditions")
            values = [
                self._condition_value(item, f"{where}[{i}]") for i, item in enumerate(argument)
            ]
            return all(values) if name == "Fn::And" else any(values)
        if name == "Fn::Not":
            if not isinstance(argument, list) or len(argument) != 1:
                raise TemplateError(f"{where}: expects a list of one condition")
            return not self._condition_value(argument[0], f"{where}[0]")
        if name == "Condition":
            if not isinstance(argument, str):
                raise TemplateError(f"{where}: expects a condition name")
            return self.condition(argument)
        if name == "Fn::ImportValue":
            raise TemplateError(
                f"{where}: cross-stack imports are not supported by the local deployer; "
                "pass the value as a parameter instead"
            )
        raise TemplateError(f"{where}: the local deployer does not support {name}")

    def _ref(self, argument: Any, where: str) -> Any:
        if not isinstance(argument, str):
            raise TemplateError(f"{where}: Ref expects a name, got {argument!r}")
        if argument == "AWS::NoValue":
            return NO_VALUE
        if argument in PSEUDO_PARAMETERS:
            return self.pseudo_parameters[argument]
        if argument in self.parameters:
            return self.parameters[argument]
        if argument in (self.template.get("Parameters") or {}):
            raise TemplateError(f"{where}: parameter {argument!r} has no value")
        if argument in (self.template.get("Resources") or {}):
            return self._resources(where).ref(argument)
        raise TemplateError(f"{where}: Unresolved resource dependency {argument!r}")

    def _resources(self, where: str) -> ResourceLookup:
        if self.resources is None:
            raise TemplateError(f"{where}: resources cannot be referenced here")
        return self.resources

    def _get_att(self, argument: Any, where: str) -> Any:
        if isinstance(argument, str) and "." in argument:
            logical_id, attribute = argument.split(".", 1)
        elif isinstance(argument, list) and len(argument) == 2:
            logical_id = argument[0]
            attribute = self.resolve(argument[1], where)
        else:
            raise TemplateError(f"{where}: expects [LogicalId, Attribute], got {argument!r}")
        if not isinstance(logical_id, str) or not isinstance(attribute, str):
            raise TemplateError(f"{where}: expects [LogicalId, Attribute], got {argument!r}")
        if logical_id not in (self.template.get("Resources") or {}):
            raise TemplateError(f"{where}: Unresolved resource dependency {logical_id!r}")
        return self._resources(where).get_att(logical_id, attribute)

    def _join(self, argument: Any, where: str) -> str:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"{where}: expects [delimiter, [values]]")
        delimiter = self._string(self.resolve(argument[0], where), where)
        values = self.resolve(argument[1], where)
        if not isinstance(values, list):
            raise TemplateError(f"{where}: the values to join must be a list, got {values!r}")
        return delimiter.join(self._string(item, where) for item in values)

    def _sub(self, argument: Any, where: str) -> str:
        variables: dict[str, Any] = {}
        if isinstance(argument, str):
            text = argument
        elif (
            isinstance(argument, list)
            and len(argument) == 2
            and isinstance(argument[0], str)
            and isinstance(argument[1], dict)
        ):
            text = argument[0]
            variables = {
                key: self.resolve(item, f"{where}.{key}") for key, item in argument[1].items()
            }
        else:
            raise TemplateError(f"{where}: expects a string or [string, {{variables}}]")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                return self._string(variables[name], where)
            if "." in name and name.split(".", 1)[0] not in PSEUDO_PARAMETERS:
                return self._string(self._get_att(name, where), where)
            return self._string(self._ref(name, where), where)

        return _SUB_VARIABLE.sub(substitute, text)

    def _select(self, argument: Any, where: str) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"{where}: expects [index, [values]]")
        index = self.resolve(argument[0], where)
        values = self.resolve(argument[1], where)
        try:
            position = int(index)
        except (TypeError, ValueError) as exc:
            raise TemplateError(f"{where}: index {index!r} is not an integer") from exc
        if not isinstance(values, list) or not 0 <= position < len(values):
            raise TemplateError(f"{where}: index {position} is out of range for {values!r}")
        return values[position]

    def _split(self, argument: Any, where: str) -> list[str]:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"{where}: expects [delimiter, string]")
        delimiter = self._string(self.resolve(argument[0], where), where)
        text = self._string(self.resolve(argument[1], where), where)
        if not delimiter:
            raise TemplateError(f"{where}: the delimiter must not be empty")
        return text.split(delimiter)

    def _if(self, argument: Any, where: str) -> Any:
        if not isinstance(argument, list) or len(argument) != 3 or not isinstance(argument[0], str):
            raise TemplateError(f"{where}: expects [condition, value if true, value if false]")
        chosen = argument[1] if self.condition(argument[0]) else argument[2]
        return self.resolve(chosen, where)

    def _find_in_map(self, argument: Any, where: str) -> Any:
        if not isinstance(argument, list) or len(argument) != 3:
            raise TemplateError(f"{where}: expects [map, top-level key, second-level key]")
        map_name, top_key, second_key = (self.resolve(item, where) for item in argument)
        try:
            return self.template["Mappings"][map_name][top_key][second_key]
        except (KeyError, TypeError) as exc:
            raise TemplateError(
                f"{where}: no value at Mappings.{map_name}.{top_key}.{second_key}"
            ) from exc

    def _equals(self, argument: Any, where: str) -> bool:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"{where}: expects [value, value]")
        left, right = (self.resolve(item, where) for item in argument)
        scalar = str | int | float | bool
        if isinstance(left, scalar) and isinstance(right, scalar):
            return _scalar_text(left) == _scalar_text(right)
        return bool(left == right)

    @staticmethod
    def _string(value: Any, where: str) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return _scalar_text(value)
        raise TemplateError(f"{where}: expected a string, got {value!r}")


def _scalar_text(value: str | int | float | bool) -> str:
    """Return a scalar as CloudFormation renders it in a string: ``true``, ``5``, ``2.5``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stringify_scalars(value: Any) -> Any:
    """Return ``value`` with every number and boolean turned into a string.

    CloudFormation passes a custom resource's properties to its provider this way: ``5``
    arrives as ``"5"`` and ``true`` as ``"true"``; objects and lists keep their structure.
    """
    if isinstance(value, dict):
        return {key: stringify_scalars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stringify_scalars(item) for item in value]
    if isinstance(value, bool | int | float):
        return _scalar_text(value)
    return value
