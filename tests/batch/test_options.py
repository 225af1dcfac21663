"""Chunk sizes: explicit ``--batch-rows`` wins; otherwise the input format decides."""

from __future__ import annotations

import pytest

from shipyard.batch.options import DEFAULT_BATCH_ROWS, BatchOptions
from shipyard.errors import ConfigError


def test_default_chunks_follow_the_input_format() -> None:
    options = BatchOptions()
    assert options.rows_per_chunk("parquet") == DEFAULT_BATCH_ROWS["parquet"] == 65_536
    assert options.rows_per_chunk("csv") == options.rows_per_chunk("jsonl") == 16_384


def test_explicit_batch_rows_wins_for_every_format() -> None:
    options = BatchOptions(batch_rows=1000)
    assert {options.rows_per_chunk(f) for f in ("parquet", "csv", "jsonl")} == {1000}


@pytest.mark.parametrize("rows", [0, -5, 10_000_001])
def test_batch_rows_out_of_range_is_refused(rows: int) -> None:
    with pytest.raises(ConfigError, match="--batch-rows"):
        BatchOptions(batch_rows=rows)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("scores.csv", "scores.rejects.jsonl"),
        ("out/scores.csv", "out/scores.rejects.jsonl"),
        ("s3://bucket/a/scores.csv", "s3://bucket/a/scores.rejects.jsonl"),
    ],
)
def test_a_sibling_sits_in_the_outputs_folder(output: str, expected: str) -> None:
    from shipyard.batch.location import Location

    sibling = Location.parse(output, endpoint_url="http://127.0.0.1:9").sibling(
        "scores.rejects.jsonl"
    )
    assert sibling.url == expected
