"""S3 in and out (moto's S3 server on loopback, as the registry tests use) and the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shipyard.batch import BatchOptions, predict_file
from shipyard.cli.main import app
from shipyard.config import Settings
from tests.registry.conftest import s3_bucket, s3_client, s3_endpoint  # noqa: F401

from .conftest import Forest


def test_s3_folder_in_and_s3_file_out(
    forest: Forest,
    batch_env: dict[str, str],
    s3_endpoint: str,  # noqa: F811
    s3_client: Any,  # noqa: F811
    s3_bucket: str,  # noqa: F811
) -> None:
    for number, start in enumerate(range(0, len(forest.frame), 300)):
        buffer = io.BytesIO()
        forest.frame.iloc[start : start + 300].to_parquet(buffer, index=False)
        s3_client.put_object(
            Bucket=s3_bucket, Key=f"in/part-{number}.parquet", Body=buffer.getvalue()
        )
    settings = Settings.from_env({**batch_env, "SHIPYARD_S3_ENDPOINT_URL": s3_endpoint})
    result = predict_file(
        forest.ref,
        f"s3://{s3_bucket}/in/",
        f"s3://{s3_bucket}/out/scores.csv",
        BatchOptions(batch_rows=100, keep=("id",)),
        settings=settings,
    )
    assert result.rows_written == len(forest.frame)
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert sorted(k for k in keys if k.startswith("out/")) == ["out/scores.csv"]
    body = s3_client.get_object(Bucket=s3_bucket, Key="out/scores.csv")["Body"].read()
    out = pd.read_csv(io.BytesIO(body))
    assert out["id"].tolist() == forest.frame["id"].tolist()
    np.testing.assert_array_equal(out["predictions"].to_numpy(), forest.expected)


def test_cli_predict_json_reports_the_run(
    forest: Forest, batch_env: dict[str, str], tmp_path: Path
) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.jsonl"
    forest.frame.to_parquet(source, index=False)
    argv = ["predict", forest.ref, str(source), "-o", str(target), "--keep", "id", "--json"]
    result = CliRunner().invoke(app, [*argv, "--batch-rows", "256"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows_written"] == len(forest.frame) and report["chunks"] == 3
    assert report["columns"] == ["id", "predictions"]
    out = pd.read_json(target, lines=True)
    np.testing.assert_array_equal(out["predictions"].to_numpy(), forest.expected)


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--on-error", "fail"], 2, "row 7 (0-based)"),
        (["--keep", "nope"], 2, "no column(s) ['nope']"),
        (["--format", "xlsx"], 2, "unknown format"),
    ],
)
def test_cli_errors_exit_non_zero_with_the_reason(
    forest: Forest,
    batch_env: dict[str, str],
    tmp_path: Path,
    extra: list[str],
    code: int,
    message: str,
) -> None:
    frame = forest.frame.astype({forest.features[0]: object})
    frame.iloc[7, 1] = "bad"
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    argv = ["predict", forest.ref, str(source), "-o", str(tmp_path / "out.csv"), "--json"]
    result = CliRunner().invoke(app, [*argv, *extra])
    assert result.exit_code == code, result.output
    assert message in json.loads(result.stdout)["error"]["message"]
