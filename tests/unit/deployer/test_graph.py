"""Dependency analysis and the bounded, ordered worker pool."""

from __future__ import annotations

import threading
import time

import pytest

from lookout_retraining.local.deployer.errors import TemplateError
from lookout_retraining.local.deployer.graph import (
    run_graph,
    template_dependencies,
    topological_order,
)


def test_template_dependencies_collects_depends_on_ref_get_att_and_sub():
    template = {
        "Parameters": {"Model": {"Type": "String"}},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role"},
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}},
            },
            "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Name": {"Ref": "Model"}}},
            "Thing": {
                "Type": "Custom::Thing",
                "Properties": {"Token": {"Fn::Sub": "${Function.Arn}"}},
                "DependsOn": "Policy",
            },
        },
    }

    dependencies = template_dependencies(template, list(template["Resources"]))

    assert dependencies == {
        "Role": set(),
        "Function": {"Role"},
        "Policy": set(),
        "Thing": {"Function", "Policy"},
    }


def test_template_dependencies_ignores_resources_left_out_by_conditions():
    template = {
        "Resources": {
            "Optional": {"Type": "AWS::SNS::Topic"},
            "Thing": {"Type": "Custom::Thing", "Properties": {"Topic": {"Ref": "Optional"}}},
        }
    }

    assert template_dependencies(template, ["Thing"]) == {"Thing": set()}


def test_template_dependencies_unknown_reference_raises():
    template = {"Resources": {"Thing": {"Type": "Custom::Thing", "DependsOn": ["Ghost"]}}}

    with pytest.raises(TemplateError, match=r"Unresolved resource dependencies \['Ghost'\]"):
        template_dependencies(template, ["Thing"])


def test_template_dependencies_cycle_raises_naming_it():
    template = {
        "Resources": {
            "A": {"Type": "Custom::Thing", "Properties": {"B": {"Ref": "B"}}},
            "B": {"Type": "Custom::Thing", "Properties": {"A": {"Ref": "A"}}},
        }
    }

    with pytest.raises(TemplateError, match=r"Circular dependency between resources: \['A', 'B'\]"):
        template_dependencies(template, ["A", "B"])


def test_topological_order_puts_dependencies_first():
    order = topological_order(["C", "B", "A"], {"C": {"B"}, "B": {"A"}})

    assert order == ["A", "B", "C"]


def _recording_action(log, lock, failing=()):
    def action(node):
        with lock:
            log.append(("start", node, time.monotonic()))
        time.sleep(0.01)
        with lock:
            log.append(("end", node, time.monotonic()))
        return node not in failing

    return action


def test_run_graph_runs_independent_nodes_concurrently_within_bound():
    lock = threading.Lock()
    counts = {"running": 0, "most": 0}
    # Each node waits for a second one to be running: nodes run one at a time break the barrier
    # (and fail), whatever the machine's speed; more than two at once show in the count.
    pair = threading.Barrier(2, timeout=30)

    def action(node):
        with lock:
            counts["running"] += 1
            counts["most"] = max(counts["most"], counts["running"])
        pair.wait()
        with lock:
            counts["running"] -= 1
        return True

    outcome = run_graph([f"n{i}" for i in range(6)], {}, action, max_concurrency=2)

    assert sorted(outcome.succeeded) == [f"n{i}" for i in range(6)]
    assert outcome.failed == []
    assert counts["most"] == 2


def test_run_graph_reverse_runs_dependents_first():
    log, lock = [], threading.Lock()

    run_graph(
        ["A", "B", "C"],
        {"B": {"A"}, "C": {"B"}},
        _recording_action(log, lock),
        max_concurrency=3,
        reverse=True,
    )

    assert [node for kind, node, _ in log if kind == "start"] == ["C", "B", "A"]


def test_run_graph_stop_on_failure_starts_nothing_more():
    log, lock = [], threading.Lock()

    outcome = run_graph(
        ["Bad", "Next", "After"],
        {"After": {"Next"}},
        _recording_action(log, lock, failing={"Bad"}),
        max_concurrency=1,
    )

    assert outcome.failed == ["Bad"]
    assert sorted(outcome.not_started) == ["After", "Next"]


def test_run_graph_failure_blocks_only_nodes_that_wait_on_it():
    log, lock = [], threading.Lock()

    outcome = run_graph(
        ["Top", "Base", "Other"],
        {"Top": {"Base"}},
        _recording_action(log, lock, failing={"Top"}),
        max_concurrency=3,
        reverse=True,
        stop_on_failure=False,
    )

    assert outcome.failed == ["Top"]
    assert outcome.not_started == ["Base"]
    assert "Other" in outcome.succeeded


def test_run_graph_failures_not_blocking_lets_cleanup_go_on():
    log, lock = [], threading.Lock()

    outcome = run_graph(
        ["Top", "Base"],
        {"Top": {"Base"}},
        _recording_action(log, lock, failing={"Top"}),
        max_concurrency=2,
        reverse=True,
        stop_on_failure=False,
        failures_block=False,
    )

    assert outcome.failed == ["Top"]
    assert outcome.succeeded == ["Base"]


def test_run_graph_action_that_raises_counts_as_failure():
    def action(node):
        raise RuntimeError("boom")

    outcome = run_graph(["A"], {}, action, max_concurrency=1)

    assert outcome.failed == ["A"]
