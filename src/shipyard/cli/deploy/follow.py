"""``shipyard deployments watch``: the registry alias as the deploy trigger.

shipyard deploy cancer@production --follow-alias        # the deployment follows the alias
shipyard deployments watch                              # long-running: rolls when it moves
shipyard deployments watch cancer --once --json         # one pass, for cron, CI and tests
shipyard deployments watch cancer --once --retry-failed # try a version that failed once more
shipyard deployments follow cancer --stop               # pin it where it is
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli.output import (
    err_console,
    error_document,
    exit_code_for,
    handle_errors,
    print_json,
    print_table,
    stdout,
)
from shipyard.config import Settings

if TYPE_CHECKING:
    from rich.status import Status

    from shipyard.deploy.watch import FollowResult
    from shipyard.errors import ShipyardError

__all__ = ["follow", "watch"]

_STYLE = {"rolled": "green", "rolled-back": "yellow", "failed": "red"}


@handle_errors
def follow(
    name: Annotated[str, typer.Argument(help="The deployment's name.")],
    ref: Annotated[
        str | None, typer.Argument(help="NAME@ALIAS to follow from now on (the watcher rolls).")
    ] = None,
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop following; it stays as it is.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Make a deployment follow an alias, or (--stop) stop following one."""
    from shipyard.deploy.follow import followed_ref
    from shipyard.deploy.history import DeploymentRecords
    from shipyard.errors import ConfigError
    from shipyard.registry.registry import Registry

    settings = Settings.from_env()
    if stop == (ref is not None):
        raise ConfigError("give either NAME@ALIAS to follow or --stop, not both or neither")
    with DeploymentRecords.open(settings) as records:
        records.get(name)
        follows = None
        if ref is not None:
            parsed = followed_ref(ref)
            with Registry.from_settings(settings) as registry:
                registry.get(parsed)  # the alias must exist: a NotFoundError says what does
            follows = str(parsed)
        record = records.set_follow(name, follows)
    if as_json:
        print_json({"name": record.name, "follows": record.follow_alias})
    elif record.follow_alias:
        stdout.print(f"{name} follows {record.follow_alias}: `shipyard deployments watch` rolls it")
    else:
        stdout.print(f"{name} follows no alias any more")


@handle_errors
def watch(
    names: Annotated[
        list[str] | None, typer.Argument(help="Deployments to watch (default: all that follow).")
    ] = None,
    interval: Annotated[
        float, typer.Option(min=0.5, help="Seconds between two reads of the registry.")
    ] = 10.0,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    retry_failed: Annotated[
        bool,
        typer.Option("--retry-failed", help="Try again a version whose roll failed (first pass)."),
    ] = False,
    base_image: Annotated[
        str | None,
        typer.Option(help="Base for a version's image built first (default: the live one's)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON: one summary with --once, else a line per change.")
    ] = False,
) -> None:
    """Roll each deployment made with --follow-alias to the version its alias points at, with
    the normal rolling update and automatic rollback; a failed version is not tried again until
    the alias moves. With --once: exit 0, or the exit code of the first failed roll."""
    from shipyard.deploy.watch import Watcher
    from shipyard.deploy.watch import watch as watch_loop

    settings = Settings.from_env()
    chosen = tuple(names or ())
    progress = _progress(enabled=not as_json)
    with Watcher.open(settings, cache_dir=settings.wheel_cache, base_image=base_image) as watcher:
        followed = watcher.followed(chosen)
        if not as_json:
            listed = ", ".join(f"{d.name} → {d.follow_alias}" for d in followed) or "none"
            err_console.print(f"following: {listed}", highlight=False)
        if once:
            with nullcontext() if as_json else err_console.status("one pass: reading the aliases"):
                results = watcher.reconcile(chosen, progress=progress, retry_failed=retry_failed)
            if as_json:
                print_json(_summary(results))
            else:
                _print_results(results)
            failed = [r.error for r in results if r.error is not None]
            if failed:
                raise typer.Exit(exit_code_for(failed[0]))
            return
        reporter = _Reporter(as_json=as_json, interval=interval)
        stop = threading.Event()
        try:
            with reporter.live():
                watch_loop(
                    watcher,
                    chosen,
                    interval=interval,
                    on_pass=reporter.passed,
                    on_error=reporter.failed,
                    stop=stop,
                    progress=progress,
                    retry_failed=retry_failed,
                )
        except KeyboardInterrupt:
            stop.set()
            if not as_json:
                err_console.print("stopped watching")


