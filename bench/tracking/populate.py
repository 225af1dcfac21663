"""Fill a tracking database with many finished runs by direct SQL inserts (both servers).

Creating 100k runs through either REST API would take most of the benchmark's time budget (and
MLflow's far longer), so the search benchmark writes the rows the servers themselves would write,
straight into each one's SQLite schema: one run row, params ``depth`` and ``lr``, tag ``team``,
and metric ``auc`` in the history and the latest-values table. Runs go into a fresh experiment
created through the API first.
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

CHUNK = 20_000


def _runs(count: int, seed: int = 7) -> Iterator[tuple[str, int, float, str]]:
    rng = random.Random(seed)
    start = 1_700_000_000_000
    for index in range(count):
        yield (
            uuid.UUID(int=rng.getrandbits(128)).hex,
            start + index * 1000,
            rng.random(),
            str(rng.randint(2, 9)),
        )


def populate_shipyard(db: Path, experiment_id: int, count: int) -> None:
    conn = sqlite3.connect(db)
    try:
        rows = list(_runs(count))
        for begin in range(0, count, CHUNK):
            chunk = rows[begin : begin + CHUNK]
            with conn:
                conn.executemany(
                    "INSERT INTO tracking_runs (run_id, experiment_id, name, user_id, status,"
                    " start_time, end_time, heartbeat_time, lifecycle_stage, artifact_uri)"
                    " VALUES (?, ?, ?, 'bench', 'FINISHED', ?, ?, NULL, 'active', ?)",
                    [
                        (r, experiment_id, f"run-{r[:6]}", t, t + 500,
                         f"mlflow-artifacts:/{experiment_id}/{r}/artifacts")
                        for r, t, _, _ in chunk
                    ],
                )  # fmt: skip
                conn.executemany(
                    "INSERT INTO tracking_run_params (run_id, key, value) VALUES (?, ?, ?)",
                    [(r, k, v) for r, _, _, d in chunk for k, v in (("depth", d), ("lr", "0.1"))],
                )
                conn.executemany(
                    "INSERT INTO tracking_run_tags (run_id, key, value) VALUES (?, 'team', 'ml')",
                    [(r,) for r, _, _, _ in chunk],
                )
                conn.executemany(
                    "INSERT INTO tracking_metric_history (run_id, key, value, is_nan, timestamp,"
                    " step) VALUES (?, 'auc', ?, 0, ?, 0)",
                    [(r, a, t) for r, t, a, _ in chunk],
                )
                conn.executemany(
                    "INSERT INTO tracking_latest_metrics (run_id, key, value, is_nan, timestamp,"
                    " step) VALUES (?, 'auc', ?, 0, ?, 0)",
                    [(r, a, t) for r, t, a, _ in chunk],
                )
        conn.execute("ANALYZE")
    finally:
        conn.close()


def populate_mlflow(db: Path, experiment_id: int, count: int) -> None:
    conn = sqlite3.connect(db)
    try:
        rows = list(_runs(count))
        for begin in range(0, count, CHUNK):
            chunk = rows[begin : begin + CHUNK]
            with conn:
                conn.executemany(
                    "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                    " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                    " artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'bench',"
                    " 'FINISHED', ?, ?, '', 'active', ?, ?)",
                    [
                        (r, f"run-{r[:6]}", t, t + 500,
                         f"mlflow-artifacts:/{experiment_id}/{r}/artifacts", experiment_id)
                        for r, t, _, _ in chunk
                    ],
                )  # fmt: skip
                conn.executemany(
                    "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                    [(k, v, r) for r, _, _, d in chunk for k, v in (("depth", d), ("lr", "0.1"))],
                )
                conn.executemany(
                    "INSERT INTO tags (key, value, run_uuid) VALUES ('team', 'ml', ?)",
                    [(r,) for r, _, _, _ in chunk],
                )
                conn.executemany(
                    "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                    " VALUES ('auc', ?, ?, ?, 0, 0)",
                    [(a, t, r) for r, t, a, _ in chunk],
                )
                conn.executemany(
                    "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                    " VALUES ('auc', ?, ?, 0, 0, ?)",
                    [(a, t, r) for r, t, a, _ in chunk],
                )
        conn.execute("ANALYZE")
    finally:
        conn.close()
