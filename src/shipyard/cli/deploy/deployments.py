"""``shipyard deployments ...``: every deployment, what runs for it, and what changed it.

shipyard deployments list
shipyard deployments status cancer --json
shipyard deployments history cancer

The group also carries the commands of ``change.py``, ``canary.py`` and ``follow.py``.
"""

from __future__ import annotations

import typer

from shipyard.cli.deploy import canary, change, follow
from shipyard.cli.deploy.options import JsonOption, NameArg
from shipyard.cli.deploy.session import connected_to
from shipyard.cli.deploy.show import print_status
from shipyard.cli.output import handle_errors, print_json, print_table, stdout
from shipyard.config import Settings

__all__ = ["app"]

app = typer.Typer(help="List, inspect, scale, update, roll back and remove deployments.")


@app.command("list")
@handle_errors
def list_deployments(as_json: JsonOption = False) -> None:
    """Every deployment, its target and live revision."""
    from shipyard.deploy.history import DeploymentRecords

    with DeploymentRecords.open(Settings.from_env()) as records:
        rows = [(d, records.live(d.name) if d.live_revision else None) for d in records.all()]
    if as_json:
        print_json(
            [
                {
                    "name": d.name,
                    "target": d.target,
                    "live_revision": d.live_revision,
                    "image": live.spec.image if live else None,
                    "replicas": live.spec.replicas if live else None,
                    "follows": d.follow_alias,
                }
                for d, live in rows
            ]
        )
        return
    print_table(
        None,
        ["name", "target", "revision", "image", "replicas", "follows"],
        [
            (
                d.name,
                d.target,
                d.live_revision,
                live.spec.image if live else "",
                live.spec.replicas if live else "",
                d.follow_alias or "",
            )
            for d, live in rows
        ],
    )


@app.command("status")
@handle_errors
def status(name: NameArg, as_json: JsonOption = False) -> None:
    """What runs for a deployment now: replicas, readiness, URL."""
    from shipyard.deploy.history import DeploymentRecords

    settings = Settings.from_env()
    with DeploymentRecords.open(settings) as records:
        record = records.get(name)
    with connected_to(name, settings) as target:
        current = target.status(name)
    if as_json:
        print_json(
            {**current.to_dict(), "revision": record.live_revision, "follows": record.follow_alias}
        )
        return
    print_status(current, record.live_revision, as_json=False)
    if record.follow_alias:
        stdout.print(f"follows {record.follow_alias} (`shipyard deployments watch` rolls it)")


@app.command("history")
@handle_errors
def history(name: NameArg, as_json: JsonOption = False) -> None:
    """Every revision: model version, image, replicas, who, when, outcome."""
    from shipyard.deploy.history import DeploymentRecords

    with DeploymentRecords.open(Settings.from_env()) as records:
        revisions = records.history(name)
    if as_json:
        print_json([r.to_dict() for r in revisions])
        return
    print_table(
        f"deployment {name}",
        ["rev", "action", "model", "image", "replicas", "who", "when", "outcome"],
        [
            (
                d["revision"],
                d["action"],
                d["model"],
                d["image"],
                d["replicas"],
                d["created_by"],
                d["created_at"][:19],
                d["outcome"],
            )
            for d in (r.to_dict() for r in revisions)
        ],
    )


app.command("scale")(change.scale)
app.command("update")(change.update)
app.command("rollback")(change.rollback)
app.command("canary")(canary.canary)
app.command("promote")(canary.promote)
app.command("abort")(canary.abort)
app.command("rm")(change.remove)
app.command("watch")(follow.watch)
app.command("follow")(follow.follow)
