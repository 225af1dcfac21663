"""Everything the CLI prints: Rich tables and spinners for people, ``--json`` for scripts.

Errors are mapped to exit codes at the edge (``exitcodes.py``, re-exported here); domain code
only raises ``ShipyardError``s.

With ``--json`` an error is one document on stdout (see docs/guide/cli.md):
``{"error": {"type": "NotFoundError", "message": "...", "exit_code": 3}}``.

Messages are never wrapped by Rich, and when stdout (or stderr) is not a terminal its tables are
laid out wide too, so a URL, path or command stays on one line for copy-paste and for ``grep``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import IO, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from shipyard import errors
from shipyard.cli.exitcodes import EXIT_CODES, exit_code_for

__all__ = [
    "EXIT_CODES",
    "NOT_A_TERMINAL_WIDTH",
    "err_console",
    "error_document",
    "exit_code_for",
    "handle_errors",
    "make_console",
    "print_json",
    "print_table",
    "spinner",
    "stdout",
]

# Wide enough that nothing Shipyard prints is ever broken, small enough for Rich's layout.
NOT_A_TERMINAL_WIDTH = 10_000


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def make_console(*, stderr: bool = False) -> Console:
    """A console for stdout or stderr: tables sized by the terminal, or wide when piped.

    Printed lines are never broken by Rich (``soft_wrap``): a terminal wraps a long line itself
    and still copies it as one line, a pipe gets it whole.
    """
    piped = not _is_terminal(sys.stderr if stderr else sys.stdout)
    return Console(
        stderr=stderr,
        highlight=False,
        width=NOT_A_TERMINAL_WIDTH if piped else None,
        soft_wrap=True,
    )


stdout = make_console()
err_console = make_console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def error_document(exc: errors.ShipyardError) -> dict[str, Any]:
    """The ``--json`` form of an error: ``{"error": {"type", "message", "exit_code"}}``."""
    return {
        "error": {"type": type(exc).__name__, "message": str(exc), "exit_code": exit_code_for(exc)}
    }


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``ShipyardError`` raised by a command into a red message and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except errors.ShipyardError as exc:
            if kwargs.get("as_json"):
                print_json(error_document(exc))
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
