"""Synth-side figures: our app and the AwsCustomResource baseline, built in one process.

Both apps declare N schedulers on models ``pump-0000``... in one stack named ``Schedulers``,
with the same settings (every 30 days, 180 days of data). Ours uses :class:`RetrainingScheduler`;
the baseline is what a user writes without it: one ``AwsCustomResource`` per scheduler that
calls CreateRetrainingScheduler, UpdateRetrainingScheduler and DeleteRetrainingScheduler, with
the model name as physical id and a policy from the SDK calls on the model's ARN.

Each app is built the way ``cdk synth`` builds it: the context the CDK CLI passes (path and
asset metadata, version reporting) over this repository's ``cdk.json`` feature flags, and CDK's
built-in CloudFormation validation on, as it is by default.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import sys
import time
import zipfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Before aws_cdk starts its jsii process, which reads the variable once.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk import custom_resources as cr

from lookout_retraining import LookbackWindow, RetrainingFrequency, RetrainingScheduler
from lookout_retraining.local.deployer.errors import TemplateError
from lookout_retraining.local.deployer.intrinsics import Evaluator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "Schedulers"
OURS = "ours"
BASELINE = "baseline"
APPROACHES = (OURS, BASELINE)
SCHEDULER_TYPES = {
    OURS: "Custom::LookoutEquipmentRetrainingScheduler",
    BASELINE: "Custom::AWS",
}
CDK_METADATA_TYPE = "AWS::CDK::Metadata"

CLI_CONTEXT: dict[str, Any] = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}
"""What ``cdk synth`` (CLI 2.1148) passes an app in CDK_CONTEXT_JSON, besides cdk.json's context."""

BASELINE_CONTEXT: dict[str, Any] = {"@aws-cdk/core:stackResourceLimit": 0}
"""CDK refuses to synthesize a stack of more than 500 resources (the baseline's at N=400); the
check is lifted for the baseline so that its time and size can be measured at every N."""

# Realistic concrete values for the policies' intrinsic functions.
PARTITION = "aws"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PSEUDO_PARAMETERS: dict[str, Any] = {
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::NotificationARNs": [],
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::StackId": (
        f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/"
        "6d3f4a30-2b1e-11f0-9c8e-0a1b2c3d4e5f"
    ),
    "AWS::StackName": STACK_NAME,
    "AWS::URLSuffix": "amazonaws.com",
}
# What CloudFormation appends to the names it generates.
_GENERATED_NAME_SUFFIX = "Q8ZK3TX1M0VB"

# IAM quotas (IAM User Guide, "IAM and AWS STS quotas"), in characters without whitespace.
IAM_ROLE_INLINE_CHARACTERS = 10_240
IAM_MANAGED_POLICY_CHARACTERS = 6_144
IAM_MANAGED_POLICIES_PER_ROLE = 10
# CloudFormation quotas (CloudFormation User Guide, "Understand CloudFormation quotas"); a
# template this large is uploaded through S3, whose limit is 1 MB.
CFN_RESOURCES = 500
CFN_TEMPLATE_BYTES = 1_000_000
CFN_PARAMETERS = 200
CFN_OUTPUTS = 200


def model_name(index: int) -> str:
    """Return the model name of the ``index``-th scheduler."""
    return f"pump-{index:04d}"


def scheduler_id(index: int) -> str:
    """Return the construct id of the ``index``-th scheduler."""
    return f"Pump{index:04d}"


def add_our_schedulers(app: cdk.App, count: int) -> None:
    """Add a stack of ``count`` RetrainingSchedulers to ``app``."""
    stack = cdk.Stack(app, STACK_NAME)
    for index in range(count):
        RetrainingScheduler(
            stack,
            scheduler_id(index),
            model_name=model_name(index),
            retraining_frequency=RetrainingFrequency.days(30),
            lookback_window=LookbackWindow.DAYS_180,
        )


