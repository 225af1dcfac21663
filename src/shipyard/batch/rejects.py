"""The rejects file: one JSON line per bad row, with its 0-based input row number and the reason.

    {"row": 1234, "reason": "field 'age': expected INT64 values, got 'forty'",
     "values": {"id": 77, "age": "forty", ...}}

Written per chunk into the run's partial folder, then gathered beside the output (``out.parquet``
-> ``out.rejects.jsonl``) when the run completes; ``--rejects PATH`` puts it elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson

from shipyard.batch.location import Location
from shipyard.batch.reader import BadLine, Chunk

__all__ = ["rejected_rows", "rejects_location", "write_rejects"]

_SUFFIXES = (".parquet", ".pq", ".csv", ".jsonl", ".ndjson", ".json")


def rejected_rows(chunk: Chunk, reasons: Mapping[int, str]) -> bytes:
    """The JSON lines for a chunk's bad rows, in row order."""
    lines = []
    for row in sorted(reasons):
        if chunk.table is not None:
            values = chunk.table.slice(row, 1).to_pylist()[0]
        else:
            record = (chunk.records or [])[row]
            values = None if isinstance(record, BadLine) else record
        entry = {"row": chunk.start + row, "reason": reasons[row], "values": values}
        lines.append(orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE))
    return b"".join(lines)


def rejects_location(
    output: Location, given: str | None, endpoint_url: str | None = None
) -> Location:
    """``--rejects`` when given, else ``<output without suffix>.rejects.jsonl`` beside it."""
    if given:
        return Location.parse(given, endpoint_url=endpoint_url)
    name = output.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return output.sibling(f"{name}.rejects.jsonl")


def write_rejects(parts: Sequence[Location], target: Location) -> None:
    """Gather the rejects parts into ``target`` (an empty file when no row was rejected)."""
    target.write_atomic(b"".join(part.read_bytes() for part in parts))
