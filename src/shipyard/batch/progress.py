"""The progress manifest of a run: which chunks are complete, so ``--resume`` can go on.

A run writes into ``.<output name>.partial/`` beside its output: one part file a chunk, a rejects
part when rows were set aside, and ``_progress.json``, rewritten whole after each chunk's part is
in place. A chunk counts as done only once it is listed there. The fingerprint (model digest,
input files and sizes, options that change the parts) must match for a resume: otherwise the old
parts would be mixed with new ones.

    {"fingerprint": {...}, "chunks": [{"index": 0, "start": 0, "rows": 65536, "written": 65530,
      "rejected": 6, "part": "part-000000.parquet", "rejects": "rejects-000000.jsonl"}]}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from shipyard.batch.location import Location
from shipyard.errors import ConflictError

__all__ = ["ChunkRecord", "Progress"]

MANIFEST = "_progress.json"


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """One complete chunk: its rows, what was written and rejected, and its files."""

    index: int
    start: int
    rows: int
    written: int
    rejected: int
    part: str | None
    rejects: str | None
    columns: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Progress:
    """The chunks done so far under one fingerprint."""

    fingerprint: dict[str, Any]
    chunks: list[ChunkRecord] = field(default_factory=list)

    @property
    def rows_done(self) -> int:
        return sum(c.rows for c in self.chunks)

    @classmethod
    def load(cls, folder: Location, fingerprint: dict[str, Any]) -> Progress:
        """The saved progress in ``folder`` if it is for the same job, else ``ConflictError``."""
        manifest = folder.child(MANIFEST)
        if not manifest.exists():
            return cls(fingerprint)
        data = json.loads(manifest.read_bytes())
        saved = data.get("fingerprint", {})
        if saved != fingerprint:
            changed = sorted(
                k for k in {*saved, *fingerprint} if saved.get(k) != fingerprint.get(k)
            )
            raise ConflictError(
                f"cannot resume: the unfinished run in {folder.url} was for another job "
                f"({', '.join(changed)} changed). Run without --resume to start over"
            )
        return cls(fingerprint, [ChunkRecord(**c) for c in data.get("chunks", ())])

    def save(self, folder: Location) -> None:
        data = {"fingerprint": self.fingerprint, "chunks": [asdict(c) for c in self.chunks]}
        folder.child(MANIFEST).write_atomic(json.dumps(data, indent=1).encode())

    def add(self, record: ChunkRecord, folder: Location) -> None:
        self.chunks.append(record)
        self.save(folder)
