"""predict_file end to end on real files: formats, folders, order, bad rows, the prediction log."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from shipyard.batch import BatchOptions, predict_file
from shipyard.config import Settings
from shipyard.errors import ConflictError, InvalidInputError

from .conftest import Forest


def write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)


def read(path: Path) -> pd.DataFrame:
    if path.is_dir():
        return pd.concat([read(p) for p in sorted(path.iterdir())], ignore_index=True)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return pd.read_json(path, lines=True)


def test_parquet_predictions_match_model_predict_in_order(
    forest: Forest, batch_settings: Settings, tmp_path: Path
) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write(forest.frame, source)
    options = BatchOptions(batch_rows=97, keep=("id",))
    result = predict_file(forest.ref, str(source), str(target), options, settings=batch_settings)
    out = pd.read_parquet(target)
    assert list(out.columns) == ["id", "predictions"]
    assert out["id"].tolist() == forest.frame["id"].tolist()
    np.testing.assert_array_equal(out["predictions"].to_numpy(), forest.expected)
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (569, 569, 0)
    assert result.chunks == 6
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize(
    ("source_name", "target_name"),
    [("in.csv", "out.jsonl"), ("in.jsonl", "out.csv"), ("in.csv", "out.parquet")],
)
def test_csv_and_json_lines_in_and_out(
    forest: Forest, batch_settings: Settings, tmp_path: Path, source_name: str, target_name: str
) -> None:
    source, target = tmp_path / source_name, tmp_path / target_name
    write(forest.frame, source)
    options = BatchOptions(batch_rows=200, keep=("id",))
    predict_file(forest.ref, str(source), str(target), options, settings=batch_settings)
    out = read(target)
    assert out["id"].tolist() == forest.frame["id"].tolist()
    np.testing.assert_array_equal(out["predictions"].to_numpy(), forest.expected)


def test_folder_of_parts_in_and_out(
    forest: Forest, batch_settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for number, start in enumerate(range(0, len(forest.frame), 150)):
        write(forest.frame.iloc[start : start + 150], source / f"part-{number:03d}.parquet")
    (source / "_SUCCESS").write_text("")
    target = tmp_path / "out"
    options = BatchOptions(batch_rows=128, keep=("id",))
    result = predict_file(forest.ref, str(source), f"{target}/", options, settings=batch_settings)
    assert result.output_format == "parquet"
    parts = sorted(p.name for p in target.iterdir())
    assert parts == [f"part-{i:06d}.parquet" for i in range(5)]
    out = read(target)
    assert out["id"].tolist() == forest.frame["id"].tolist()
    np.testing.assert_array_equal(out["predictions"].to_numpy(), forest.expected)


def test_bad_row_with_skip_goes_to_rejects_with_its_row_number(
    forest: Forest, batch_settings: Settings, tmp_path: Path
) -> None:
    frame = forest.frame.astype({forest.features[3]: object})
    frame.iloc[123, 4] = "abc"  # column 4 is the fourth feature (after id)
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write(frame, source)
    options = BatchOptions(batch_rows=100, keep=("id",), on_error="skip")
    result = predict_file(forest.ref, str(source), str(target), options, settings=batch_settings)
    assert (result.rows_written, result.rows_rejected) == (568, 1)
    rejects = [
        json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()
    ]
    assert len(rejects) == 1
    assert rejects[0]["row"] == 123
    assert "abc" in rejects[0]["reason"] and forest.features[3] in rejects[0]["reason"]
    assert rejects[0]["values"]["id"] == 1123
    out = read(target)
    keep = np.arange(len(frame)) != 123
    assert out["id"].tolist() == forest.frame["id"][keep].tolist()
    np.testing.assert_array_equal(out["predictions"].to_numpy(), forest.expected[keep])


def test_bad_row_with_fail_names_the_row_and_leaves_no_output(
    forest: Forest, batch_settings: Settings, tmp_path: Path
) -> None:
    records = forest.frame.to_dict(orient="records")
    records[321][forest.features[0]] = "oops"
    source, target = tmp_path / "in.jsonl", tmp_path / "out.parquet"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(InvalidInputError, match=r"row 321 \(0-based\).*oops"):
        predict_file(
            forest.ref,
            str(source),
            str(target),
            BatchOptions(batch_rows=100),
            settings=batch_settings,
        )
    assert not target.exists()


def test_existing_output_is_not_replaced_without_overwrite(
    forest: Forest, batch_settings: Settings, tmp_path: Path
) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write(forest.frame, source)
    target.write_text("keep me")
    with pytest.raises(ConflictError, match="--overwrite"):
        predict_file(forest.ref, str(source), str(target), settings=batch_settings)
    assert target.read_text() == "keep me"
    predict_file(
        forest.ref, str(source), str(target), BatchOptions(overwrite=True), settings=batch_settings
    )
    assert pq.read_metadata(target).num_rows == len(forest.frame)


def test_prediction_log_holds_every_scored_row(
    forest: Forest, batch_settings: Settings, tmp_path: Path
) -> None:
    source, target, log = tmp_path / "in.parquet", tmp_path / "out.parquet", tmp_path / "p.jsonl"
    write(forest.frame, source)
    options = BatchOptions(batch_rows=250, prediction_log=str(log))
    predict_file(forest.ref, str(source), str(target), options, settings=batch_settings)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == 3
    assert records[0]["model_name"] == "cancer"
    scored = np.concatenate([r["outputs"]["predictions"] for r in records])
    np.testing.assert_array_equal(scored, forest.expected)
    assert len(records[0]["inputs"][forest.features[0]]) == 250
