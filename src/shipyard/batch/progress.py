"""The progress manifest of a run: which chunks are complete, so ``--resume`` can go on.

A run writes into ``.<output name>.partial/`` beside its output: one part file a chunk, a rejects
part when rows were set aside, and ``_progress.jsonl``: the job's fingerprint on the first line,
then one line per complete chunk, appended once the chunk's part is in place (on object stores,
which cannot append, the object is rewritten). A chunk counts as done only once its line is
there; a line torn by a kill is ignored. The fingerprint (model digest, input files and sizes,
options that change the parts) must match for a resume: otherwise old parts would be mixed with
new ones.

    {"fingerprint": {"model": "sha256:…", "batch_rows": 16384, …}}
    {"index": 0, "start": 0, "rows": 16384, "written": 16380, "rejected": 4,
     "part": "part-000000.parquet", "rejects": "rejects-000000.jsonl", "columns": ["id", …]}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from shipyard.batch.location import Location
from shipyard.errors import ConflictError

__all__ = ["MANIFEST", "ChunkRecord", "Progress"]

MANIFEST = "_progress.jsonl"


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
    """The chunks done so far under one fingerprint, kept in ``folder``."""

    fingerprint: dict[str, Any]
    folder: Location
    chunks: list[ChunkRecord] = field(default_factory=list)
    _lines: list[bytes] = field(default_factory=list)

    @property
    def rows_done(self) -> int:
        return sum(c.rows for c in self.chunks)

    @classmethod
    def start(cls, folder: Location, fingerprint: dict[str, Any]) -> Progress:
        """A new manifest in ``folder`` (which is created)."""
        progress = cls(fingerprint, folder)
        progress._lines = [_line({"fingerprint": fingerprint})]
        folder.child(MANIFEST).write_atomic(progress._lines[0])
        return progress

    @classmethod
    def resume(cls, folder: Location, fingerprint: dict[str, Any]) -> Progress:
        """The saved progress in ``folder`` if it is for the same job, else ``ConflictError``;
        a new manifest when there is none."""
        manifest = folder.child(MANIFEST)
        if not manifest.exists():
            return cls.start(folder, fingerprint)
        lines = [line for line in manifest.read_bytes().split(b"\n") if line]
        saved = json.loads(lines[0]).get("fingerprint", {}) if lines else {}
        if saved != fingerprint:
            keys = {*saved, *fingerprint}
            changed = sorted(k for k in keys if saved.get(k) != fingerprint.get(k))
            raise ConflictError(
                f"cannot resume: the unfinished run in {folder.url} was for another job "
                f"({', '.join(changed)} changed). Run without --resume to start over"
            )
        progress = cls(fingerprint, folder, _lines=[lines[0] + b"\n"])
        for line in lines[1:]:
            try:
                record = ChunkRecord(**json.loads(line))
            except (ValueError, TypeError):
                break  # torn by a kill: that chunk is done again
            if record.index != len(progress.chunks):
                break
            progress.chunks.append(record)
            progress._lines.append(line + b"\n")
        folder.child(MANIFEST).write_atomic(b"".join(progress._lines))
        return progress

    def add(self, record: ChunkRecord) -> None:
        """Record a complete chunk (its part is already in place)."""
        line = _line(asdict(record))
        self.chunks.append(record)
        self._lines.append(line)
        manifest = self.folder.child(MANIFEST)
        if manifest.is_local:
            with open(manifest.path, "ab") as stream:
                stream.write(line)
        else:
            manifest.write_atomic(b"".join(self._lines))


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode() + b"\n"
