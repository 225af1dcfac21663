"""The ``shipyard`` command: one Typer app, one sub-app or command group per stage."""

from __future__ import annotations

import typer

from shipyard.cli import build, demo, deploy, models, run, serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="shipyard",
    help="Package, register, serve and containerize machine-learning models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(models.app, name="models")
serve.register(app)
build.register(app)
demo.register(app)
run.register(app)
deploy.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
