"""``shipyard deployments scale | update | rollback | rm``: a new revision of a live deployment.

shipyard deployments scale cancer 5
shipyard deployments update cancer cancer:3        # rolling update, one replica at a time
shipyard deployments rollback cancer --to 1
shipyard deployments rm cancer                     # the history is kept
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shipyard.cli.deploy.options import JsonOption, NameArg, WaitOption
from shipyard.cli.deploy.session import (
    connected,
    connected_to,
    deployment_session,
    progress_line,
    with_image,
)
from shipyard.cli.deploy.show import print_status
from shipyard.cli.output import handle_errors, print_json, stdout
from shipyard.config import Settings

__all__ = ["remove", "rollback", "scale", "update"]


@handle_errors
def scale(
    name: NameArg,
    replicas: Annotated[int, typer.Argument(help="The new number of replicas.")],
    wait: WaitOption = True,
    as_json: JsonOption = False,
) -> None:
    """Add or remove replicas (the balancer follows)."""
    _change(name, "scale", as_json=as_json, wait=wait, replicas=replicas)


@handle_errors
def update(
    name: NameArg,
    ref: Annotated[str, typer.Argument(help="The new NAME:VERSION, NAME@ALIAS or image.")],
    base_image: Annotated[
        str | None, typer.Option(help="Base image when the model's image must be built first.")
    ] = None,
    wait: WaitOption = True,
    as_json: JsonOption = False,
) -> None:
    """Roll a deployment to another model version or image, one replica at a time."""
    from shipyard.deploy.history import DeploymentRecords
    from shipyard.deploy.images import resolve_image
    from shipyard.deploy.service import Deployments

    settings = Settings.from_env()
    source = resolve_image(ref, settings)
    with DeploymentRecords.open(settings) as records:
        live = records.live(name)
    with connected(live.spec) as target:
        wanted = live.spec.with_changes(
            image=source.image,
            model_name=source.model.name if source.model else None,
            model_version=source.model.version if source.model else None,
        )
        wanted = with_image(target, source, wanted, settings, base_image, as_json=as_json)
        with Deployments.open(settings) as deployments, progress_line(enabled=not as_json) as step:
            revision, current = deployments.change(
                name, target, action="update", progress=step, spec=wanted, wait=wait
            )
    print_status(current, revision, as_json=as_json, waited=wait)


@handle_errors
def rollback(
    name: NameArg,
    to: Annotated[int | None, typer.Option("--to", help="The revision to go back to.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Go back to an earlier revision (default: the one before the live image)."""
    with deployment_session(name, as_json=as_json) as (target, deployments, progress):
        revision, current = deployments.rollback(name, target, to=to, progress=progress)
    print_status(current, revision, as_json=as_json)


@handle_errors
def remove(name: NameArg, as_json: JsonOption = False) -> None:
    """Remove a deployment: its replicas, balancer and network (the history is kept)."""
    from shipyard.deploy.service import Deployments

    settings = Settings.from_env()
    with connected_to(name, settings) as target, Deployments.open(settings) as deployments:
        removed = deployments.remove(name, target)
    if as_json:
        print_json({"name": name, "removed": removed})
    else:
        stdout.print(f"removed {name}: {', '.join(removed) or 'nothing was running'}")


def _change(name: str, action: str, *, as_json: bool, wait: bool = True, **changes: Any) -> None:
    with deployment_session(name, as_json=as_json) as (target, deployments, progress):
        revision, current = deployments.change(
            name, target, action=action, progress=progress, wait=wait, **changes
        )
    print_status(current, revision, as_json=as_json, waited=wait)
