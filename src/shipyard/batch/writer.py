"""Turn predictions into output: one part file a chunk, then the final file or folder.

A part holds one chunk's kept columns and predictions, in input order. Parts are written whole
(``Location.write_atomic``) so a killed run never leaves a torn one. ``assemble`` streams the
parts, one at a time, into the final output under a temporary name and renames it into place
(on S3 the object appears when its upload completes), so the final name only ever holds a
complete result.

Outputs of shape ``[-1, k]`` (``predict_proba``) become a fixed-size list column, or ``name_0``
... ``name_{k-1}`` in CSV, which has no lists.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shipyard.batch.location import Location
from shipyard.batch.options import DataFormat
from shipyard.errors import InvalidInputError

__all__ = ["assemble", "encode_part", "output_table", "part_name", "publish_folder"]

_SUFFIX: dict[DataFormat, str] = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}


def part_name(index: int, fmt: DataFormat) -> str:
    return f"part-{index:06d}.{_SUFFIX[fmt]}"


def output_table(
    kept: Mapping[str, pa.Array], outputs: Mapping[str, np.ndarray], fmt: DataFormat
) -> pa.Table:
    """The kept input columns, then one column per output (split for CSV when 2-D)."""
    columns: dict[str, pa.Array] = dict(kept)
    for name, array in outputs.items():
        for column, values in _output_columns(name, array, fmt):
            if column in columns:
                raise InvalidInputError(
                    f"--keep column {column!r} has the name of a model output: keep another "
                    "column or rename it in the input"
                )
            columns[column] = values
    return pa.table(columns)


def _output_columns(name: str, array: np.ndarray, fmt: DataFormat) -> list[tuple[str, pa.Array]]:
    if array.ndim == 1:
        return [(name, _arrow(array))]
    flat = array.reshape(array.shape[0], -1)
    if fmt == "csv":
        return [(f"{name}_{i}", _arrow(flat[:, i])) for i in range(flat.shape[1])]
    values = _arrow(np.ascontiguousarray(flat).reshape(-1))
    return [(name, pa.FixedSizeListArray.from_arrays(values, flat.shape[1]))]


def _arrow(array: np.ndarray) -> pa.Array:
    if array.dtype.kind in "biuf":
        return pa.array(array)
    return pa.array([v.decode() if isinstance(v, bytes) else v for v in array.tolist()])


def encode_part(table: pa.Table, fmt: DataFormat) -> bytes:
    """One part's bytes: a Parquet file, a CSV file with its header, or JSON lines."""
    buffer = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, buffer)
    elif fmt == "csv":
        pacsv.write_csv(table, buffer)
    else:
        option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
        buffer.write(b"".join(orjson.dumps(row, option=option) for row in table.to_pylist()))
    return buffer.getvalue()


def assemble(
    parts: Iterable[Location], schema: pa.Schema | None, output: Location, fmt: DataFormat
) -> None:
    """Write the parts, in order, as the single file ``output`` (complete, or not at all)."""
    if output.is_local:
        os.makedirs(os.path.dirname(output.path), exist_ok=True)
        temporary = f"{output.path}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            with open(temporary, "wb") as sink:
                _write_all(parts, schema, sink, fmt)
            os.replace(temporary, output.path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return
    with output.fs.open(output.path, "wb") as sink:
        _write_all(parts, schema, sink, fmt)


def _write_all(
    parts: Iterable[Location], schema: pa.Schema | None, sink: Any, fmt: DataFormat
) -> None:
    if fmt == "parquet":
        writer = pq.ParquetWriter(sink, schema if schema is not None else pa.schema([]))
        with writer:
            for part in parts:
                table = pq.read_table(io.BytesIO(part.read_bytes()))
                writer.write_table(table.cast(writer.schema) if schema is not None else table)
        return
    for number, part in enumerate(parts):
        data = part.read_bytes()
        if fmt == "csv" and number:  # every CSV part starts with the same header line
            data = data[data.index(b"\n") + 1 :]
        sink.write(data)


def publish_folder(parts: list[Location], output: Location) -> None:
    """Move the parts into the folder ``output`` (replacing what it held), all or nothing
    locally: they are gathered in a temporary folder that is renamed into place."""
    if not output.is_local:
        output.remove()
        for part in parts:
            output.fs.mv(part.path, output.child(part.name).path)
        return
    staging = f"{output.path}.tmp-{uuid.uuid4().hex[:8]}"
    os.makedirs(staging)
    for part in parts:
        os.replace(part.path, os.path.join(staging, part.name))
    if os.path.isdir(output.path):
        shutil.rmtree(output.path)
    os.replace(staging, output.path)
