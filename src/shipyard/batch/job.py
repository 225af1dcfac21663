"""``predict_file``: score a whole file or folder with a model, chunk by chunk, restartably.

Each chunk is scored by ``ChunkScorer`` (the serving path) and its part file and the progress
manifest are written before the next chunk starts, so a killed run keeps every complete chunk and
``resume=True`` starts at the first incomplete one.

    >>> result = predict_file("churn@production", "s3://data/in/", "out.parquet",
    ...                       BatchOptions(keep=("id",), on_error="skip"))
    >>> result.rows_written, result.rows_rejected
    (999_998, 2)
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from shipyard.batch.location import Location
from shipyard.batch.options import BatchOptions, BatchResult, DataFormat, format_for
from shipyard.batch.progress import ChunkRecord, Progress
from shipyard.batch.reader import Chunk, ChunkReader
from shipyard.batch.rejects import rejects_location, write_rejects
from shipyard.batch.scorer import ChunkScorer
from shipyard.batch.writer import (
    assemble,
    publish_folder,
)
from shipyard.config import Settings
from shipyard.errors import ConfigError, ConflictError, InvalidInputError
from shipyard.serve.predlog import PredictionLogger
from shipyard.serve.runtime import ServedModel
from shipyard.serve.sources import source_for

__all__ = ["ProgressCallback", "predict_file"]

ProgressCallback = Callable[[int, float | None], None]
"""Called after each chunk with the rows read so far and the fraction of the input (or None)."""


@dataclass(frozen=True, slots=True)
class _Plan:
    reader: ChunkReader
    features: tuple[str, ...]
    keep: tuple[str, ...]
    output_format: DataFormat
    partial: Location
    folder_output: bool


def predict_file(
    model: str | ServedModel,
    input_url: str,
    output_url: str,
    options: BatchOptions | None = None,
    *,
    settings: Settings | None = None,
    on_progress: ProgressCallback | None = None,
) -> BatchResult:
    """Score ``input_url`` with ``model`` (a reference, a model folder or a loaded model) into
    ``output_url``. Raises ``InvalidInputError`` (bad rows with ``on_error="fail"``, missing
    columns), ``PredictionError`` and ``ConflictError`` (output exists, resume mismatch)."""
    options = options or BatchOptions()
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    served = model if isinstance(model, ServedModel) else source_for(model, settings).load()
    endpoint = settings.registry.s3_endpoint_url
    source = Location.parse(input_url, endpoint_url=endpoint)
    output = Location.parse(output_url, endpoint_url=endpoint)
    plan = _plan(served, source, output, output_url, options)
    if output.exists() and not options.overwrite:
        raise ConflictError(f"{output.url} exists already: pass --overwrite to replace it")
    fingerprint = _fingerprint(served, plan, options)
    if plan.partial.exists() and not options.resume:
        plan.partial.remove()
    if options.resume:
        progress = Progress.resume(plan.partial, fingerprint)
    else:
        progress = Progress.start(plan.partial, fingerprint)
    resumed = len(progress.chunks)
    scorer = ChunkScorer(
        served, plan.partial, plan.keep, plan.output_format, options.on_error, plan.features
    )
    log = PredictionLogger(options.prediction_log) if options.prediction_log else None
    if log is not None:
        log.start()
    try:
        skip = progress.rows_done
        if on_progress is not None and skip:
            on_progress(skip, plan.reader.fraction(skip))
        text = plan.features if plan.reader.format == "csv" else ()
        columns = list(dict.fromkeys((*plan.features, *plan.keep)))
        rows = options.rows_per_chunk(plan.reader.format)
        chunks = plan.reader.chunks(rows, columns, text, skip_rows=skip)
        for record in _scored(chunks, scorer, log, options.threads):
            progress.add(record)
            if on_progress is not None:
                on_progress(progress.rows_done, plan.reader.fraction(progress.rows_done))
    finally:
        if log is not None:
            log.close()
    return _finish(served, plan, progress, output, options, resumed, started, input_url, settings)


def _scored(
    chunks: Iterator[Chunk], scorer: ChunkScorer, log: PredictionLogger | None, threads: int
) -> Iterator[ChunkRecord]:
    """Score chunks on ``threads`` threads, yielding their records in input order. One chunk
    more than the threads is read ahead, so reading overlaps the model even with one thread
    (Arrow and most model libraries release the GIL while they compute). After a failure no
    further chunk starts."""
    failed = threading.Event()

    def score(chunk: Chunk) -> ChunkRecord | None:
        if failed.is_set():
            return None
        try:
            return scorer.score(chunk, log)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(threads, thread_name_prefix="shipyard-batch") as pool:
        pending: deque[Future[ChunkRecord | None]] = deque()
        try:
            for chunk in chunks:
                pending.append(pool.submit(score, chunk))
                if len(pending) > threads:
                    yield from _done(pending.popleft())
            while pending:
                yield from _done(pending.popleft())
        finally:
            failed.set()


def _done(future: Future[ChunkRecord | None]) -> Iterator[ChunkRecord]:
    record = future.result()
    if record is not None:
        yield record


def _plan(
    served: ServedModel, source: Location, output: Location, output_url: str, options: BatchOptions
) -> _Plan:
    reader = ChunkReader.open(source, options.input_format)
    folder_output = output_url.endswith("/") or output.is_dir()
    output_format = (
        options.output_format or reader.format
        if folder_output
        else format_for(output.url, options.output_format)
    )
    signature = served.model.signature
    if signature is not None and signature.input_kind == "columns":
        features = signature.input_names
        if options.columns and set(options.columns) != set(features):
            raise ConfigError(
                f"--columns {list(options.columns)} differ from the model's inputs "
                f"{list(features)}: a columns model reads its own inputs by name"
            )
    elif options.columns:
        features = options.columns
    elif reader.names:
        features = tuple(n for n in reader.names if n not in options.keep)
    else:
        raise ConfigError("name the feature columns of JSON-lines input with --columns")
    if reader.names:
        missing = [c for c in (*features, *options.keep) if c not in reader.names]
        if missing:
            raise InvalidInputError(f"the input has no column(s) {missing}: it has {reader.names}")
    partial = output.sibling(f".{output.name}.partial")
    return _Plan(reader, tuple(features), options.keep, output_format, partial, folder_output)


def _fingerprint(served: ServedModel, plan: _Plan, options: BatchOptions) -> dict[str, Any]:
    descriptor = served.descriptor
    return {
        "model": descriptor.digest if descriptor is not None else served.name,
        "input": [[f, s] for f, s in zip(plan.reader.files, plan.reader.sizes, strict=True)],
        "format": [plan.reader.format, plan.output_format],
        "batch_rows": options.rows_per_chunk(plan.reader.format),
        "columns": [list(plan.features), list(plan.keep)],
        "on_error": options.on_error,
    }


def _finish(
    served: ServedModel,
    plan: _Plan,
    progress: Progress,
    output: Location,
    options: BatchOptions,
    resumed: int,
    started: float,
    input_url: str,
    settings: Settings,
) -> BatchResult:
    chunks = progress.chunks
    parts = [plan.partial.child(c.part) for c in chunks if c.part is not None]
    if plan.folder_output:
        publish_folder(parts, output)
    else:
        schema = None
        if parts and plan.output_format == "parquet":
            schema = pq.read_schema(io.BytesIO(parts[0].read_bytes()))
        assemble(parts, schema, output, plan.output_format)
    rejects = None
    if options.on_error == "skip":
        target = rejects_location(output, options.rejects, settings.registry.s3_endpoint_url)
        write_rejects([plan.partial.child(c.rejects) for c in chunks if c.rejects], target)
        rejects = target.url
    plan.partial.remove()
    return BatchResult(
        model_name=served.name,
        model_version=served.version,
        input=input_url,
        output=output.url,
        output_format=plan.output_format,
        rows_read=progress.rows_done,
        rows_written=sum(c.written for c in chunks),
        rows_rejected=sum(c.rejected for c in chunks),
        chunks=len(chunks),
        resumed_chunks=resumed,
        seconds=time.perf_counter() - started,
        rejects=rejects,
        columns=next((tuple(c.columns) for c in chunks if c.columns), ()),
    )
