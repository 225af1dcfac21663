"""Everything the CLI prints: Rich tables and spinners for people, ``--json`` for scripts.

Errors are mapped to exit codes here, at the edge; domain code only raises ``ShipyardError``s.

    exit 0  success
    exit 1  any other Shipyard error (store, build, model error)
    exit 2  bad input: invalid name, option, payload or configuration
    exit 3  not found
    exit 4  conflict with the registry's state
    exit 5  integrity: an artifact failed its digest check
    exit 6  no Docker engine reachable
    exit 7  a deployment failed to apply
    exit 8  a rollout failed readiness and was rolled back
    exit 9  no orchestrator (Swarm, Kubernetes) reachable
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from shipyard import errors

__all__ = [
    "EXIT_CODES",
    "err_console",
    "exit_code_for",
    "handle_errors",
    "print_json",
    "print_table",
    "spinner",
    "stdout",
]

stdout = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_CODES: tuple[tuple[type[errors.ShipyardError], int], ...] = (
    (errors.DockerUnavailableError, 6),
    (errors.ClusterUnavailableError, 9),
    (errors.RolloutError, 8),
    (errors.DeployError, 7),
    (errors.IntegrityError, 5),
    (errors.ConflictError, 4),
    (errors.NotFoundError, 3),
    (errors.InvalidNameError, 2),
    (errors.InvalidInputError, 2),
    (errors.ConfigError, 2),
    (errors.PackagingError, 2),
)

P = ParamSpec("P")
R = TypeVar("R")


def exit_code_for(exc: errors.ShipyardError) -> int:
    """The process exit code for a Shipyard error."""
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return 1


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``ShipyardError`` raised by a command into a red message and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except errors.ShipyardError as exc:
            as_json = bool(kwargs.get("as_json"))
            if as_json:
                payload = {"error": str(exc), "type": type(exc).__name__}
                sys.stdout.write(json.dumps(payload) + "\n")
            else:
                err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(exit_code_for(exc)) from None

    return wrapper


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout, one document, for scripts."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a readable Rich table; cells are plain text (brackets are not Rich markup)."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    stdout.print(table)


@contextmanager
def spinner(message: str, *, enabled: bool = True) -> Iterator[None]:
    """Show a spinner on stderr while a person waits (silent when ``enabled`` is False)."""
    if not enabled:
        yield
        return
    with err_console.status(message):
        yield
