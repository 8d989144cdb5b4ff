"""Example CDK app: retraining schedulers declared in a stack, checked by cdk-nag.

``npx cdk synth`` runs this file (see cdk.json). The context value ``example`` chooses which
example app to build (``npx cdk synth -c example=<name>``); ``schedulers`` is the default and,
so far, the only one. Each example is a function that adds its stacks to the app, registered in
``EXAMPLES``.

The stacks are environment-agnostic: no account or region is given, so synth needs no AWS
account, and ``cdk deploy`` deploys to the account and region of the credentials it runs with;
the partition, region and account in ARNs are left to CloudFormation.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from lookout_retraining import (
    LookbackWindow,
    PromoteMode,
    RetrainingFrequency,
    RetrainingScheduler,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from constructs import Construct

EXAMPLE_CONTEXT_KEY = "example"
DEFAULT_EXAMPLE = "schedulers"
SCHEDULERS_STACK_ID = "LookoutRetrainingExample"


class SchedulersStack(cdk.Stack):
    """Three retraining schedulers: two on literal model names, one on a parameter."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Example: Lookout for Equipment retraining schedulers",
            **kwargs,
        )

        pump_model_name = cdk.CfnParameter(
            self,
            "PumpModelName",
            type="String",
            default="pump-station-3",
            allowed_pattern="^[0-9a-zA-Z_-]{1,200}$",
            description="The Lookout for Equipment model that the pump scheduler retrains",
        )

        schedulers = {
            "Compressor": RetrainingScheduler(
                self,
                "CompressorScheduler",
                model_name="compressor-line-1",
                retraining_frequency=RetrainingFrequency.months(1),
                lookback_window=LookbackWindow.DAYS_180,
            ),
            "Turbine": RetrainingScheduler(
                self,
                "TurbineScheduler",
                model_name="turbine-7",
                retraining_frequency=RetrainingFrequency.of("P3M15D"),
                lookback_window=LookbackWindow.DAYS_360,
                promote_mode=PromoteMode.MANUAL,
                retraining_start_date=datetime.date(2026, 1, 5),
                running=False,
            ),
            "Pump": RetrainingScheduler(
                self,
                "PumpScheduler",
                model_name=pump_model_name.value_as_string,
                retraining_frequency=RetrainingFrequency.days(45),
                lookback_window=LookbackWindow.DAYS_720,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            ),
        }
        for name, scheduler in schedulers.items():
            cdk.CfnOutput(self, f"{name}ModelArn", value=scheduler.attr_model_arn)
            cdk.CfnOutput(self, f"{name}SchedulerStatus", value=scheduler.attr_status)


def add_schedulers_example(app: cdk.App) -> None:
    """Add the example stack of schedulers to ``app``."""
    SchedulersStack(app, SCHEDULERS_STACK_ID)


EXAMPLES: dict[str, Callable[[cdk.App], None]] = {
    "schedulers": add_schedulers_example,
}
"""Example name (the ``example`` context value) -> the function that adds its stacks."""


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the example chosen by the ``example`` context value to an app, with cdk-nag.

    Parameters
    ----------
    app:
        The app to build into; default None, a new ``cdk.App()`` that reads its context and
        output directory from the CDK CLI.

    Raises
    ------
    ValueError
        If the ``example`` context value names no example.
    """
    app = app if app is not None else cdk.App()
    example = app.node.try_get_context(EXAMPLE_CONTEXT_KEY) or DEFAULT_EXAMPLE
    add_example = EXAMPLES.get(example)
    if add_example is None:
        raise ValueError(
            f"Context value {EXAMPLE_CONTEXT_KEY}={example!r} names no example: use one of "
            f"{', '.join(sorted(EXAMPLES))}"
        )
    add_example(app)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
