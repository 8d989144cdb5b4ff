"""``lookout-retraining-local``: the local emulator and deployer on the command line.

Subcommands:

- ``emulator``: serve a Lookout for Equipment emulator until interrupted.
- ``deploy``: deploy the stacks of a synthesized app (``cdk.out``) against an emulator.
- ``destroy``: delete deployed stacks.
- ``status``: show the deployed stacks (and the embedded emulator's schedulers).

``deploy`` and ``destroy`` talk to a running emulator (``--emulator-url``) or start one inside
the command whose state lives in a file (``--emulator-state``, default
``<state-dir>/emulator-state.json``), so that one command after another sees the same
schedulers. An emulator holds its state file while it runs: a second command on the same file
fails at once, naming it, rather than overwriting the first one's changes.

Exit status: 0 when every stack reached the status asked for and no problem was reported; 1
when a stack failed or the command could not run; 2 for a usage error; 3 when every stack
reached the status asked for but the deployer reported problems, each on a ``problem:`` line:
a handler answered one request more than once (a Lambda retry that answered again counts) or
answered again after the ServiceTimeout, or a cleanup Delete failed, so that a replaced or
removed resource may still exist. A failed stack exits 1 whatever problems came with it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lookout_retraining.local.deployer import DeployerError, LocalDeployer
from lookout_retraining.local.deployer.engine import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from lookout_retraining.local.deployer.state import DEFAULT_STATE_DIR, StateStore
from lookout_retraining.local.emulator import (
    ConflictException,
    Emulator,
    EmulatorSettings,
    StateFileError,
)
from lookout_retraining.local.emulator.command_line import (
    add_switch_arguments,
    serve_until_stopped,
    settings_from,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from lookout_retraining.local.deployer import DeploymentResult

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PROTOCOL_PROBLEMS = 3
EMULATOR_STATE_FILE = "emulator-state.json"
EXIT_STATUS_HELP = """\
exit status:
  0  every stack reached the status asked for and no problem was reported
  1  a stack failed, or the command could not run
  2  usage error
  3  every stack reached the status asked for, but the deployer reported problems (each on a
     "problem:" line): a handler answered one request more than once (a Lambda retry that
     answered again counts) or answered again after the ServiceTimeout, or a cleanup Delete
     failed, so that a replaced or removed resource may still exist"""


def build_parser() -> argparse.ArgumentParser:
    """Return the command line parser."""
    parser = argparse.ArgumentParser(
        prog="lookout-retraining-local",
        description=(
            "Deploy synthesized CDK apps on this machine, as CloudFormation and Lambda would, "
            "against a local Amazon Lookout for Equipment emulator."
        ),
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--verbose", action="store_true", help="debug logs on standard error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("emulator", help="serve a Lookout for Equipment emulator")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address (127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (0)")
    serve.add_argument("--state-file", type=Path, help="load and save the state here (memory)")
    serve.add_argument(
        "--account-id", default=DEFAULT_ACCOUNT_ID, help=f"account in ARNs ({DEFAULT_ACCOUNT_ID})"
    )
    _emulator_options(serve)

    deploy = commands.add_parser("deploy", help="create or update stacks of a cloud assembly")
    deploy.add_argument(
        "--app-dir", type=Path, default=Path("cdk.out"), help="the cloud assembly (cdk.out)"
    )
    deploy.add_argument(
        "--parameters",
        action="append",
        default=[],
        metavar="[STACK:]NAME=VALUE",
        help="a stack parameter value; repeatable",
    )
    deploy.add_argument(
        "--max-concurrency",
        type=int,
        default=10,
        help="most resource operations in flight at once (10)",
    )
    deploy.add_argument(
        "--retry-attempts",
        type=int,
        default=2,
        help="Lambda retries of a failed invocation (2, as Lambda)",
    )
    _stack_options(deploy)
    _emulator_options(deploy)

    destroy = commands.add_parser("destroy", help="delete deployed stacks")
    _stack_options(destroy)
    _emulator_options(destroy)

    status = commands.add_parser("status", help="show deployed stacks")
    status.add_argument("--stack", action="append", default=[], help="a stack name (all)")
    status.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="deployer state (.local-deployer)"
    )
    status.add_argument(
        "--emulator-state", type=Path, help="also list the schedulers in this emulator state file"
    )
    status.add_argument("--json", action="store_true", help="print the state as JSON")
    return parser


def _stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack", action="append", default=[], help="a stack name; repeatable (every stack)"
    )
    parser.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="deployer state (.local-deployer)"
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"region ({DEFAULT_REGION})")
    parser.add_argument(
        "--account-id", default=DEFAULT_ACCOUNT_ID, help=f"account ({DEFAULT_ACCOUNT_ID})"
    )
    parser.add_argument("--quiet", action="store_true", help="print the summaries only")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--emulator-url", help="use the emulator running at this URL")
    target.add_argument(
        "--emulator-state",
        type=Path,
        help=f"start an emulator on this state file (<state-dir>/{EMULATOR_STATE_FILE})",
    )


def _emulator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--create-model",
        action="append",
        default=[],
        metavar="MODEL_NAME",
        help="create this model in the emulator first, unless it exists; repeatable",
    )
    add_switch_arguments(parser, help_prefix="(started emulator) ")


def _settings(arguments: argparse.Namespace) -> EmulatorSettings:
    return settings_from(
        arguments,
        account_id=getattr(arguments, "account_id", DEFAULT_ACCOUNT_ID),
        default_region=getattr(arguments, "region", DEFAULT_REGION),
    )


def _create_models(emulator: Emulator, model_names: Sequence[str], out: Any) -> None:
    for model_name in model_names:
        with contextlib.suppress(ConflictException):
            emulator.create_model(model_name)
            out.write(f"created model {model_name}\n")


def _create_remote_models(
    endpoint_url: str, model_names: Sequence[str], region: str, out: Any
) -> None:
    if not model_names:
        return
    import boto3

    client = boto3.client(
        "lookoutequipment",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="AKIALOCALDEPLOYERCLI",
        # The emulator checks no credentials.
        aws_secret_access_key="local-deployer-cli-not-checked",  # noqa: S106
    )
    for model_name in model_names:
        try:
            client.create_model(
                ModelName=model_name, DatasetName="local-dataset", ClientToken=model_name
            )
            out.write(f"created model {model_name}\n")
        except client.exceptions.ConflictException:
            continue


@contextlib.contextmanager
def _endpoint(arguments: argparse.Namespace) -> Iterator[str]:
    """Yield the emulator URL to use: the given one, or an emulator started for the command."""
    if arguments.emulator_url:
        _create_remote_models(
            arguments.emulator_url, arguments.create_model, arguments.region, sys.stdout
        )
        yield arguments.emulator_url
        return
    state_file = arguments.emulator_state or arguments.state_dir / EMULATOR_STATE_FILE
    state_file.parent.mkdir(parents=True, exist_ok=True)
    with Emulator(_settings(arguments), state_file=state_file) as emulator:
        _create_models(emulator, arguments.create_model, sys.stdout)
        logger.info("Started an emulator on %s at %s", state_file, emulator.endpoint_url)
        yield emulator.endpoint_url


def _parameters(values: Sequence[str], stack_name: str) -> dict[str, str]:
    """Return the ``NAME=VALUE`` and ``STACK:NAME=VALUE`` values that apply to ``stack_name``."""
    parameters = {}
    for item in values:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise DeployerError(f"--parameters {item!r} must read NAME=VALUE or STACK:NAME=VALUE")
        stack, colon, name = key.rpartition(":")
        if not colon or stack == stack_name:
            parameters[name] = value
    return parameters


def _exit_status(results: Sequence[DeploymentResult]) -> int:
    if any(not result.succeeded for result in results):
        return EXIT_FAILED
    if any(result.problems for result in results):
        return EXIT_PROTOCOL_PROBLEMS
    return EXIT_OK


def _deploy(arguments: argparse.Namespace) -> int:
    with _endpoint(arguments) as endpoint_url:
        deployer = LocalDeployer(
            arguments.app_dir,
            endpoint_url=endpoint_url,
            state_dir=arguments.state_dir,
            region=arguments.region,
            account_id=arguments.account_id,
            max_concurrency=arguments.max_concurrency,
            retry_attempts=arguments.retry_attempts,
            out=None if arguments.quiet else sys.stdout,
        )
        with deployer:
            assembly = deployer.assembly()
            stacks = (
                [assembly.stack(name) for name in arguments.stack]
                if arguments.stack
                else assembly.stacks_in_dependency_order()
            )
            results = []
            for stack in stacks:
                result = deployer.deploy(
                    stack.stack_name,
                    parameters=_parameters(arguments.parameters, stack.stack_name),
                )
                if arguments.quiet:
                    print(result.summary())
                results.append(result)
                if not result.succeeded:
                    break
    return _exit_status(results)


def _destroy(arguments: argparse.Namespace) -> int:
    store = StateStore(arguments.state_dir)
    stack_names = arguments.stack or list(reversed(store.stack_names()))
    if not stack_names:
        print(f"no stack is deployed in {store.directory}")
        return EXIT_OK
    with _endpoint(arguments) as endpoint_url:
        deployer = LocalDeployer(
            endpoint_url=endpoint_url,
            state_dir=arguments.state_dir,
            region=arguments.region,
            account_id=arguments.account_id,
            out=None if arguments.quiet else sys.stdout,
        )
        with deployer:
            results = []
            for stack_name in stack_names:
                result = deployer.destroy(stack_name)
                if arguments.quiet:
                    print(result.summary())
                results.append(result)
    return _exit_status(results)


def _status(arguments: argparse.Namespace) -> int:
    store = StateStore(arguments.state_dir)
    stack_names = arguments.stack or store.stack_names()
    states = [state for state in (store.load(name) for name in stack_names) if state is not None]
    emulator_state = arguments.emulator_state or arguments.state_dir / EMULATOR_STATE_FILE
    schedulers = _schedulers(emulator_state) if emulator_state.exists() else None
    if arguments.json:
        document: dict[str, Any] = {"stacks": [state.to_json() for state in states]}
        if schedulers is not None:
            document["schedulers"] = schedulers
        print(json.dumps(document, indent=2, sort_keys=True))
        return EXIT_OK
    if not states:
        print(f"no stack is deployed in {store.directory}")
    for state in states:
        print(f"{state.stack_name}: {state.status}  ({state.stack_id})")
        if state.status_reason:
            print(f"  reason: {state.status_reason}")
        for record in state.resources.values():
            print(
                f"  {record.logical_id:<40} {record.resource_type:<44} {record.status:<16} "
                f"{record.physical_id}"
            )
        for name, value in state.outputs.items():
            print(f"  output {name} = {value}")
    if schedulers is not None:
        print(f"schedulers in {emulator_state}:")
        for scheduler in schedulers:
            print(
                f"  {scheduler['ModelName']:<30} {scheduler['Status']:<10} "
                f"every {scheduler['RetrainingFrequency']}, lookback {scheduler['LookbackWindow']}"
            )
        if not schedulers:
            print("  (none)")
    return EXIT_OK


def _schedulers(state_file: Path) -> list[dict[str, Any]]:
    snapshot = Emulator(EmulatorSettings(), state_file=state_file).snapshot()
    schedulers: list[dict[str, Any]] = snapshot.get("schedulers", [])
    return schedulers


def _serve(arguments: argparse.Namespace) -> int:
    emulator = Emulator(
        _settings(arguments),
        host=arguments.host,
        port=arguments.port,
        state_file=arguments.state_file,
    )

    def on_start(started: Emulator) -> None:
        _create_models(started, arguments.create_model, sys.stderr)
        print(
            f"Lookout for Equipment emulator at {started.endpoint_url}: pass --emulator-url "
            f"{started.endpoint_url} to deploy and destroy; Ctrl+C stops it",
            file=sys.stderr,
        )

    serve_until_stopped(emulator, on_start)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if arguments.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    commands = {"emulator": _serve, "deploy": _deploy, "destroy": _destroy, "status": _status}
    try:
        return commands[arguments.command](arguments)
    except (DeployerError, StateFileError, ValueError, OSError) as error:
        print(f"lookout-retraining-local {arguments.command}: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
