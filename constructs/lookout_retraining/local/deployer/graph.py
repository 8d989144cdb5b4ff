"""Resource dependencies, and a bounded worker pool that runs them in dependency order.

CloudFormation creates and updates independent resources concurrently, each one once all
the resources it depends on are done; it deletes in the reverse order. :func:`run_graph` does
the same with at most ``max_concurrency`` actions in flight.
"""

from __future__ import annotations

import concurrent.futures
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.deployer.errors import TemplateError
from lookout_retraining.local.deployer.intrinsics import PSEUDO_PARAMETERS, referenced_names

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable, Mapping

logger = logging.getLogger(__name__)


def declared_dependencies(resource: Mapping[str, Any]) -> list[str]:
    """Return a template resource's ``DependsOn`` as a list."""
    depends_on = resource.get("DependsOn") or []
    return [depends_on] if isinstance(depends_on, str) else list(depends_on)


def template_dependencies(
    template: Mapping[str, Any], included: Iterable[str]
) -> dict[str, set[str]]:
    """Return, for each included resource, the included resources it depends on.

    Dependencies are ``DependsOn`` and every ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` reference
    in the resource's properties.

    Raises
    ------
    TemplateError
        For a reference to nothing the template declares, or a dependency cycle.
    """
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    included_set = set(included)
    dependencies: dict[str, set[str]] = {}
    for logical_id in included:
        resource = resources[logical_id]
        references = referenced_names(resource.get("Properties") or {})
        declared = declared_dependencies(resource)
        unresolved = sorted(
            name
            for name in references | set(declared)
            if name not in resources and name not in parameters and name not in PSEUDO_PARAMETERS
        )
        if unresolved:
            raise TemplateError(
                f"Template format error: Unresolved resource dependencies {unresolved} in the "
                f"Resources block of the template (resource {logical_id})"
            )
        dependencies[logical_id] = (references | set(declared)) & included_set - {logical_id}
    check_acyclic(dependencies)
    return dependencies


def check_acyclic(dependencies: Mapping[str, set[str]]) -> None:
    """Raise :class:`TemplateError` naming the resources of a cycle, if there is one."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for dependency in sorted(dependencies.get(node, ())):
            if state.get(dependency) == 1:
                cycle = path[path.index(dependency) :]
                raise TemplateError(f"Circular dependency between resources: {sorted(cycle)}")
            if dependency in dependencies and dependency not in state:
                visit(dependency)
        path.pop()
        state[node] = 2

    for node in dependencies:
        if node not in state:
            visit(node)


def topological_order(nodes: Iterable[str], dependencies: Mapping[str, Iterable[str]]) -> list[str]:
    """Return ``nodes`` ordered so that each comes after the nodes it depends on."""
    ordered: list[str] = []
    members = list(dict.fromkeys(nodes))
    member_set = set(members)
    placed: set[str] = set()

    def place(node: str, visiting: frozenset[str]) -> None:
        if node in placed or node in visiting:
            return
        for dependency in sorted(dependencies.get(node, ())):
            if dependency in member_set:
                place(dependency, visiting | {node})
        placed.add(node)
        ordered.append(node)

    for node in members:
        place(node, frozenset())
    return ordered


@dataclass
class GraphOutcome:
    """Which nodes of a :func:`run_graph` call succeeded, failed, or never started."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)


def run_graph(
    nodes: Iterable[str],
    dependencies: Mapping[str, Iterable[str]],
    action: Callable[[str], bool],
    *,
    max_concurrency: int,
    reverse: bool = False,
    stop_on_failure: bool = True,
    failures_block: bool = True,
    cancel: threading.Event | None = None,
) -> GraphOutcome:
    """Run ``action`` on every node once its prerequisites succeeded, concurrently.

    Parameters
    ----------
    nodes:
        The nodes, in the order ties are started.
    dependencies:
        For each node, the nodes it depends on; nodes outside ``nodes`` are ignored.
    action:
        Returns True on success. An exception counts as a failure and is logged.
    max_concurrency:
        The most actions in flight at once.
    reverse:
        Run a node only after every node that depends on it (the order of deletion).
    stop_on_failure:
        After a failure, start nothing more (in-flight actions finish). When False, only
        nodes that wait on a failed node are left out.
    failures_block:
        When False, a failed node counts as done for the nodes that wait on it (cleanup goes
        on past a resource that could not be deleted).
    cancel:
        Set when the caller is interrupted, so that actions can stop early. Default None.

    Returns
    -------
    GraphOutcome
    """
    ordered = list(dict.fromkeys(nodes))
    members = set(ordered)
    prerequisites: dict[str, set[str]] = {node: set() for node in ordered}
    for node in ordered:
        for dependency in dependencies.get(node, ()):
            if dependency in members and dependency != node:
                if reverse:
                    prerequisites[dependency].add(node)
                else:
                    prerequisites[node].add(dependency)
    outcome = GraphOutcome()
    done: set[str] = set()
    blocked: set[str] = set()
    pending = list(ordered)
    stopping = False

    def run(node: str) -> bool:
        try:
            return action(node)
        except Exception:
            logger.exception("Deployer action on %s raised", node)
            return False

    with concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, max_concurrency), thread_name_prefix="deployer"
    ) as pool:
        in_flight: dict[concurrent.futures.Future[bool], str] = {}
        try:
            while pending or in_flight:
                if not stopping:
                    for node in list(pending):
                        if len(in_flight) >= max_concurrency:
                            break
                        if prerequisites[node] & blocked:
                            pending.remove(node)
                            blocked.add(node)
                            outcome.not_started.append(node)
                        elif prerequisites[node] <= done:
                            pending.remove(node)
                            in_flight[pool.submit(run, node)] = node
                if not in_flight:
                    break
                finished, _ = concurrent.futures.wait(
                    in_flight, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in finished:
                    node = in_flight.pop(future)
                    if future.result():
                        done.add(node)
                        outcome.succeeded.append(node)
                    else:
                        (blocked if failures_block else done).add(node)
                        outcome.failed.append(node)
                        stopping = stopping or stop_on_failure
        except BaseException:
            if cancel is not None:
                cancel.set()
            raise
    outcome.not_started.extend(node for node in pending if node not in outcome.not_started)
    return outcome
