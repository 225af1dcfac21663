"""The options several ``deployments`` commands share."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["JsonOption", "NameArg", "WaitOption"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
NameArg = Annotated[str, typer.Argument(help="The deployment's name.")]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="Wait until every replica is ready and roll back by itself when one is not; "
        "--no-wait returns once applied (no automatic rollback).",
    ),
]
