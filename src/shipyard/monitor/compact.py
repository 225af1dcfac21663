"""Compact JSON-lines prediction logs into Parquet segments that analysis scans by column.

A ``LogStore`` is a folder: ``segments/*.parquet`` (flat rows, a global ``seq`` number per row,
in arrival order) and ``state.json`` (bytes consumed per log file, the next ``seq``, running read
counts). Compaction is incremental: run it again and only new lines are read, so a long-running
job keeps up with a growing, rotating log while memory stays at one segment.

    >>> store = LogStore(home / "monitor" / "iris")
    >>> store.compact("/var/log/predictions.jsonl").rows
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from shipyard.monitor.flat_rows import ReadStats
from shipyard.monitor.logread import read_log

__all__ = ["SEGMENT_ROWS", "LogStore"]

SEGMENT_ROWS = 1_000_000
_ROW_GROUP = 128 * 1024


@dataclass
class _State:
    offsets: dict[str, int]
    next_seq: int
    stats: ReadStats


class LogStore:
    """Parquet segments of one model's prediction log, and where each source file was read to."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.segments = folder / "segments"

    def compact(self, source: str, *, final: bool = True) -> ReadStats:
        """Read what is new in ``source`` into segments; return this run's read counts."""
        self.segments.mkdir(parents=True, exist_ok=True)
        state = self._load()
        run = ReadStats()
        pending: list[pa.Table] = []
        rows = 0
        for table in read_log(source, run, state.offsets, final=final):
            pending.append(table)
            rows += len(table)
            if rows >= SEGMENT_ROWS:
                state.next_seq = self._write(pending, state.next_seq)
                pending, rows = [], 0
        if pending:
            state.next_seq = self._write(pending, state.next_seq)
        state.stats.add(run)
        self._save(state)
        return run

    def totals(self) -> ReadStats:
        """Read counts over every compaction so far."""
        return self._load().stats

    def dataset(self) -> ds.Dataset | None:
        """All segments as one Arrow dataset (schemas unified), or None before any rows."""
        files = sorted(self.segments.glob("*.parquet")) if self.segments.exists() else []
        if not files:
            return None
        schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
        return ds.dataset([str(f) for f in files], schema=schema, format="parquet")

    def _write(self, tables: list[pa.Table], seq: int) -> int:
        table = pa.concat_tables(tables, promote_options="permissive")
        table = table.append_column("seq", pa.array(np.arange(seq, seq + len(table))))
        path = self.segments / f"seg-{seq:012d}.parquet"
        partial = path.with_suffix(".parquet.partial")
        pq.write_table(table, partial, row_group_size=_ROW_GROUP, compression="lz4")
        os.replace(partial, path)  # a segment appears whole or not at all
        return seq + len(table)

    def _load(self) -> _State:
        path = self.folder / "state.json"
        if not path.exists():
            return _State({}, 0, ReadStats())
        data = json.loads(path.read_text())
        return _State(dict(data["offsets"]), int(data["next_seq"]), ReadStats(**data["stats"]))

    def _save(self, state: _State) -> None:
        path = self.folder / "state.json"
        payload = {"offsets": state.offsets, "next_seq": state.next_seq,
                   "stats": state.stats.to_dict()}  # fmt: skip
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(payload))
        os.replace(partial, path)
