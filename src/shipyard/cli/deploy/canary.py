"""``shipyard deployments canary | promote | abort``: a new version next to the stable one.

shipyard deployments canary cancer cancer:3 --weight 10 --analyse 300   # aborts it when worse
shipyard deployments promote cancer                                       # stable rolls to it
shipyard deployments abort cancer

The flow (plan, start, analyse, promote, abort) is ``deploy/service.py``'s; this module reads the
options and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.deploy.options import JsonOption, NameArg
from shipyard.cli.deploy.session import connected, deployment_session, progress_line
from shipyard.cli.deploy.show import print_rendered, print_status
from shipyard.cli.output import handle_errors, print_json, stdout
from shipyard.config import Settings

__all__ = ["abort", "canary", "promote"]


@handle_errors
def canary(
    name: NameArg,
    ref: Annotated[str, typer.Argument(help="The canary's NAME:VERSION, NAME@ALIAS or image.")],
    weight: Annotated[int, typer.Option(help="Percent of the requests it gets (1-99).")] = 10,
    env: Annotated[list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE")] = None,
    analyse: Annotated[
        float, typer.Option(help="Seconds to compare it with stable; aborts it when worse.")
    ] = 0.0,
    max_error_rate_increase: Annotated[
        float, typer.Option(help="Abort when its error rate exceeds stable's by this much.")
    ] = 0.01,
    max_p99_ratio: Annotated[
        float, typer.Option(help="Abort when its p99 exceeds stable's by this factor.")
    ] = 1.5,
    gateway: Annotated[
        str | None,
        typer.Option(
            help="Kubernetes: the Gateway the HTTPRoute attaches to, NAME or NAME/NAMESPACE "
            "(default: the deployment's, else 'shipyard' in its namespace)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Kubernetes: render and validate only.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Kubernetes: write the manifests to a new folder."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start a canary next to the stable replicas; with --analyse, abort it automatically when
    its error rate or p99 (from /metrics) is worse than stable's by the margins.

    Kubernetes: a Deployment NAME-canary and a Gateway API HTTPRoute splitting by --weight."""
    from shipyard.deploy.canary import CanaryPolicy
    from shipyard.deploy.images import resolve_image
    from shipyard.deploy.service import Deployments, write_manifests
    from shipyard.errors import ConfigError

    settings = Settings.from_env()
    source = resolve_image(ref, settings)
    with Deployments.open(settings) as deployments:
        plan = deployments.plan_canary(name, source, weight=weight, env=env or (), gateway=gateway)
        if plan.files is None and (dry_run or output):
            raise ConfigError("--dry-run and -o are for kubernetes canaries (rendered manifests)")
        if plan.files is not None and output is not None:
            write_manifests(plan.files, output)
        if plan.files is not None and dry_run:
            print_rendered(plan.canary, plan.files, output, as_json=as_json)
            return
        policy = CanaryPolicy(max_error_rate_increase, max_p99_ratio)
        with connected(plan.live) as target, progress_line(enabled=not as_json) as progress:
            outcome = deployments.run_canary(
                plan, target, progress=progress, analyse_seconds=analyse, policy=policy
            )
    verdict = outcome.verdict
    if as_json:
        print_json(
            {
                **outcome.status.to_dict(),
                "canary_revision": outcome.revision,
                "verdict": None
                if verdict is None
                else {"healthy": verdict.healthy, "reason": verdict.reason, **verdict.figures},
            }
        )
        return
    print_status(outcome.status, outcome.revision, as_json=False)
    if verdict is not None:
        stdout.print(f"canary verdict: {verdict.reason}")


@handle_errors
def promote(name: NameArg, as_json: JsonOption = False) -> None:
    """Roll every stable replica to the canary's version, then retire the canary."""
    with deployment_session(name, as_json=as_json) as (target, deployments, progress):
        revision, current = deployments.promote(name, target, progress=progress)
    print_status(current, revision, as_json=as_json)


@handle_errors
def abort(name: NameArg, as_json: JsonOption = False) -> None:
    """Retire the canary; the stable replicas take every request again."""
    with deployment_session(name, as_json=as_json) as (target, deployments, progress):
        revision = deployments.abort(name, target, reason="aborted by hand", progress=progress)
        current = target.status(name)
    if as_json:
        print_json({**current.to_dict(), "aborted_revision": revision})
    else:
        stdout.print(f"aborted canary revision {revision}")
