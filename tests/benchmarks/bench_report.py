"""The benchmark's printed tables and its chart of template size against N.

Every figure stands beside its target; ``ok`` and ``MISS`` judge our figures against their
targets, ``OVER`` marks a quota the baseline exceeds. Targets are reported, never asserted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench_handler import (
    CREATE,
    DELETE,
    FLOOR,
    IN_PLACE_UPDATE,
    LIFECYCLE_EVENTS,
    NO_OP_UPDATE,
    OURS_PRECOMPILED,
    OURS_WITHOUT_SAM_LOCAL,
)
from bench_handler import OURS as OUR_HANDLER
from bench_synth import (
    BASELINE,
    CFN_RESOURCES,
    CFN_TEMPLATE_BYTES,
    IAM_MANAGED_POLICIES_PER_ROLE,
    IAM_MANAGED_POLICY_CHARACTERS,
    IAM_ROLE_INLINE_CHARACTERS,
    OURS,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from bench_handler import EventFigures, HandlerFigures, ScaleFigures
    from bench_synth import SynthFigures, TemplateFigures

# The targets.
MAX_OTHER_RESOURCES = 5
MAX_BYTES_PER_SCHEDULER = 700
BASELINE_BYTES_PER_SCHEDULER = 1_800
LARGEST_N = 400
MAX_SYNTH_RATIO = 1.0
MAX_COLD_START_OVER_FLOOR = 0.10
MAX_SECONDS_AFTER_STOPPED = 2.0
MAX_SCALE_RATIO = 1.3

_SHORT_OPERATIONS = {
    f"{verb}RetrainingScheduler": verb
    for verb in ("Create", "Describe", "Update", "Start", "Stop", "Delete", "List")
}


def _mark(holds: bool) -> str:
    return "ok" if holds else "MISS"


def _number(value: float) -> str:
    return f"{value:,.0f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [
        max(len(row[column]) if column < len(row) else 0 for row in [header, *rows])
        for column in range(len(header))
    ]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        for row in [header, *rows]
    ]


def _bytes_per_scheduler(synth: SynthFigures, approach: str, count: int) -> float | None:
    smallest = min(synth.counts)
    if count == smallest:
        return None
    added = (
        synth.result(approach, count).figures.template_bytes
        - synth.result(approach, smallest).figures.template_bytes
    )
    return added / (count - smallest)


def _quota_cell(value: int, limit: int, approach: str) -> str:
    if value <= limit:
        return _number(value)
    return f"{_number(value)} {'MISS' if approach == OURS else 'OVER'}"


def synth_table(synth: SynthFigures) -> list[str]:
    """Return the synth table: every N side by side, ours above the baseline."""
    header = ["figure", "app", *(f"N={count}" for count in synth.counts), "target"]
    rows: list[list[str]] = []

    def pair(figure: str, cell: Callable[[str, int], str], target: str = "") -> None:
        rows.append([figure, OURS, *(cell(OURS, count) for count in synth.counts), target])
        rows.append(["", BASELINE, *(cell(BASELINE, count) for count in synth.counts)])

    def ratio_row(cpu: bool, judged: bool) -> None:
        cells = []
        for count in synth.counts:
            ratio = synth.paired_ratio(count, cpu=cpu)
            cells.append(
                f"{ratio:.2f}x {_mark(ratio <= MAX_SYNTH_RATIO)}" if judged else f"{ratio:.2f}x"
            )
        target = f"<= {MAX_SYNTH_RATIO:.2f}x at every N" if judged else "(for information)"
        rows.append(["  ours / baseline, paired", "", *cells, target])

    def figures(approach: str, count: int) -> TemplateFigures:
        return synth.result(approach, count).figures

    pair("synth time, median (s)", lambda a, n: f"{synth.result(a, n).median_seconds:.2f}")
    ratio_row(cpu=False, judged=True)
    pair("synth CPU, median (s)", lambda a, n: f"{synth.result(a, n).median_cpu_seconds:.2f}")
    ratio_row(cpu=True, judged=False)
    pair("template bytes", lambda a, n: _number(figures(a, n).template_bytes))

    def per_scheduler(approach: str, count: int) -> str:
        added = _bytes_per_scheduler(synth, approach, count)
        if added is None:
            return "-"
        if approach == OURS:
            return f"{_number(added)} {_mark(added <= MAX_BYTES_PER_SCHEDULER)}"
        return _number(added)

    pair(
        "bytes per added scheduler",
        per_scheduler,
        f"<= {MAX_BYTES_PER_SCHEDULER} (baseline about {BASELINE_BYTES_PER_SCHEDULER:,})",
    )
    pair("resources, all", lambda a, n: _number(figures(a, n).resources))

    def others(approach: str, count: int) -> str:
        number = figures(approach, count).other_resources
        if approach == OURS:
            return f"{number} {_mark(number <= MAX_OTHER_RESOURCES)}"
        return str(number)

    pair("resources besides the N", others, f"<= {MAX_OTHER_RESOURCES}")
    pair(
        "IAM role inline policies (chars)",
        lambda a, n: _quota_cell(
            figures(a, n).inline_policy_characters, IAM_ROLE_INLINE_CHARACTERS, a
        ),
        f"<= {IAM_ROLE_INLINE_CHARACTERS:,}",
    )
    pair(
        "IAM largest managed policy (chars)",
        lambda a, n: _quota_cell(
            max(figures(a, n).managed_policy_characters, default=0),
            IAM_MANAGED_POLICY_CHARACTERS,
            a,
        ),
        f"<= {IAM_MANAGED_POLICY_CHARACTERS:,}",
    )
    pair(
        "IAM managed policies on the role",
        lambda a, n: _quota_cell(
            figures(a, n).managed_policies_attached, IAM_MANAGED_POLICIES_PER_ROLE, a
        ),
        f"<= {IAM_MANAGED_POLICIES_PER_ROLE}",
    )

    def quotas(approach: str, count: int) -> str:
        broken = len(figures(approach, count).broken_quotas)
        text = "all hold" if not broken else f"{broken} broken"
        if approach == OURS and count == LARGEST_N:
            return f"{text} {_mark(not broken)}"
        return text

    measured = "" if LARGEST_N in synth.counts else " (not in this run)"
    pair("quotas (IAM and CloudFormation)", quotas, f"all hold at N={LARGEST_N}{measured}")
    lines = _table(header, rows)
    smallest = min(synth.counts)
    lines.append(
        f"Lambda asset, zipped: ours {figures(OURS, smallest).asset_zip_bytes:,} bytes; "
        f"the baseline's provider {figures(BASELINE, smallest).asset_zip_bytes:,} bytes"
    )
    broken_lines = [
        f"  {approach} N={count}: {quota.name} {quota.value:,} > {quota.limit:,}"
        for approach in (OURS, BASELINE)
        for count in synth.counts
        for quota in figures(approach, count).broken_quotas
    ]
    if broken_lines:
        lines.append("Quotas broken:")
        lines.extend(broken_lines)
    largest = max(synth.counts)
    lines.append(
        f"Resources besides the N, ours at N={largest}: "
        + ", ".join(f"{kind} {number}" for kind, number in figures(OURS, largest).others.items())
    )
    return lines


def cold_start_table(handler: HandlerFigures) -> list[str]:
    """Return the cold-start table: each variant's init phase against the floor."""
    cold = handler.cold_start
    labels = {
        FLOOR: "floor: import boto3 and crhelper, build 1 client",
        OUR_HANDLER: "ours: import and initialise the handler",
        OURS_WITHOUT_SAM_LOCAL: "ours, AWS_SAM_LOCAL unset (for information)",
        OURS_PRECOMPILED: "ours, asset precompiled (for information)",
    }
    header = [
        "init phase",
        "wall ms",
        "CPU ms",
        "over the floor, wall: paired (quartiles)",
        "CPU paired",
        "medians",
        "target",
    ]
    floor_wall = cold.median_wall(FLOOR)
    rows = []
    for variant, label in labels.items():
        times = [
            f"{cold.median_wall(variant) * 1000:.0f}",
            f"{cold.median_cpu(variant) * 1000:.0f}",
        ]
        if variant == FLOOR:
            rows.append([label, *times, "-", "-", "-", ""])
            continue
        over_wall = cold.paired_ratio(variant) - 1
        first, third = cold.paired_quartiles(variant)
        paired = f"{over_wall:+.1%} ({first - 1:+.1%} to {third - 1:+.1%})"
        if variant == OUR_HANDLER:
            paired += f" {_mark(over_wall <= MAX_COLD_START_OVER_FLOOR)}"
            target = f"<= +{MAX_COLD_START_OVER_FLOOR:.0%}"
        else:
            target = ""
        rows.append(
            [
                label,
                *times,
                paired,
                f"{cold.paired_ratio(variant, cpu=True) - 1:+.1%}",
                f"{cold.median_wall(variant) / floor_wall - 1:+.1%}",
                target,
            ]
        )
    return _table(header, rows)