def _progress(*, enabled: bool) -> Callable[[str], None]:
    def step(message: str) -> None:
        if enabled:
            now = datetime.now(UTC).strftime("%H:%M:%S")
            err_console.print(f"[dim]{now}[/] {message}", soft_wrap=True, highlight=False)

    return step


def _summary(results: list[FollowResult]) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC).isoformat(),
        "deployments": [_result(r) for r in results],
        "rolled": sum(r.outcome == "rolled" for r in results),
        "failed": sum(r.outcome in {"rolled-back", "failed"} for r in results),
    }


def _result(result: FollowResult) -> dict[str, Any]:
    """A result as JSON; a failure's error as ``{"type", "message", "exit_code"}``."""
    error = None if result.error is None else error_document(result.error)["error"]
    return {**result.to_dict(), "error": error}


def _print_results(results: list[FollowResult]) -> None:
    if not results:
        err_console.print(
            "no deployment follows an alias: `shipyard deploy NAME@ALIAS --follow-alias`"
        )
        return
    print_table(
        None,
        ["deployment", "follows", "live", "alias", "action", "outcome", "reason"],
        [
            (
                r.decision.deployment,
                r.decision.follows,
                r.decision.live_version,
                r.decision.desired_version,
                r.decision.action,
                r.outcome or "",
                str(r.error) if r.error else r.decision.reason,
            )
            for r in results
        ],
    )


class _Reporter:
    """The long-running watcher's output: a spinner with the last pass, and one log line (or,
    with --json, one JSON line) whenever a deployment's state changes or a roll ends."""

    def __init__(self, *, as_json: bool, interval: float) -> None:
        self.as_json = as_json
        self.interval = interval
        self._seen: dict[str, tuple[str, str | None, str | None]] = {}
        self._status: Status | None = None
        self._passes = 0

    @contextmanager
    def live(self) -> Iterator[None]:
        if self.as_json:
            yield
            return
        with err_console.status("watching: first pass") as status:
            self._status = status
            yield

    def passed(self, results: list[FollowResult]) -> None:
        now = {r.decision.deployment: _state(r) for r in results}
        changed = [  # a roll that was tried, or a state other than the last pass's
            r
            for r in results
            if r.revision is not None
            or now[r.decision.deployment] != self._seen.get(r.decision.deployment)
        ]
        first, self._passes = self._passes == 0, self._passes + 1
        self._seen = now
        if self.as_json:
            if changed or first:
                _json_line(_summary(results))
            return
        for result in changed:
            _log_result(result)
        if self._status is not None:
            counts = Counter(r.decision.action for r in results)
            text = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "none"
            stamp = datetime.now(UTC).strftime("%H:%M:%S")
            self._status.update(f"watching: {text} at {stamp}; next pass in {self.interval:g} s")

    def failed(self, exc: ShipyardError) -> None:
        if self.as_json:
            _json_line({"at": datetime.now(UTC).isoformat(), **error_document(exc)})
        else:
            err_console.print(f"[red]pass failed:[/] {exc} (trying again)", soft_wrap=True)


def _state(result: FollowResult) -> tuple[str, str | None, str | None]:
    """What a person needs to hear about again only when it changes."""
    error = None if result.error is None else str(result.error)
    return (result.decision.action, result.outcome, error)


def _json_line(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def _log_result(result: FollowResult) -> None:
    decision = result.decision
    if result.outcome is None:
        text = f"{decision.deployment}: {decision.action} ({decision.reason})"
    else:
        style = _STYLE.get(result.outcome, "")
        tried = "nothing tried" if result.revision is None else f"revision {result.revision}"
        text = f"[{style}]{decision.deployment}: {result.outcome}[/] ({tried})"
        if result.error is not None:
            text += f": {result.error}"
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    err_console.print(f"[dim]{stamp}[/] {text}", soft_wrap=True, highlight=False)