def add_baseline_schedulers(app: cdk.App, count: int) -> None:
    """Add a stack of ``count`` schedulers, each one ``AwsCustomResource``, to ``app``."""
    stack = cdk.Stack(app, STACK_NAME)
    for index in range(count):
        name = model_name(index)
        settings = {"ModelName": name, "RetrainingFrequency": "P30D", "LookbackWindow": "P180D"}
        physical_id = cr.PhysicalResourceId.of(name)
        model_arn = stack.format_arn(
            service="lookoutequipment",
            resource="model",
            resource_name=f"{name}/*",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        cr.AwsCustomResource(
            stack,
            scheduler_id(index),
            on_create=cr.AwsSdkCall(
                service="LookoutEquipment",
                action="CreateRetrainingScheduler",
                parameters=settings,
                physical_resource_id=physical_id,
            ),
            on_update=cr.AwsSdkCall(
                service="LookoutEquipment",
                action="UpdateRetrainingScheduler",
                parameters=settings,
                physical_resource_id=physical_id,
            ),
            on_delete=cr.AwsSdkCall(
                service="LookoutEquipment",
                action="DeleteRetrainingScheduler",
                parameters={"ModelName": name},
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[model_arn]),
        )


BUILDERS: dict[str, Callable[[cdk.App, int], None]] = {
    OURS: add_our_schedulers,
    BASELINE: add_baseline_schedulers,
}


def app_context(approach: str | None) -> dict[str, Any]:
    """Return the context ``cdk synth`` would give the app of ``approach`` (None: neither)."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context.update(CLI_CONTEXT)
    if approach == BASELINE:
        context.update(BASELINE_CONTEXT)
    return context


def tree_cpu_seconds() -> float:
    """Return the CPU seconds of this process and its descendants (jsii's node processes).

    Descendants are read from Linux's /proc; elsewhere only this process counts.
    """
    own = os.times()
    total = own.user + own.system
    proc = Path("/proc")
    if not proc.is_dir():
        return total
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ... utime stime: fields after the command's closing bracket.
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
    pending = list(children.get(os.getpid(), []))
    while pending:
        pid = pending.pop()
        total += cpu.get(pid, 0.0)
        pending.extend(children.get(pid, []))
    return total


@dataclass(frozen=True)
class SynthSample:
    """One timed synth."""

    wall_seconds: float
    cpu_seconds: float
    """This process and jsii's node processes together."""


def synth_app(approach: str | None, count: int, outdir: Path) -> SynthSample:
    """Build and synthesize one app into ``outdir``; return the time it took.

    ``approach`` None builds an app with one empty stack. The asset cache is cleared first, so
    that every synth stages and bundles its assets, as each run of ``cdk synth`` does.
    """
    cdk.AssetStaging.clear_asset_hash_cache()
    cpu_started = tree_cpu_seconds()
    started = time.perf_counter()
    app = cdk.App(context=app_context(approach), outdir=str(outdir))
    if approach is None:
        cdk.Stack(app, STACK_NAME)
    else:
        BUILDERS[approach](app, count)
    app.synth()
    wall = time.perf_counter() - started
    return SynthSample(wall_seconds=wall, cpu_seconds=tree_cpu_seconds() - cpu_started)


@contextmanager
def jsii_output_to(log_path: Path) -> Iterator[None]:
    """Send what the jsii process prints ("Bundling asset ...") to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    previous = sys.stderr
    with log_path.open("a", encoding="utf-8") as log:
        sys.stderr = log
        try:
            yield
        finally:
            sys.stderr = previous


@dataclass(frozen=True)
class FixedCosts:
    """Per-process costs that every ``cdk synth`` pays once, whichever approach it builds."""

    first_synth_seconds: float
    """An empty stack's first synth in the process."""
    later_synth_seconds: float
    """The same synth once more: the difference is start-up work (lazy module loading in the
    jsii process, the validation plugin's start)."""


def measure_fixed_costs(workdir: Path) -> FixedCosts:
    """Synthesize an empty stack twice and time both."""
    first = synth_app(None, 0, workdir / "empty-first")
    later = synth_app(None, 0, workdir / "empty-later")
    return FixedCosts(
        first_synth_seconds=first.wall_seconds, later_synth_seconds=later.wall_seconds
    )


def measure_synth_times(
    counts: Sequence[int],
    runs: int,
    runs_at_largest: int,
    workdir: Path,
    progress: Callable[[str], None],
) -> dict[tuple[str, int], list[SynthSample]]:
    """Time ``runs`` synths of each app at each N, interleaved, in this process.

    Each round builds every N with both approaches, alternating which goes first; the largest
    N is built in the first ``runs_at_largest`` rounds only. One discarded round of N=1 warms
    up the jsii process first. The output of each app's last run stays in
    ``workdir/<approach>-<N>``.

    Returns
    -------
    dict
        ``(approach, N)`` to each run's sample, in run order: the i-th samples of ours and of
        the baseline at one N ran one right after the other.
    """
    for approach in APPROACHES:
        synth_app(approach, 1, workdir / f"warm-up-{approach}")
    times: dict[tuple[str, int], list[SynthSample]] = {}
    largest = max(counts)
    for run in range(runs):
        order = APPROACHES if run % 2 == 0 else tuple(reversed(APPROACHES))
        for count in counts:
            if count == largest and run >= runs_at_largest:
                continue
            for approach in order:
                outdir = workdir / f"{approach}-{count}"
                shutil.rmtree(outdir, ignore_errors=True)
                sample = synth_app(approach, count, outdir)
                times.setdefault((approach, count), []).append(sample)
                progress(
                    f"synth run {run + 1}/{runs}: {approach} N={count}: "
                    f"{sample.wall_seconds:.2f} s (CPU {sample.cpu_seconds:.2f} s)"
                )
    return times


@dataclass(frozen=True)
class Quota:
    """One quota and the value a template reaches against it."""

    name: str
    value: int
    limit: int

    @property
    def holds(self) -> bool:
        """Return True if the value is within the quota."""
        return self.value <= self.limit


@dataclass(frozen=True)
class TemplateFigures:
    """What one synthesized stack costs: template, resources, IAM policies, Lambda asset."""

    template_bytes: int
    resources: int
    schedulers: int
    cdk_metadata: int
    others: dict[str, int]
    """Resource type to count, besides the schedulers and CDK's own metadata resource."""
    inline_policy_characters: int
    """The role's inline policies together (AWS::IAM::Policy resources on it included)."""
    managed_policy_characters: tuple[int, ...]
    """Each customer managed policy attached to the role."""
    managed_policies_attached: int
    """Managed policies attached to the role, AWS managed ones included."""
    parameters: int
    outputs: int
    asset_zip_bytes: int

    @property
    def other_resources(self) -> int:
        """Return how many resources the stack holds besides the schedulers and metadata."""
        return sum(self.others.values())

    @property
    def quotas(self) -> tuple[Quota, ...]:
        """Return every quota checked, with this stack's value."""
        return (
            Quota("CloudFormation resources", self.resources, CFN_RESOURCES),
            Quota("CloudFormation template bytes", self.template_bytes, CFN_TEMPLATE_BYTES),
            Quota("CloudFormation parameters", self.parameters, CFN_PARAMETERS),
            Quota("CloudFormation outputs", self.outputs, CFN_OUTPUTS),
            Quota(
                "IAM role inline policies (characters)",
                self.inline_policy_characters,
                IAM_ROLE_INLINE_CHARACTERS,
            ),
            Quota(
                "IAM managed policy (characters)",
                max(self.managed_policy_characters, default=0),
                IAM_MANAGED_POLICY_CHARACTERS,
            ),
            Quota(
                "IAM managed policies per role",
                self.managed_policies_attached,
                IAM_MANAGED_POLICIES_PER_ROLE,
            ),
        )

    @property
    def broken_quotas(self) -> list[Quota]:
        """Return the quotas this stack exceeds."""
        return [quota for quota in self.quotas if not quota.holds]


class _GeneratedResources:
    """Physical ids and ARNs as CloudFormation would generate them for this stack."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self._resources: Mapping[str, Any] = template.get("Resources") or {}

    def ref(self, logical_id: str) -> str:
        resource_type = self._type(logical_id)
        name = f"{STACK_NAME}-{logical_id[:40]}-{_GENERATED_NAME_SUFFIX}"
        if resource_type == "AWS::IAM::ManagedPolicy":
            return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:policy/{name}"
        return name

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource_type = self._type(logical_id)
        name = self.ref(logical_id)
        arns = {
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{name}",
            "AWS::Lambda::Function": (
                f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
            ),
            "AWS::Logs::LogGroup": (
                f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"
            ),
        }
        if attribute != "Arn" or resource_type not in arns:
            raise TemplateError(f"{logical_id} ({resource_type}) has no attribute {attribute}")
        return arns[resource_type]

    def _type(self, logical_id: str) -> str:
        resource = self._resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"resource {logical_id} is not in the template")
        return str(resource.get("Type"))


def iam_characters(document: Any) -> int:
    """Return IAM's size of a resolved policy document: its JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


def _role_policies(
    template: Mapping[str, Any], evaluator: Evaluator, role_id: str
) -> tuple[int, tuple[int, ...], int]:
    """Return a role's inline characters, managed policy sizes and attached policy count."""
    resources: Mapping[str, Any] = template["Resources"]
    role_properties = resources[role_id].get("Properties") or {}
    inline = [policy["PolicyDocument"] for policy in role_properties.get("Policies") or []]
    managed = []
    for resource in resources.values():
        properties = resource.get("Properties") or {}
        if {"Ref": role_id} not in (properties.get("Roles") or []):
            continue
        if resource["Type"] == "AWS::IAM::Policy":
            inline.append(properties["PolicyDocument"])
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            managed.append(properties["PolicyDocument"])
    inline_characters = sum(
        iam_characters(evaluator.resolve(document, f"{role_id} inline policy"))
        for document in inline
    )
    managed_characters = tuple(
        iam_characters(evaluator.resolve(document, f"{role_id} managed policy"))
        for document in managed
    )
    attached = len(managed) + len(role_properties.get("ManagedPolicyArns") or [])
    return inline_characters, managed_characters, attached


def asset_zip_bytes(template: Mapping[str, Any], outdir: Path) -> int:
    """Return the zipped size of the stack's Lambda code assets, as ``cdk deploy`` uploads them.

    Files are zipped in name order with deflate at level 9.
    """
    paths = sorted(
        {
            str(resource["Metadata"]["aws:asset:path"])
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::Lambda::Function"
            and "aws:asset:path" in (resource.get("Metadata") or {})
        }
    )
    total = 0
    for path in paths:
        folder = outdir / path
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for file in sorted(item for item in folder.rglob("*") if item.is_file()):
                archive.write(file, file.relative_to(folder).as_posix())
        total += len(buffer.getvalue())
    return total


def analyse_template(approach: str, outdir: Path) -> TemplateFigures:
    """Measure the stack that ``synth_app`` wrote to ``outdir``."""
    template_path = outdir / f"{STACK_NAME}.template.json"
    template: dict[str, Any] = json.loads(template_path.read_text(encoding="utf-8"))
    resources: Mapping[str, Any] = template["Resources"]
    types = Counter(str(resource["Type"]) for resource in resources.values())
    schedulers = types.pop(SCHEDULER_TYPES[approach], 0)
    cdk_metadata = types.pop(CDK_METADATA_TYPE, 0)
    evaluator = Evaluator(template, PSEUDO_PARAMETERS, {}, _GeneratedResources(template))
    roles = [
        _role_policies(template, evaluator, logical_id)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Role"
    ]
    return TemplateFigures(
        template_bytes=template_path.stat().st_size,
        resources=len(resources),
        schedulers=schedulers,
        cdk_metadata=cdk_metadata,
        others=dict(sorted(types.items())),
        inline_policy_characters=max((role[0] for role in roles), default=0),
        managed_policy_characters=max((role[1] for role in roles), key=sum, default=()),
        managed_policies_attached=max((role[2] for role in roles), default=0),
        parameters=len(template.get("Parameters") or {}),
        outputs=len(template.get("Outputs") or {}),
        asset_zip_bytes=asset_zip_bytes(template, outdir),
    )


@dataclass(frozen=True)
class SynthResult:
    """One app at one N: its synth times and what its template costs."""

    approach: str
    count: int
    samples: tuple[SynthSample, ...]
    figures: TemplateFigures

    @property
    def median_seconds(self) -> float:
        """Return the median wall time of a synth."""
        return statistics.median(sample.wall_seconds for sample in self.samples)

    @property
    def median_cpu_seconds(self) -> float:
        """Return the median CPU time of a synth (this process and jsii's)."""
        return statistics.median(sample.cpu_seconds for sample in self.samples)


@dataclass(frozen=True)
class SynthFigures:
    """Everything the synth phase measured."""

    cdk_import_seconds: float
    fixed: FixedCosts
    results: dict[tuple[str, int], SynthResult]
    counts: tuple[int, ...]
    workdir: Path

    def result(self, approach: str, count: int) -> SynthResult:
        """Return the result of one app at one N."""
        return self.results[(approach, count)]

    def assembly(self, approach: str, count: int) -> Path:
        """Return the cloud assembly folder of one app's last run."""
        return self.workdir / f"{approach}-{count}"

    def paired_ratio(self, count: int, cpu: bool = False) -> float:
        """Return the median over runs of ours over the baseline, each pair run back to back."""
        ours = self.result(OURS, count).samples
        baseline = self.result(BASELINE, count).samples
        return statistics.median(
            (mine.cpu_seconds / theirs.cpu_seconds)
            if cpu
            else (mine.wall_seconds / theirs.wall_seconds)
            for mine, theirs in zip(ours, baseline, strict=True)
        )


def run_synth(
    counts: Sequence[int],
    runs: int,
    runs_at_largest: int,
    workdir: Path,
    cdk_import_seconds: float,
    progress: Callable[[str], None],
) -> SynthFigures:
    """Measure the synth-side figures of both apps at every N.

    Parameters
    ----------
    counts:
        The numbers of schedulers N.
    runs, runs_at_largest:
        Timed synths per app at each N, and at the largest N.
    workdir:
        A folder for the cloud assemblies; emptied first.
    cdk_import_seconds:
        How long importing aws_cdk (and starting jsii) took, to report beside the rest.
    progress:
        Receives one line per synth.
    """
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    with jsii_output_to(workdir / "jsii-output.log"):
        fixed = measure_fixed_costs(workdir)
        times = measure_synth_times(counts, runs, runs_at_largest, workdir, progress)
    results = {
        key: SynthResult(
            approach=key[0],
            count=key[1],
            samples=tuple(samples),
            figures=analyse_template(key[0], workdir / f"{key[0]}-{key[1]}"),
        )
        for key, samples in times.items()
    }
    return SynthFigures(
        cdk_import_seconds=cdk_import_seconds,
        fixed=fixed,
        results=results,
        counts=tuple(counts),
        workdir=workdir,
    )
