"""The prediction log's record schema and its rotation by size and by age."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import orjson

from shipyard.serve.predlog import SCHEMA_VERSION, LogRotation, PredictionLogger, PredictionRecord


def _record(i: int) -> PredictionRecord:
    inputs = {"input": np.full((1, 8), float(i))}
    outputs = {"predictions": np.array([i % 2])}
    return PredictionRecord(f"req-{i}", time.time(), "m", 1, 0.5, inputs, outputs)


def _lines(folder: Path) -> list[dict[str, object]]:
    return [
        orjson.loads(line) for f in folder.glob("*.jsonl") for line in f.read_bytes().splitlines()
    ]


def test_records_carry_the_schema_version_and_rejections_their_error(tmp_path: Path) -> None:
    log = PredictionLogger(str(tmp_path / "p.jsonl"))
    log.start()
    log.log(_record(1))
    log.log(PredictionRecord.rejected("req-bad", "m", 1, "missing input(s) ['b']"))
    log.close()
    ok, bad = _lines(tmp_path)
    assert ok["v"] == SCHEMA_VERSION == 1
    assert ok["status"] == "ok" and ok["inputs"] == {"input": [[1.0] * 8]}
    assert bad["status"] == "rejected" and bad["error"] == "missing input(s) ['b']"
    assert "inputs" not in bad


def test_log_rotates_by_size_and_keeps_a_bounded_number_of_segments(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLogger(str(path), rotation=LogRotation(max_bytes=2048, keep=3))
    log.start()
    for i in range(400):
        log.log(_record(i))
        if i % 10 == 9:
            time.sleep(0.03)  # let the writer drain in several batches
    log.close()
    segments = sorted(tmp_path.glob("p.*.jsonl"))
    assert log.rotated > 3
    assert len(segments) == 3  # older ones were deleted
    assert all(s.stat().st_size < 2048 + 4096 * 120 for s in segments)
    kept = {r["request_id"] for r in _lines(tmp_path)}
    assert "req-399" in kept and "req-0" not in kept


def test_log_rotates_by_age(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLogger(str(path), rotation=LogRotation(max_seconds=0.05, keep=10))
    log.start()
    for i in range(3):
        log.log(_record(i))
        time.sleep(0.2)
    log.close()
    assert len(list(tmp_path.glob("p.*.jsonl"))) >= 2
    assert len(_lines(tmp_path)) == 3
