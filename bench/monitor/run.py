"""Monitoring benchmark: 10M logged predictions x 30 features, then Shipyard vs Evidently 0.7.

    python bench/monitor/run.py all --rows 10000000 --peer-rows 100000

Phases run as separate processes so each one's time and peak RSS are its own:

    generate   a prediction log (schema v1, 10 rows a request, over 10 hours) and a reference
    ingest     LogStore.compact: JSON lines -> Parquet segments
    analyze    drift, prediction drift and quality for every 1h window (Evidently's defaults)
    compare    the first --peer-rows rows of the log: Shipyard and Evidently (0.7.23 with
               pandas<3 in a throwaway venv under --venvs, made on first use) on the same
               reference and rows; per-column decisions

Results go to bench/monitor/results.json; docs/benchmarks/monitor.md shows them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from peers import EVIDENTLY_PINS, add_venvs_option, peer_python  # noqa: E402

FEATURES = 30
REFERENCE_ROWS = 100_000
ROWS_PER_REQUEST = 10
HOURS = 10
START = 1_764_547_200.0  # 2025-12-01T00:00Z
# Mean shifts in reference standard deviations: half the columns stay, the others move by
# amounts on both sides of Evidently's 0.1 Wasserstein threshold.
SHIFTS = np.array([0.0] * 15 + [0.02, 0.04, 0.06, 0.07, 0.08, 0.09, 0.12, 0.13, 0.15, 0.2,
                                0.25, 0.3, 0.4, 0.5, 1.0])  # fmt: skip


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """CPU time of this process (user + system): less sensitive to a busy machine than wall."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _names() -> list[str]:
    return [f"f{i}" for i in range(FEATURES)]


def generate(work: Path, rows: int) -> dict[str, float]:
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("store*"):  # a new log: compaction (incremental) starts from scratch
        shutil.rmtree(old)
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(REFERENCE_ROWS, FEATURES))
    np.save(work / "reference.npy", reference)
    requests = rows // ROWS_PER_REQUEST
    step = HOURS * 3600 / requests
    weights = rng.normal(size=FEATURES) / np.sqrt(FEATURES)
    with (work / "predictions.jsonl").open("wb") as out:
        for first in range(0, requests, 20_000):
            count = min(20_000, requests - first)
            block = rng.normal(size=(count * ROWS_PER_REQUEST, FEATURES)) + SHIFTS
            block = block.astype(np.float32)
            predictions = (block @ weights > 0).astype(np.int64)
            lines = []
            for i in range(count):
                rows_i = slice(i * ROWS_PER_REQUEST, (i + 1) * ROWS_PER_REQUEST)
                lines.append(orjson.dumps({
                    "v": 1, "request_id": f"r{first + i}", "ts": START + (first + i) * step,
                    "model_name": "bench", "model_version": 1, "status": "ok", "latency_ms": 0.4,
                    "inputs": {"input": block[rows_i]},
                    "outputs": {"predictions": predictions[rows_i]},
                }, option=orjson.OPT_SERIALIZE_NUMPY))  # fmt: skip
            if first == 0:
                lines.insert(5, b'{"v":1,"request_id":"torn","ts":17')  # a torn line: counted
            out.write(b"\n".join(lines) + b"\n")
    np.save(work / "weights.npy", weights)
    size = (work / "predictions.jsonl").stat().st_size
    return {"seconds": time.perf_counter() - started, "log_bytes": size}


def _reference(work: Path):  # type: ignore[no-untyped-def]
    from shipyard.models.profile import profile_reference_data, sample_rows

    reference = pd.DataFrame(
        np.load(work / "reference.npy"), columns=[str(i) for i in range(FEATURES)]
    )
    weights = np.load(work / "weights.npy")
    profile = profile_reference_data(reference)
    sampled = reference.to_numpy(dtype=np.float32)[sample_rows(REFERENCE_ROWS)]
    return profile.with_predictions({"predictions": (sampled @ weights > 0).astype(np.int64)})


def ingest(work: Path, store: str) -> dict[str, float]:
    from shipyard.monitor.compact import LogStore

    started, cpu = time.perf_counter(), _cpu_seconds()
    stats = LogStore(work / store).compact(str(work / "predictions.jsonl"))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": _cpu_seconds() - cpu, "rss_mib": _rss_mib(),
            **stats.to_dict()}  # fmt: skip


