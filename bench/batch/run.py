"""Batch benchmark: ``shipyard predict`` against the model called in-process, and against
``mlflow models predict``.

Models: the 1M-row CSV comparison uses the benchmark forest (RandomForestClassifier(n_estimators=50)
on breast_cancer's 30 features, as bench/serve uses). Ten million rows of that forest take about
ten minutes a run on a 2-core VM, so the 10M-row Parquet run uses a cheaper forest
(n_estimators=10, max_depth=8): a cheaper model makes Shipyard's own overhead a larger share, so
the 90% goal is harder to meet with it, not easier.

    python bench/batch/run.py                      # 10M-row Parquet + 1M-row CSV (minutes)
    python bench/batch/run.py --rows 1000000 --csv-rows 200000 --skip-mlflow   # a quick look

Each measurement is a fresh process; peak RSS is its ``ru_maxrss``. The in-process baseline reads
the same file in the same chunks with pyarrow and calls ``model.predict`` on each (no
validation, no output written): the ceiling for anything built on top. MLflow runs in a throwaway
virtualenv (``--mlflow-venv``, mlflow 3.17.2 with the same scikit-learn) on the same model, saved
there with ``mlflow.sklearn.save_model``, with ``--env-manager local``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 65_536

BASELINE = """
import pickle, sys, time
import pyarrow.csv as pacsv, pyarrow.parquet as pq
model = pickle.load(open(sys.argv[1], "rb"))
path, chunk = sys.argv[2], int(sys.argv[3])
started, rows = time.perf_counter(), 0
if path.endswith(".parquet"):
    batches = pq.ParquetFile(path).iter_batches(batch_size=chunk)
else:
    batches = pacsv.open_csv(path)
for batch in batches:
    frame = batch.to_pandas()
    model.predict(frame)
    rows += len(frame)
print(rows, time.perf_counter() - started)
"""

MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - started
print(code, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""

SAVE_MLFLOW = """
import pickle, sys
import mlflow.sklearn
model = pickle.load(open(sys.argv[1], "rb"))
# mlflow 3 saves sklearn models with skops, which asks to trust the tree type explicitly.
mlflow.sklearn.save_model(model, sys.argv[2], skops_trusted_types=["sklearn.tree._tree.Tree"])
"""


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of ``argv`` run as a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    if out[0] != "0":
        raise SystemExit(f"{argv[:4]} failed with exit code {out[0]}")
    return float(out[1]), int(out[2])


def make_data(
    folder: Path, rows: int, csv_rows: int
) -> tuple[dict[str, tuple[Path, Path]], Path, Path]:
    """The forest (pickled and as a Shipyard model folder) and the inputs, made once."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    import shipyard
    from shipyard.config import Settings
    from shipyard.registry import Registry

    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    settings = Settings.from_env({"SHIPYARD_HOME": str(folder / "home"), "SHIPYARD_USER": "bench"})
    models: dict[str, tuple[Path, Path]] = {}
    for name, params in (("forest", {}), ("small", {"n_estimators": 10, "max_depth": 8})):
        model = RandomForestClassifier(n_estimators=50, random_state=0)
        model.set_params(**params).fit(features, target)
        pickled = folder / f"{name}.pkl"
        pickled.write_bytes(pickle.dumps(model))
        version = shipyard.save_model(model, name, sample_input=features[:5], settings=settings)
        with Registry.from_settings(settings) as registry:
            models[name] = (pickled, registry.fetch(version.ref))
    parquet, csv = folder / f"in-{rows}.parquet", folder / f"in-{csv_rows}.csv"
    rng = np.random.default_rng(0)
    base = features.to_numpy()
    schema = pa.schema([(c, pa.float64()) for c in features.columns])
    if not parquet.exists():
        with pq.ParquetWriter(parquet, schema) as writer:
            for start in range(0, rows, 1_000_000):
                n = min(1_000_000, rows - start)
                picked = base[rng.integers(0, len(base), n)] * rng.normal(1, 0.05, (n, 30))
                writer.write_table(pa.Table.from_arrays(list(picked.T), schema=schema))
    if not csv.exists():
        table = pq.ParquetFile(parquet).read_row_group(0).slice(0, csv_rows)
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, csv)
    return models, parquet, csv


def shipyard_run(model_dir: Path, source: Path, target: Path) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-m", "shipyard", "predict", str(model_dir), str(source)]
    argv += ["-o", str(target), "--batch-rows", str(CHUNK), "--overwrite", "--json"]
    return measure(argv, env)


def baseline_run(pickled: Path, source: Path) -> tuple[float, int]:
    return measure([sys.executable, "-c", BASELINE, str(pickled), str(source), str(CHUNK)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-batch")
    parser.add_argument("--mlflow-venv", type=Path, default=Path("/work/peers/mlflow-batch"))
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    models, parquet, csv = make_data(args.work, args.rows, args.csv_rows)
    (small, small_dir), (pickled, model_dir) = models["small"], models["forest"]
    results: dict[str, dict[str, float]] = {}

    def record(name: str, rows: int, run: tuple[float, int]) -> None:
        seconds, rss = run
        results[name] = {
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
            "peak_rss_mb": round(rss / 2**20),
        }
        print(name, results[name], flush=True)

    record("parquet: in-process model.predict", args.rows, baseline_run(small, parquet))
    record(
        "parquet: shipyard predict",
        args.rows,
        shipyard_run(small_dir, parquet, args.work / "out.parquet"),
    )
    record("csv: in-process model.predict", args.csv_rows, baseline_run(pickled, csv))
    record(
        "csv: shipyard predict", args.csv_rows, shipyard_run(model_dir, csv, args.work / "out.csv")
    )
    if not args.skip_mlflow:
        python = args.mlflow_venv / "bin" / "python"
        mlflow_model = args.work / "mlflow-forest"
        if not mlflow_model.exists():
            subprocess.run(
                [str(python), "-c", SAVE_MLFLOW, str(pickled), str(mlflow_model)], check=True
            )
        argv = [
            str(args.mlflow_venv / "bin" / "mlflow"),
            "models",
            "predict",
            "-m",
            str(mlflow_model),
            "-i",
            str(csv),
            "-t",
            "csv",
            "-o",
            str(args.work / "mlflow-out.json"),
            "--env-manager",
            "local",
        ]
        record("csv: mlflow models predict", args.csv_rows, measure(argv))
    (Path(__file__).parent / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
