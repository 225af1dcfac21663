"""The log reader: rotated segments in order, resumable offsets, foreign and torn lines counted."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pytest

from shipyard.errors import NotFoundError
from shipyard.monitor.compact import LogStore
from shipyard.monitor.flat_rows import ReadStats
from shipyard.monitor.logread import list_log_files, read_log
from shipyard.monitor.parse import parse_block
from shipyard.serve.predlog import LogRotation, PredictionLogger, PredictionRecord


def _record(i: int) -> PredictionRecord:
    inputs = {"a": np.array([float(i)]), "c": np.array(["x" if i % 2 else "y"], dtype=object)}
    return PredictionRecord(
        f"r{i}", 1000.0 + i, "m", 1, 0.1, inputs, {"predictions": np.array([i])}
    )


def _rows(source: str, stats: ReadStats) -> pa.Table:
    return pa.concat_tables(list(read_log(source, stats)), promote_options="permissive")


def test_rotated_segments_are_read_oldest_first_then_the_live_file(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLogger(str(path), rotation=LogRotation(max_bytes=1024, keep=50))
    log.start()
    for i in range(60):
        log.log(_record(i))
        time.sleep(0.005)
    log.close()
    files = list_log_files(str(path))
    assert len(files) > 2 and files[-1].url == str(path)
    stats = ReadStats()
    table = _rows(str(path), stats)
    assert table["request_id"].to_pylist() == [f"r{i}" for i in range(60)]
    assert table["in.c"].to_pylist()[:2] == ["y", "x"]
    assert stats.records == 60 and stats.skipped == 0


def test_a_folder_and_a_glob_read_every_file(tmp_path: Path) -> None:
    for name, ids in (("a.jsonl", range(3)), ("b.jsonl", range(3, 5))):
        (tmp_path / name).write_bytes(
            b"".join(
                orjson.dumps(_record(i).to_dict(), option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
                for i in ids
            )
        )
    assert len(_rows(str(tmp_path), ReadStats())) == 5
    assert len(_rows(str(tmp_path / "*.jsonl"), ReadStats())) == 5


def test_compaction_resumes_where_it_stopped_even_after_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    line = orjson.dumps(_record(0).to_dict(), option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
    path.write_bytes(line * 3)
    store = LogStore(tmp_path / "store")
    assert store.compact(str(path)).records == 3
    path.rename(tmp_path / "p.20260101T000000.000000Z-1.jsonl")  # rotated by the server
    second = orjson.dumps(_record(1).to_dict(), option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
    path.write_bytes(second * 2)
    assert store.compact(str(path)).records == 2  # the rotated file is not read again
    dataset = store.dataset()
    assert dataset is not None
    assert dataset.to_table(columns=["seq"])["seq"].to_pylist() == [0, 1, 2, 3, 4]


def test_stdout_captures_with_prefixes_and_foreign_lines_are_counted_not_fatal() -> None:
    good = orjson.dumps(_record(1).to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)
    block = b"\n".join([
        b"INFO:     Started server process [42]",
        b"web-1  | " + good,
        b'{"level": "info", "msg": "not a prediction"}',
        good[:40],
        good,
    ]) + b"\n"  # fmt: skip
    stats = ReadStats()
    table = parse_block(block, stats)
    assert table is not None and len(table) == 2
    assert (stats.records, stats.bad_lines, stats.foreign_lines) == (2, 1, 2)


def test_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="--logs"):
        list_log_files(str(tmp_path / "nowhere.jsonl"))


def test_an_s3_prefix_is_read_through_fsspec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's S3 server on loopback; the endpoint comes from fsspec's config (FSSPEC_S3_*)."""
    import boto3
    import fsspec
    from moto.server import ThreadedMotoServer

    from tests.serve.servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
                           "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket="logs")
        for name, ids in (
            ("p.20260101T000000.000000Z-1.jsonl", range(2)),
            ("p.jsonl", range(2, 5)),
        ):
            body = b"".join(
                orjson.dumps(_record(i).to_dict(), option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
                for i in ids
            )
            client.put_object(Bucket="logs", Key=f"serve/{name}", Body=body)
        fsspec.filesystem("s3").invalidate_cache()
        table = _rows("s3://logs/serve/", ReadStats())
        assert table["request_id"].to_pylist() == [f"r{i}" for i in range(5)]
    finally:
        server.stop()