def analyze(work: Path, store: str, window: str, method: str) -> dict[str, object]:
    from shipyard.monitor.analyze import AnalysisOptions, Analyzer
    from shipyard.monitor.compact import LogStore
    from shipyard.monitor.reference import build_reference
    from shipyard.monitor.windows import WindowSpec

    profile = _reference(work)
    started, cpu = time.perf_counter(), _cpu_seconds()
    dataset = LogStore(work / store).dataset()
    reference = build_reference(profile, dataset.schema.names)
    analyzer = Analyzer(reference, AnalysisOptions(WindowSpec.parse(window), method))  # type: ignore[arg-type]
    windows = analyzer.run(dataset)
    seconds = time.perf_counter() - started
    first = windows[0]
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu,
        "rss_mib": _rss_mib(),
        "windows": len(windows),
        "rows": sum(w.rows for w in windows),
        "decisions": {d.column: d.drifted for d in first.features},
        "scores": {d.column: d.score for d in first.features},
        "drifting_per_window": [len(w.drifting) for w in windows],
    }


def write_peer_rows(work: Path, rows: int) -> Path:
    """The first ``rows`` logged rows as .npy for the peer (same rows Shipyard analyses)."""
    import pyarrow.dataset as ds

    from shipyard.monitor.compact import LogStore

    dataset = LogStore(work / "store").dataset()
    assert dataset is not None
    columns = [f"in.{i}" for i in range(FEATURES)]
    table = dataset.head(rows, columns=columns, filter=ds.field("status") == "ok")
    path = work / f"current_{rows}.npy"
    np.save(path, np.column_stack([table[c].to_numpy() for c in columns]))
    return path


def shipyard_on(work: Path, rows: int) -> dict[str, object]:
    """Shipyard on exactly the peer's rows: a store holding only them, one window."""
    from shipyard.monitor.compact import LogStore

    part = work / f"predictions_{rows}.jsonl"
    with (work / "predictions.jsonl").open("rb") as src, part.open("wb") as dst:
        for i, line in enumerate(src):
            if i >= rows // ROWS_PER_REQUEST + 1:
                break
            dst.write(line)
    store = f"store_{rows}"
    LogStore(work / store).compact(str(part))
    return analyze(work, store, f"{rows}rows", "auto")


def _child(*args: str, python: str = sys.executable) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [python, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "phase", choices=["all", "generate", "ingest", "analyze", "peer-rows", "shipyard-peer"]
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/shipyard-bench-monitor"))
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--peer-rows", type=int, default=100_000)
    add_venvs_option(parser)
    args = parser.parse_args()
    work: Path = args.work
    if args.phase == "generate":
        print(json.dumps(generate(work, args.rows)))
    elif args.phase == "ingest":
        print(json.dumps(ingest(work, "store")))
    elif args.phase == "analyze":
        print(json.dumps(analyze(work, "store", "1h", "auto")))
    elif args.phase == "peer-rows":
        print(json.dumps({"path": str(write_peer_rows(work, args.peer_rows))}))
    elif args.phase == "shipyard-peer":
        print(json.dumps(shipyard_on(work, args.peer_rows)))
    else:
        python = peer_python("evidently", EVIDENTLY_PINS, args.venvs)  # first: fail early
        results: dict[str, object] = {"rows": args.rows, "features": FEATURES}
        for phase in ("generate", "ingest", "analyze", "peer-rows", "shipyard-peer"):
            extra = [
                "--rows",
                str(args.rows),
                "--peer-rows",
                str(args.peer_rows),
                "--work",
                str(work),
            ]
            results[phase] = _child(phase, *extra)
            print(phase, json.dumps(results[phase])[:300], file=sys.stderr)
        peer_rows = results["peer-rows"]["path"]  # type: ignore[index]
        results["evidently"] = _child_peer(python, work, str(peer_rows))
        (Path(__file__).with_name("results.json")).write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results, indent=2))


def _child_peer(python: Path, work: Path, current: str) -> dict[str, object]:
    script = Path(__file__).with_name("evidently_run.py")
    done = subprocess.run(
        [str(python), str(script), str(work / "reference.npy"), current],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"evidently failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