def _calls(counter: dict[str, int]) -> str:
    return ", ".join(
        f"{_SHORT_OPERATIONS.get(operation, operation)} {number}"
        for operation, number in sorted(counter.items(), key=lambda item: -item[1])
    )


def lifecycle_table(handler: HandlerFigures) -> list[str]:
    """Return the lifecycle table: calls, writes and wall time per event."""
    header = ["event", "API calls (first cycle)", "writes", "wall, event to response", "target"]
    targets = {
        CREATE: "1 write",
        NO_OP_UPDATE: "no write",
        IN_PLACE_UPDATE: "",
        DELETE: f"done <= {MAX_SECONDS_AFTER_STOPPED:.0f} s after STOPPED",
    }
    expected_writes = {CREATE: 1, NO_OP_UPDATE: 0}
    rows = []
    for name in LIFECYCLE_EVENTS:
        event: EventFigures = handler.lifecycle[name]
        calls = _calls(event.typical_calls)
        if any(cycle != event.typical_calls for cycle in event.calls):
            totals = [sum(cycle.values()) for cycle in event.calls]
            calls += f" ({min(totals)}-{max(totals)} calls across cycles)"
        writes = str(max(event.writes))
        if name in expected_writes:
            holds = all(count == expected_writes[name] for count in event.writes)
            writes += f" {_mark(holds)}"
        wall = f"{event.median_seconds:.2f} s"
        if not all(event.succeeded):
            wall += " (FAILED)"
        if name == DELETE:
            after = max(event.seconds_after_stopped)
            wall += (
                f"; {after:.2f} s after STOPPED (worst) {_mark(after <= MAX_SECONDS_AFTER_STOPPED)}"
            )
        rows.append([name, calls, writes, wall, targets[name]])
    return _table(header, rows)


