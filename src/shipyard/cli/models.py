"""Placeholder: replaced by ``shipyard models ...`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Inspect and manage registered models.", no_args_is_help=True)
