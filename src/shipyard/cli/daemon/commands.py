"""``shipyard daemon start | status | stop``: the warm daemon that runs ``pipeline`` commands.

shipyard daemon status --json
shipyard daemon stop
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from shipyard.cli.daemon.client import request, start_daemon, wait_until_listening
from shipyard.cli.daemon.identity import (
    DaemonPaths,
    daemon_paths,
    ensure_private_dir,
    is_enabled,
)
from shipyard.cli.output import handle_errors, print_json, spinner, stdout
from shipyard.errors import ConfigError

__all__ = ["app"]

app = typer.Typer(
    help="The warm daemon that runs `pipeline` commands without import time.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
START_TIMEOUT_S = 60.0


def _private_paths() -> DaemonPaths:
    """This install's daemon files; a folder others could open is an error (no daemon uses it)."""
    paths = daemon_paths(os.environ)
    if not ensure_private_dir(paths.folder):
        raise ConfigError(
            f"the daemon folder {paths.folder} is not one only you can open (mode 0700, yours): "
            "remove it, or set SHIPYARD_DAEMON_DIR to another"
        )
    return paths


def _document(answer: dict[str, Any] | None) -> dict[str, Any]:
    paths = daemon_paths(os.environ)
    base = {"enabled": is_enabled(os.environ), "socket": str(paths.socket), "log": str(paths.log)}
    if answer is None:
        return {**base, "running": False}
    started = datetime.fromtimestamp(float(answer["started"]), UTC).isoformat()
    return {
        **base,
        "running": True,
        "pid": answer["pid"],
        "started_at": started,
        "served": answer["served"],
        "commands_running": answer["children"],
        "idle_timeout_s": answer["idle_timeout_s"],
    }


def _say(document: dict[str, Any]) -> None:
    if not document["running"]:
        stdout.print(f"no daemon running (socket {document['socket']})")
        return
    stdout.print(
        f"daemon pid {document['pid']} since {document['started_at']}: {document['served']} "
        f"commands served, {document['commands_running']} running; exits after "
        f"{document['idle_timeout_s']:.0f} s idle"
    )
    if not document["enabled"]:
        stdout.print("SHIPYARD_DAEMON is off here: commands run in their own process")


@app.command("status")
@handle_errors
def status(as_json: JsonOption = False) -> None:
    """Whether this install's daemon runs, since when, and how many commands it served."""
    document = _document(request(_private_paths(), "status"))
    print_json(document) if as_json else _say(document)


@app.command("start")
@handle_errors
def start(as_json: JsonOption = False) -> None:
    """Start the daemon now (the first `pipeline` command starts it otherwise)."""
    paths = _private_paths()
    if request(paths, "status") is None:
        start_daemon(paths, os.environ)
        with spinner("starting the daemon (it imports the CLI once)", enabled=not as_json):
            if not wait_until_listening(paths, START_TIMEOUT_S):
                raise ConfigError(f"the daemon did not start: see {paths.log}")
    document = _document(request(paths, "status"))
    print_json(document) if as_json else _say(document)


@app.command("stop")
@handle_errors
def stop(as_json: JsonOption = False) -> None:
    """Stop the daemon; commands it is running finish first."""
    paths = _private_paths()
    answer = request(paths, "stop")
    deadline = time.monotonic() + 10
    while answer is not None and paths.socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    document = {**_document(answer), "stopped": answer is not None, "running": False}
    if as_json:
        print_json(document)
    elif answer is None:
        stdout.print("no daemon was running")
    else:
        stdout.print(f"stopped daemon pid {document['pid']}")
