"""The ``shipyard`` command: one Typer app; each stage's commands are imported when they run.

``COMMANDS`` lists every sub-command with the module it lives in and the line ``shipyard --help``
shows (``lazy_group.py``), so ``--help`` imports no stage module and a command imports only its
own (see docs/architecture/00-overview.md, "A CLI that starts fast").
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shipyard.cli.lazy_group import LazyCommand, LazyGroup
from shipyard.cli.typer_coercion import defer_typer_coercion

__all__ = ["COMMANDS", "app", "main"]

COMMANDS = (
    LazyCommand(
        "serve",
        "shipyard.cli.serve:serve",
        "Serve a model over HTTP: Open Inference Protocol (V2) and plain JSON /predict.",
    ),
    LazyCommand(
        "build",
        "shipyard.cli.build:build",
        "Build a container image that serves a model version, then smoke-test it.",
    ),
    LazyCommand(
        "dockerfile",
        "shipyard.cli.build:dockerfile",
        "Write the build context (Dockerfile, wheelhouse, lock, model) without building.",
    ),
    LazyCommand(
        "push", "shipyard.cli.build:push", "Push an image to its registry and print its digest."
    ),
    LazyCommand(
        "demo",
        "shipyard.cli.demo:demo",
        "Train a demo model, register it as NAME@production and serve it.",
    ),
    LazyCommand(
        "predict",
        "shipyard.cli.batch:predict",
        "Score every row of INPUT with MODEL and write the predictions to OUTPUT, in order.",
    ),
    LazyCommand(
        "verify",
        "shipyard.cli.verify:verify",
        "Run an image once without network: load the model, predict its golden sample.",
    ),
    LazyCommand(
        "verify-self",
        "shipyard.cli.verify:verify_self",
        "Check the model folder in this image and print one JSON line (used by the smoke test).",
        hidden=True,
    ),
    LazyCommand(
        "server",
        "shipyard.cli.tracking:server_app",
        "Serve the MLflow tracking REST API, Shipyard's run API and the web UI (at /).",
    ),
    LazyCommand(
        "run",
        "shipyard.cli.image_run:run",
        "Start a model image, wait until it is ready and print its URL.",
    ),
    LazyCommand(
        "stop",
        "shipyard.cli.image_run:stop",
        "Stop a container started by `shipyard run`: SIGTERM, the server drains, then remove it.",
    ),
    LazyCommand(
        "deploy",
        "shipyard.cli.deploy.deploy:deploy",
        "Deploy a model version (or an image) with N replicas behind a load balancer.",
    ),
    LazyCommand("models", "shipyard.cli.models:app", "Inspect and manage registered models."),
    LazyCommand(
        "pipeline", "shipyard.cli.pipelines:app", "Run, show and export pipelines of typed steps."
    ),
    LazyCommand(
        "monitor",
        "shipyard.cli.monitor:app",
        "Monitor a model: drift, data quality, accuracy, reports and alerts.",
    ),
    LazyCommand(
        "runs", "shipyard.cli.tracking:runs_app", "List, show, compare and delete tracked runs."
    ),
    LazyCommand(
        "experiments",
        "shipyard.cli.tracking:experiments_app",
        "List, create and delete experiments.",
    ),
    LazyCommand(
        "deployments",
        "shipyard.cli.deploy.deployments:app",
        "List, inspect, scale, update, roll back and remove deployments.",
    ),
)
"""Every sub-command of ``shipyard``, in the order ``--help`` lists them."""


class _Root(LazyGroup):
    lazy_commands = COMMANDS

    def __init__(self, **attrs: Any) -> None:
        defer_typer_coercion()  # a command given only flags imports no pydantic
        super().__init__(**attrs)


app = typer.Typer(
    name="shipyard",
    cls=_Root,
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


def main() -> None:
    """Console-script entry point."""
    app()
