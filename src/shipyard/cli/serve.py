"""``shipyard serve``: put a registered model (or a model folder) behind HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli.output import err_console, handle_errors
from shipyard.serve.config import ServeConfig

__all__ = ["serve"]


@handle_errors
def serve(
    target: Annotated[
        str, typer.Argument(help="A model reference (iris@production, iris:3) or a model folder.")
    ],
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8080).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes sharing the port (default 1).")
    ] = None,
    follow_alias: Annotated[
        bool | None,
        typer.Option("--follow-alias", help="Swap in new versions when the alias moves."),
    ] = None,
    max_batch_size: Annotated[
        int | None, typer.Option(help="Most rows merged into one model call (default 1024).")
    ] = None,
    max_latency_ms: Annotated[
        float | None,
        typer.Option(help="Longest wait for other requests to share a call (default 1.0)."),
    ] = None,
    no_batching: Annotated[
        bool, typer.Option("--no-batching", help="Call the model once per request.")
    ] = False,
    api_key_file: Annotated[
        Path | None, typer.Option(help="File of bearer API keys, one a line.")
    ] = None,
    prediction_log: Annotated[
        str | None, typer.Option(help="Append predictions as JSON lines to PATH, or - (stdout).")
    ] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option(help="Largest request body accepted (default 16 MiB).")
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(help="Another Host name to answer without an API key (repeatable)."),
    ] = None,
) -> None:
    """Serve a model over HTTP: Open Inference Protocol (V2) and plain JSON /predict."""
    from shipyard.cli.serving import start_serving

    config = ServeConfig.from_env(
        host=host,
        port=port,
        workers=workers,
        follow_alias=follow_alias,
        max_batch_size=max_batch_size,
        max_latency_ms=max_latency_ms,
        batching=False if no_batching else None,
        api_key_file=api_key_file,
        prediction_log=prediction_log,
        max_body_bytes=max_body_bytes,
        allowed_hosts=tuple(allowed_host) if allowed_host else None,
    )
    start_serving(target, config, say=lambda message: err_console.print(message, markup=False))
