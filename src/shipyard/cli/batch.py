"""``shipyard predict``: score a file, a folder of parts or an S3 prefix with a model.

shipyard predict churn@production s3://data/2026-12-01/ -o scores.parquet --keep id
shipyard predict churn@production in.csv -o out.csv --on-error skip --json
shipyard predict churn@production in.parquet -o out.parquet --in-image   # in its image
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli.output import err_console, handle_errors, print_json, print_table
from shipyard.config import Settings
from shipyard.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import Progress

    from shipyard.batch import BatchOptions, BatchResult, ProgressCallback

__all__ = ["predict"]

_SCALE = 1_000_000  # the bar counts millionths of the input, so Rich's ETA works for any input


def _names(values: list[str] | None) -> tuple[str, ...]:
    return tuple(n.strip() for v in values or () for n in v.split(",") if n.strip())


@handle_errors
def predict(
    model: Annotated[
        str, typer.Argument(help="A model reference (iris@production, iris:3) or a model folder.")
    ],
    input_path: Annotated[
        str, typer.Argument(metavar="INPUT", help="A file, a folder of parts, or an s3:// URL.")
    ],
    output_arg: Annotated[
        str | None, typer.Argument(metavar="[OUTPUT]", show_default=False)
    ] = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Where to write the predictions.")
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--format", help="Output format: parquet, csv or jsonl (default: by name)."),
    ] = None,
    input_format: Annotated[
        str | None, typer.Option(help="Input format when its name does not tell.")
    ] = None,
    batch_rows: Annotated[
        int | None,
        typer.Option(
            help="Rows scored per model call [default: 65,536 for Parquet input, 16,384 for "
            "CSV and JSON lines]."
        ),
    ] = None,
    columns: Annotated[
        list[str] | None,
        typer.Option(help="Feature columns, in order (tensor models; comma-separated)."),
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option(help="Input columns copied beside the predictions (e.g. an id)."),
    ] = None,
    on_error: Annotated[
        str, typer.Option(help="A bad row: fail (with its row number) or skip (to rejects).")
    ] = "fail",
    rejects: Annotated[
        str | None, typer.Option(help="Rejects file (default OUTPUT.rejects.jsonl).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run from its last chunk.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUTPUT if it exists.")
    ] = False,
    prediction_log: Annotated[
        str | None, typer.Option(help="Append each chunk's inputs and outputs as JSON lines.")
    ] = None,
    in_image: Annotated[
        bool,
        typer.Option("--in-image", help="Run inside the model's image (shipyard/NAME:VERSION)."),
    ] = False,
    image: Annotated[
        str | None, typer.Option(help="The image for --in-image (implies --in-image).")
    ] = None,
    threads: Annotated[
        int, typer.Option(help="Chunks scored at once (models with a thread-safe predict).")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Score every row of INPUT with MODEL and write the predictions to OUTPUT, in order."""
    target = output or output_arg
    if target is None or (output and output_arg):
        raise ConfigError("give the output once: `predict MODEL INPUT -o OUTPUT`")
    from shipyard.batch import BatchOptions

    options = BatchOptions(
        input_format=input_format,  # type: ignore[arg-type]  # validated by BatchOptions
        output_format=output_format,  # type: ignore[arg-type]
        batch_rows=batch_rows,
        columns=_names(columns),
        keep=_names(keep),
        on_error=on_error,  # type: ignore[arg-type]
        resume=resume,
        overwrite=overwrite,
        rejects=rejects,
        prediction_log=prediction_log,
        threads=threads,
    )
    settings = Settings.from_env()
    if in_image or image:
        result = _in_image(model, input_path, target, options, image, settings, quiet=as_json)
    else:
        result = _on_host(model, input_path, target, options, settings, quiet=as_json)
    if as_json:
        print_json(result.to_dict())
        return
    rows = [
        ("rows", f"{result.rows_read} read, {result.rows_written} written"),
        (
            "rejected",
            f"{result.rows_rejected}" + (f" -> {result.rejects}" if result.rejects else ""),
        ),
        ("output", f"{result.output} ({result.output_format})"),
        ("speed", f"{result.rows_per_second:,.0f} rows/s in {result.seconds:.1f} s"),
    ]
    if result.resumed_chunks:
        rows.append(("resumed", f"{result.resumed_chunks} of {result.chunks} chunks were done"))
    print_table(f"{result.model_name} version {result.model_version}", ["", ""], rows)


def _progress() -> Progress:
    from rich.progress import (  # drawn by this command only
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]scoring"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows  {task.fields[rate]:,.0f} rows/s"),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def _on_host(
    model: str,
    input_path: str,
    target: str,
    options: BatchOptions,
    settings: Settings,
    *,
    quiet: bool,
) -> BatchResult:
    from shipyard.batch import predict_file

    if quiet:
        return predict_file(model, input_path, target, options, settings=settings)
    with _progress() as bar:
        task = bar.add_task("scoring", total=_SCALE, rows=0, rate=0.0)

        def update(rows: int, fraction: float | None) -> None:
            elapsed = bar.tasks[task].elapsed or 0.0
            rate = rows / elapsed if elapsed > 0 else 0.0
            completed = None if fraction is None else fraction * _SCALE
            bar.update(task, completed=completed, rows=rows, rate=rate)

        return predict_file(
            model, input_path, target, options, settings=settings, on_progress=update
        )


def _in_image(
    model: str,
    input_path: str,
    target: str,
    options: BatchOptions,
    image: str | None,
    settings: Settings,
    *,
    quiet: bool,
) -> BatchResult:
    from shipyard.batch.in_image import image_for, predict_in_image
    from shipyard.docker_engine import DockerEngine

    with DockerEngine.connect() as engine:
        tag = image_for(engine, model, image, settings)
        source, output = Path(input_path), Path(target)
        if quiet:
            return predict_in_image(engine, tag, source, output, options)
        err_console.print(f"scoring in {tag} (no network, non-root)")
        with _progress() as bar:
            return predict_in_image(engine, tag, source, output, options, on_progress=_follow(bar))


def _follow(bar: Progress) -> ProgressCallback:
    """A progress callback that moves ``bar`` (counting millionths of the input)."""
    task = bar.add_task("scoring", total=_SCALE, rows=0, rate=0.0)

    def update(rows: int, fraction: float | None) -> None:
        elapsed = bar.tasks[task].elapsed or 0.0
        rate = rows / elapsed if elapsed > 0 else 0.0
        completed = None if fraction is None else fraction * _SCALE
        bar.update(task, completed=completed, rows=rows, rate=rate)

    return update
