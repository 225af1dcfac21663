"""Read the input in chunks of exactly ``batch_rows`` rows, never the whole of it.

Parquet goes through a ``pyarrow.dataset`` scan (only the needed columns, one batch read ahead);
CSV through pyarrow's streaming reader, the feature columns read as text so that a bad value is
one bad row, not a failed file (pyarrow's text-to-number cast runs as fast as its own parsing);
JSON lines through orjson, one record per line, as a ``/predict`` body would hold them. A folder
is read part by part in name order. Chunk boundaries depend only on the input and ``batch_rows``,
so a resumed run cuts the same chunks.

    >>> reader = ChunkReader.open(Location.parse("in.parquet"))
    >>> next(reader.chunks(65536, reader.names, ())).rows
    65536
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from shipyard.batch.location import Location
from shipyard.batch.options import DataFormat, format_for
from shipyard.errors import InvalidInputError

__all__ = ["BadLine", "Chunk", "ChunkReader"]

_CSV_BLOCK = 1 << 22


@dataclass(frozen=True, slots=True)
class BadLine:
    """A JSON line that could not be parsed: a bad row of its own."""

    reason: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows ``start`` to ``start + rows - 1`` of the input: an Arrow table, or JSON records."""

    index: int
    start: int
    table: pa.Table | None = None
    records: list[Any] | None = None

    @property
    def rows(self) -> int:
        if self.table is not None:
            return int(self.table.num_rows)
        return len(self.records or ())


class ChunkReader:
    """One input (a file or a folder of parts) in one format."""

    def __init__(
        self, location: Location, fmt: DataFormat, files: list[str], names: list[str]
    ) -> None:
        self.location = location
        self.format = fmt
        self.files = files
        self.names = names
        self.sizes = [location.size(f) for f in files]
        self._done_bytes = 0
        self._stream: Any = None
        self.total_rows: int | None = None

    @classmethod
    def open(cls, location: Location, given: DataFormat | None = None) -> ChunkReader:
        """The input at ``location``; its format is ``given`` or told by its (first) file name."""
        if not location.exists():
            raise InvalidInputError(f"input {location.url} does not exist")
        files = location.files() if location.is_dir() else [location.path]
        fmt = format_for(files[0], given)
        reader = cls(location, fmt, files, [])
        reader.names = reader._column_names()
        if fmt == "parquet":
            reader.total_rows = int(reader._dataset().count_rows())
        return reader

    def fraction(self, rows_done: int) -> float | None:
        """How much of the input has been read (0..1), when it can be told."""
        if self.total_rows is not None:
            return rows_done / self.total_rows if self.total_rows else 1.0
        total = sum(self.sizes)
        position = self._stream.tell() if self._stream is not None else 0
        return min(1.0, (self._done_bytes + position) / total) if total else None

    def chunks(
        self, batch_rows: int, columns: Sequence[str], text: Sequence[str], skip_rows: int = 0
    ) -> Iterator[Chunk]:
        """Chunks of ``batch_rows`` rows holding ``columns`` (``text``: CSV columns read as
        text), starting after ``skip_rows`` rows (a multiple of ``batch_rows``)."""
        index, start = skip_rows // batch_rows, skip_rows
        if self.format == "jsonl":
            pending: list[Any] = []
            for record in self._skip_records(self._records(), skip_rows):
                pending.append(record)
                if len(pending) == batch_rows:
                    yield Chunk(index, start, records=pending)
                    index, start, pending = index + 1, start + batch_rows, []
            if pending:
                yield Chunk(index, start, records=pending)
            return
        batches: list[pa.RecordBatch] = []
        held = 0
        for batch in self._skip_batches(self._batches(columns, text, batch_rows), skip_rows):
            batches.append(batch)
            held += batch.num_rows
            while held >= batch_rows:
                table = pa.Table.from_batches(batches).combine_chunks()
                yield Chunk(index, start, table=table.slice(0, batch_rows))
                rest = table.slice(batch_rows)
                batches, held = rest.to_batches(), rest.num_rows
                index, start = index + 1, start + batch_rows
        if held:
            yield Chunk(index, start, table=pa.Table.from_batches(batches).combine_chunks())

    def _column_names(self) -> list[str]:
        if self.format == "parquet":
            return list(self._dataset().schema.names)
        if self.format == "csv":
            with self.location.fs.open(self.files[0], "rb") as stream:
                return list(_csv_reader(stream, None, ()).schema.names)
        return []

    def _dataset(self) -> ds.Dataset:
        if self.location.is_local:
            filesystem: pafs.FileSystem = pafs.LocalFileSystem()
        else:
            filesystem = pafs.PyFileSystem(pafs.FSSpecHandler(self.location.fs))
        try:
            return ds.dataset(self.files, format="parquet", filesystem=filesystem)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInputError(f"{self.location.url} is not Parquet: {exc}") from exc

    def _batches(
        self, columns: Sequence[str], text: Sequence[str], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        if self.format == "parquet":
            scan = self._dataset().to_batches(
                columns=list(columns),
                batch_size=min(batch_rows, 1 << 17),
                batch_readahead=1,
                fragment_readahead=1,
            )
            yield from _arrow_errors(scan, self.location.url)
            return
        for path, size in zip(self.files, self.sizes, strict=True):
            with self.location.fs.open(path, "rb") as stream:
                self._stream = stream
                reader = _csv_reader(stream, list(columns), text)
                yield from _arrow_errors(reader, path)
            self._stream = None
            self._done_bytes += size

    def _records(self) -> Iterator[Any]:
        for path, size in zip(self.files, self.sizes, strict=True):
            with self.location.fs.open(path, "rb") as stream:
                self._stream = stream
                for line in stream:
                    if not line.strip():
                        continue
                    try:
                        yield orjson.loads(line)
                    except orjson.JSONDecodeError as exc:
                        yield BadLine(f"not valid JSON ({exc})")
            self._stream = None
            self._done_bytes += size

    @staticmethod
    def _skip_records(records: Iterator[Any], skip: int) -> Iterator[Any]:
        for _ in islice(records, skip):
            pass
        yield from records

    @staticmethod
    def _skip_batches(batches: Iterator[pa.RecordBatch], skip: int) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            yield batch.slice(skip) if skip else batch
            skip = 0


def _csv_reader(stream: Any, columns: list[str] | None, text: Sequence[str]) -> Any:
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(text, pa.string()),
        include_columns=columns or [],
        strings_can_be_null=True,
    )
    try:
        return pacsv.open_csv(
            stream, read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK), convert_options=convert
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        raise InvalidInputError(f"cannot read the CSV input: {exc}") from exc


def _arrow_errors(batches: Any, where: str) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        raise InvalidInputError(f"cannot read {where}: {exc}") from exc
