"""A deployment's status and its rendered manifests, as a table for people or JSON for scripts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.cli.output import err_console, print_json, print_table, stdout

if TYPE_CHECKING:
    from shipyard.deploy.spec import DeploymentSpec
    from shipyard.deploy.targets.base import DeploymentStatus

__all__ = ["print_rendered", "print_status"]


def print_status(
    status: DeploymentStatus, revision: int | None, *, as_json: bool, waited: bool = True
) -> None:
    """What runs now: one line and a replica table, or one JSON document."""
    if not waited:
        err_console.print(
            "applied without waiting for readiness (--no-wait): no automatic rollback; follow "
            f"it with `shipyard deployments status {status.name}`"
        )
    if as_json:
        print_json({**status.to_dict(), "revision": revision})
        return
    stdout.print(
        f"{status.name} (revision {revision}) on {status.target}: {status.ready_count}/"
        f"{len(status.replicas)} ready" + (f" at [bold]{status.url}[/]" if status.url else "")
    )
    print_table(
        None,
        ["replica", "revision", "image", "ready", "url"],
        [(r.name, r.revision, r.image, "yes" if r.ready else "no", r.url) for r in status.replicas],
    )


def print_rendered(
    spec: DeploymentSpec, files: dict[str, str], output: Path | None, *, as_json: bool
) -> None:
    """A dry run's result: every rendered file (and where they were written)."""
    if as_json:
        print_json(
            {"spec": spec.to_dict(), "files": files, "output": str(output) if output else None}
        )
        return
    for name, text in files.items():
        stdout.print(f"[bold]# {name}[/]")
        stdout.out(text)
    if output is not None:
        stdout.print(f"wrote {len(files)} files to [bold]{output}[/]")
