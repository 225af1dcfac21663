"""Turn a block of prediction-log lines into flat rows (``flat_rows.py``), skipping the rest.

The fast path hands the whole block to Arrow's JSON reader and flattens the nested lists with
Arrow compute (no Python per record). A block it cannot read (a truncated line, text from another
program, a line prefixed by a log shipper) goes line by line instead: each line is cut at its
first ``{``, parsed with orjson and checked; what is not a record is counted and skipped.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from shipyard.monitor.flat_rows import (
    INPUT_PREFIX,
    OUTPUT_PREFIX,
    ReadStats,
    flat_rows,
    is_record,
    normalize_column,
)

__all__ = ["parse_block"]


def parse_block(block: bytes, stats: ReadStats) -> pa.Table | None:
    """The flat rows of the complete lines in ``block`` (None when none are records)."""
    if not block.strip():
        return None
    try:
        table = _fast(block, stats)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, KeyError):
        table = None
    if table is None:
        table = _slow(block, stats)
    if table is not None:
        stats.rows += int(pc.sum(pc.equal(table["status"], "ok")).as_py() or 0)
    return table


def _fast(block: bytes, stats: ReadStats) -> pa.Table | None:
    options = pj.ReadOptions(block_size=max(len(block) + 1, 1 << 20))
    raw = pj.read_json(io.BytesIO(block), read_options=options)
    names = set(raw.column_names)
    if not {"request_id", "ts", "inputs", "outputs"} <= names:
        return None  # foreign lines, or only rejections: let the careful path count them
    if raw["inputs"].type.num_fields == 0 or not pa.types.is_struct(raw["inputs"].type):
        return None
    raw = raw.combine_chunks()
    known = pc.and_(pc.is_valid(raw["request_id"]), pc.is_valid(raw["ts"]))
    if "v" in names:
        known = pc.and_(known, pc.fill_null(pc.is_in(raw["v"], pa.array([0, 1])), True))
    status = raw["status"] if "status" in names else pa.array(["ok"] * len(raw))
    ok = pc.and_(known, pc.equal(pc.fill_null(status, "ok"), "ok"))
    rejected = pc.and_(known, pc.equal(pc.fill_null(status, "ok"), "rejected"))
    stats.foreign_lines += len(raw) - int(pc.sum(known).as_py() or 0)
    good = raw.filter(ok)
    columns, counts = _flatten(good)
    parts = []
    if len(good):
        index = np.repeat(np.arange(len(good)), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        base = {
            "request_id": good["request_id"].take(index).cast(pa.string()),
            "row": pa.array(np.arange(len(index)) - starts, pa.int32()),
            "ts": good["ts"].take(index).cast(pa.float64()),
            "model_version": _versions(good).take(index),
            "status": pa.array(["ok"] * len(index), pa.string()),
        }
        parts.append(pa.table({**base, **columns}))
    refused = raw.filter(rejected)
    if len(refused):
        parts.append(_rejections(refused))
    stats.records += len(good) + len(refused)
    stats.rejected += len(refused)
    return pa.concat_tables(parts, promote_options="default") if parts else None


def _versions(table: pa.Table) -> pa.Array:
    if "model_version" not in table.column_names:
        return pa.nulls(len(table), pa.int64())
    return table["model_version"].cast(pa.int64())


def _flatten(good: pa.Table) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Flat columns of the ``inputs``/``outputs`` structs and the rows each record holds."""
    columns: dict[str, pa.Array] = {}
    counts: np.ndarray | None = None
    for field, prefix in (("inputs", INPUT_PREFIX), ("outputs", OUTPUT_PREFIX)):
        struct = good[field].combine_chunks()
        lone = field == "inputs" and struct.type.num_fields == 1
        for i in range(struct.type.num_fields):
            name = struct.type.field(i).name
            values = struct.field(i)
            lengths = pc.fill_null(pc.list_value_length(values), -1).to_numpy()
            if counts is None:
                counts = lengths
            elif not np.array_equal(counts, lengths):
                raise KeyError("records disagree on their row counts")
            inner = pc.list_flatten(values)
            if pa.types.is_list(inner.type):
                widths = pc.list_value_length(inner).to_numpy(zero_copy_only=False)
                if len(widths) and (widths.min() != widths.max()):
                    raise KeyError("ragged matrix")
                width = int(widths[0]) if len(widths) else 0
                flat = pc.list_flatten(inner)
                stem = prefix if lone and name in ("input", "inputs") else f"{prefix}{name}."
                for j in range(width):
                    picked = flat.take(pa.array(np.arange(j, len(flat), width)))
                    columns[f"{stem}{j}"] = normalize_column(picked)
            else:
                columns[prefix + name] = normalize_column(inner)
    if counts is None or (counts < 0).any():
        raise KeyError("a record without inputs")
    return columns, counts


def _rejections(refused: pa.Table) -> pa.Table:
    return pa.table(
        {
            "request_id": refused["request_id"].cast(pa.string()),
            "row": pa.array(np.zeros(len(refused), dtype=np.int32)),
            "ts": refused["ts"].cast(pa.float64()),
            "model_version": _versions(refused),
            "status": pa.array(["rejected"] * len(refused), pa.string()),
        }
    )


def _slow(block: bytes, stats: ReadStats) -> pa.Table | None:
    rows: list[dict[str, Any]] = []
    for line in block.splitlines():
        start = line.find(b"{")
        if start < 0:
            if line.strip():
                stats.foreign_lines += 1
            continue
        try:
            obj = orjson.loads(line[start:])
        except orjson.JSONDecodeError:
            stats.bad_lines += 1
            continue
        if not is_record(obj):
            stats.foreign_lines += 1
            continue
        flat = flat_rows(obj)
        if flat is None:
            stats.bad_lines += 1
            continue
        rows.append({"obj": obj, "flat": flat})
    return _assemble(rows, stats)


def _assemble(rows: list[dict[str, Any]], stats: ReadStats) -> pa.Table | None:
    """One table from records parsed one by one (the slow path's second half)."""
    parts: list[pa.Table] = []
    for item in rows:
        obj, flat = item["obj"], item["flat"]
        n = len(next(iter(flat.values()))) if flat else 1
        status = "rejected" if not flat else "ok"
        try:
            columns = {
                k: normalize_column(pa.array(np.asarray(v).tolist())) for k, v in flat.items()
            }
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            stats.bad_lines += 1
            continue
        version = obj.get("model_version")
        base = {
            "request_id": pa.array([obj["request_id"]] * n, pa.string()),
            "row": pa.array(np.arange(n, dtype=np.int32)),
            "ts": pa.array([float(obj["ts"])] * n, pa.float64()),
            "model_version": pa.array(
                [version if isinstance(version, int) else None] * n, pa.int64()
            ),
            "status": pa.array([status] * n, pa.string()),
        }
        parts.append(pa.table({**base, **columns}))
        stats.records += 1
        stats.rejected += status == "rejected"
    return pa.concat_tables(parts, promote_options="permissive") if parts else None
