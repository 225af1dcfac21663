"""The ``shipyard`` command: one Typer app, one sub-app or command group per stage.

``shipyard --help`` imports this module and every module registered below, so those import only
light things at their top (see docs/architecture/00-overview.md, "A CLI that starts fast").
"""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli import (
    batch,
    build,
    demo,
    deploy,
    models,
    monitor,
    pipelines,
    run,
    runs,
    serve,
    verify,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="shipyard",
    help="Package, register, serve and containerize machine-learning models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from shipyard import __version__

        typer.echo(f"shipyard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Package, register, serve and containerize machine-learning models."""


app.add_typer(models.app, name="models")
app.add_typer(pipelines.app, name="pipeline")
app.add_typer(monitor.app, name="monitor")
serve.register(app)
build.register(app)
demo.register(app)
batch.register(app)
verify.register(app)
runs.register(app)
run.register(app)
deploy.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
