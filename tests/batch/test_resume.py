"""Interrupted runs: no output under the final name, and --resume scores only what is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.batch import BatchOptions, predict_file
from shipyard.config import Settings
from shipyard.errors import ConflictError, PredictionError


def _frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(rows), "x": np.arange(rows, dtype=float)})


def _calls(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()]


def test_model_failing_at_a_chunk_then_resume_scores_only_the_rest(
    stepper: str, batch_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target, log = tmp_path / "in.parquet", tmp_path / "out.parquet", tmp_path / "calls"
    _frame(1000).to_parquet(source, index=False)
    flag = tmp_path / "fail"
    (tmp_path / "fail.armed").write_text("650")  # chunk 6 of 100-row chunks
    monkeypatch.setenv("STEPPER_LOG", str(log))
    monkeypatch.setenv("STEPPER_FAIL_ONCE_AT", str(flag))
    options = BatchOptions(batch_rows=100, keep=("id",))
    with pytest.raises(PredictionError, match=r"rows 600-699.*injected failure"):
        predict_file(stepper, str(source), str(target), options, settings=batch_settings)
    assert not target.exists()
    assert _calls(log) == [0, 100, 200, 300, 400, 500, 600]
    log.unlink()
    with pytest.raises(ConflictError, match="batch_rows"):
        predict_file(
            stepper,
            str(source),
            str(target),
            BatchOptions(batch_rows=50, resume=True),
            settings=batch_settings,
        )
    options = BatchOptions(batch_rows=100, keep=("id",), resume=True)
    result = predict_file(stepper, str(source), str(target), options, settings=batch_settings)
    assert _calls(log) == [600, 700, 800, 900]
    assert (result.chunks, result.resumed_chunks, result.rows_written) == (10, 6, 1000)
    out = pd.read_parquet(target)
    assert out["id"].tolist() == list(range(1000))
    np.testing.assert_array_equal(out["predictions"].to_numpy(), 10 * np.arange(1000) + 1)


@pytest.mark.slow
def test_killed_process_leaves_no_output_and_resumes(
    stepper: str, batch_env: dict[str, str], tmp_path: Path
) -> None:
    source, target, log = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "calls"
    _frame(2000).to_csv(source, index=False)
    env = {**os.environ, **batch_env, "STEPPER_LOG": str(log), "STEPPER_SLEEP": "0.15"}
    env["PYTHONPATH"] = str(Path(__file__).parents[2] / "src")
    argv = [sys.executable, "-m", "shipyard", "predict", stepper, str(source), "-o", str(target)]
    argv += ["--batch-rows", "100", "--keep", "id", "--json"]
    manifest = tmp_path / ".out.csv.partial" / "_progress.json"
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(argv, env=env, stdout=quiet, stderr=quiet)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if manifest.exists() and len(json.loads(manifest.read_text())["chunks"]) >= 3:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not target.exists()
    done = len(json.loads(manifest.read_text())["chunks"])
    assert 3 <= done < 20
    log.unlink()
    env["STEPPER_SLEEP"] = "0"
    finished = subprocess.run([*argv, "--resume"], env=env, capture_output=True, check=False)
    assert finished.returncode == 0, finished.stderr.decode()
    result = json.loads(finished.stdout)
    assert result["resumed_chunks"] == done and result["rows_written"] == 2000
    assert _calls(log)[0] == done * 100
    out = pd.read_csv(target)
    assert out["id"].tolist() == list(range(2000))
    np.testing.assert_array_equal(out["predictions"].to_numpy(), 10 * np.arange(2000) + 1)
    assert not manifest.parent.exists()


def test_rows_the_model_raises_on_are_rejected_with_skip(
    stepper: str, batch_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _frame(300).to_json(source, orient="records", lines=True)
    flag = tmp_path / "fail"
    (tmp_path / "fail.armed").write_text("123")
    monkeypatch.setenv("STEPPER_FAIL_ONCE_AT", str(flag))
    monkeypatch.setenv("STEPPER_FAIL_ALWAYS", "1")
    options = BatchOptions(batch_rows=100, keep=("id",), on_error="skip")
    result = predict_file(stepper, str(source), str(target), options, settings=batch_settings)
    assert (result.rows_written, result.rows_rejected) == (299, 1)
    reject = json.loads((tmp_path / "out.rejects.jsonl").read_text())
    assert reject["row"] == 123 and "injected failure" in reject["reason"]
    out = pd.read_json(target, lines=True)
    assert 123 not in out["id"].tolist() and len(out) == 299
    np.testing.assert_array_equal(out["predictions"], 10 * out["id"] + 1)
