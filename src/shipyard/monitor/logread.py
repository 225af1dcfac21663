"""Stream prediction logs from files, folders, rotated segments, stdin and object stores.

``PATH`` may be a file (its rotated segments ``<stem>.*<suffix>`` come first, oldest first), a
folder (every file under it), a glob, ``-`` (standard input, e.g. a captured stdout) or any fsspec
URL (``s3://bucket/prefix/``). Files are read in blocks of complete lines; a file's identity is a
hash of its first line, so a rotated (renamed) file resumes where the reader stopped.

    >>> for table in read_log("/var/log/shipyard/predictions.jsonl", stats):
    ...     ...
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import IO

import fsspec
import pyarrow as pa

from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.monitor.flat_rows import ReadStats
from shipyard.monitor.parse import parse_block

__all__ = ["BLOCK_BYTES", "LogFile", "list_log_files", "read_log"]

BLOCK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LogFile:
    """One file of a log, by fsspec URL."""

    url: str
    size: int


def list_log_files(source: str) -> list[LogFile]:
    """The files ``source`` names, in reading order (rotated segments before the live file)."""
    fs, path = fsspec.core.url_to_fs(source)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]

    def url(p: str) -> str:
        return p if protocol in ("file", "local") else f"{protocol}://{p}"

    if any(ch in path for ch in "*?["):
        found = sorted(fs.glob(path))
    elif fs.isdir(path):
        found = sorted(p for p in fs.find(path) if not p.rsplit("/", 1)[-1].startswith("."))
    elif fs.exists(path):
        stem, dot, suffix = path.rpartition("/")[2].rpartition(".")
        parent = path.rpartition("/")[0]
        pattern = f"{parent}/{stem}.*.{suffix}" if dot else f"{path}.*"
        found = [*sorted(p for p in fs.glob(pattern) if p != path), path]
    else:
        raise NotFoundError(f"no prediction log at {source}: pass --logs PATH (a file, a folder, "
                            "a glob or an s3:// prefix) where `shipyard serve --prediction-log` "
                            "writes")  # fmt: skip
    return [LogFile(url(p), int(fs.size(p) or 0)) for p in found]


def read_log(
    source: str,
    stats: ReadStats,
    offsets: MutableMapping[str, int] | None = None,
    *,
    final: bool = True,
) -> Iterator[pa.Table]:
    """Flat row tables from every file of ``source``; bad lines are counted in ``stats``.

    With ``offsets`` (file identity -> bytes consumed) only new bytes are read and the mapping is
    updated. ``final=False`` leaves an unterminated last line for the next read (a live file).
    """
    if source == "-":
        yield from _read_stream(sys.stdin.buffer, stats, final=True)
        return
    for log in list_log_files(source):
        stats.files += 1
        with fsspec.open(log.url, "rb") as stream:
            identity = _identity(stream)
            start = 0 if offsets is None or identity is None else offsets.get(identity, 0)
            if start >= log.size:
                continue
            stream.seek(start)
            consumed = start
            for table, used in _blocks(stream, stats, final=final):
                consumed += used
                if table is not None:
                    yield table
            if offsets is not None and identity is not None:
                offsets[identity] = consumed


def _identity(stream: IO[bytes]) -> str | None:
    head = stream.read(4096)
    stream.seek(0)
    line, newline, _ = head.partition(b"\n")
    return hashlib.sha256(line).hexdigest()[:32] if newline else None


def _read_stream(stream: IO[bytes], stats: ReadStats, *, final: bool) -> Iterator[pa.Table]:
    stats.files += 1
    for table, _ in _blocks(stream, stats, final=final):
        if table is not None:
            yield table


def _blocks(
    stream: IO[bytes], stats: ReadStats, *, final: bool
) -> Iterator[tuple[pa.Table | None, int]]:
    rest = b""
    while True:
        chunk = stream.read(BLOCK_BYTES)
        if not chunk:
            break
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            if len(rest) > 8 * BLOCK_BYTES:
                raise InvalidInputError("a prediction log line is longer than 128 MiB")
            continue
        rest = data[cut:]
        yield parse_block(data[:cut], stats), cut
    if rest and final:
        yield parse_block(rest + b"\n", stats), len(rest)