def scale_lines(scale: ScaleFigures) -> list[str]:
    """Return the scale run's figures, each beside its target."""
    all_succeeded = scale.succeeded == scale.events
    lines = [
        f"succeeded: {scale.succeeded}/{scale.events} {_mark(all_succeeded)} (target: every event)",
        f"API calls needed: {scale.total_calls_needed:,} ({_calls(scale.calls_needed)}); "
        f"throttled answers: {scale.throttled:,}",
        f"rate-limit bound: {scale.bound_seconds:.1f} s (calls needed / "
        f"{scale.calls_per_second:g} per s)",
        f"total time, workers ready to last response: {scale.seconds:.1f} s = "
        f"{scale.ratio:.2f}x the bound {_mark(scale.ratio <= MAX_SCALE_RATIO)} "
        f"(target: <= {MAX_SCALE_RATIO:.1f}x)",
        f"before it, the {scale.concurrency} workers' start, all at once: "
        f"{scale.workers_start_seconds:.1f} s",
    ]
    if scale.failure_reasons:
        lines.append(f"first failure: {scale.failure_reasons[0][:200]}")
    return lines


def write_chart(synth: SynthFigures, path: Path) -> None:
    """Draw template bytes and resources against N, ours and the baseline, with the quotas."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    counts = list(synth.counts)
    figure, (size_axes, resource_axes) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=100)
    styles = {OURS: ("RetrainingScheduler", "o-"), BASELINE: ("AwsCustomResource each", "s--")}
    for approach, (label, style) in styles.items():
        figures = [synth.result(approach, count).figures for count in counts]
        size_axes.plot(counts, [f.template_bytes / 1000 for f in figures], style, label=label)
        resource_axes.plot(counts, [f.resources for f in figures], style, label=label)
    size_axes.axhline(CFN_TEMPLATE_BYTES / 1000, color="grey", linestyle=":", linewidth=1)
    size_axes.annotate("1 MB template quota", (counts[0], CFN_TEMPLATE_BYTES / 1000 * 0.82))
    resource_axes.axhline(CFN_RESOURCES, color="grey", linestyle=":", linewidth=1)
    resource_axes.annotate(f"{CFN_RESOURCES} resources quota", (counts[0], CFN_RESOURCES * 0.82))
    size_axes.set_title("Template size")
    size_axes.set_ylabel("kB")
    resource_axes.set_title("Resources in the stack")
    for axes in (size_axes, resource_axes):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(counts, [str(count) for count in counts])
        axes.set_xlabel("schedulers in the stack (N)")
        axes.grid(True, which="major", alpha=0.3)
        axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
