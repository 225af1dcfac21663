"""Shipyard's tracking server against ``mlflow server`` 3.17.2, side by side in one run.

    python bench/tracking/run.py                      # the published figures (~10 min)
    python bench/tracking/run.py --runs 10000 --values 20000     # a quick look

Both servers run at once on the same machine, use SQLite and are driven by the same ``mlflow``
client; each phase runs for one server, then the other:

1. log-batch: ``--values`` metric values in batches of 1000 through ``MlflowClient.log_batch``
   (client-side throughput), taking turns every 10 batches with the same calls against
   ``nullserver.py`` (the client's floor); then the server's own time per 1000-value batch: the
   same JSON body, serialised once, posted with a plain HTTP client (round trip on loopback), plus
   Shipyard's ``Server-Timing`` header (time inside the app).
2. ``--writers`` processes logging at once into one run: values lost (expected - stored).
3. ``search_runs`` over ``--runs`` runs (inserted straight into each database, see populate.py)
   ordered by ``metrics.auc DESC``: first page of 100 and of 1000 runs, p50 of ``--repeat``
   calls; both servers must return the same run ids.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from mlflow import MlflowClient
from mlflow.entities import Metric
from populate import populate_mlflow, populate_shipyard
from servers import Server, free_port, start_mlflow, start_shipyard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from peers import add_venvs_option, mlflow_pins, peer_python

HERE = Path(__file__).parent
WARMUP_BATCHES = 10  # per server, untimed, into a run of its own
FLOOR = "floor"  # the client against nullserver.py, in the same turns as the servers


def _new_run(server: Server, label: str) -> tuple[MlflowClient, str]:
    client = MlflowClient(server.url)
    experiment = client.create_experiment(f"{label}-{uuid.uuid4().hex[:8]}")
    return client, client.create_run(experiment).info.run_id


def bench_log_batch(servers: list[Server], values: int, raw_batches: int) -> dict[str, Any]:
    """Client throughput after a warm-up, the servers and the client's floor taking turns every
    10 batches (load drifts alike for all three)."""
    runs = {server.name: _new_run(server, "batch") for server in servers}
    now = int(time.time() * 1000)
    for server in servers:  # warm-up, untimed: first-call imports, caches, database growth
        client, warm_run = _new_run(server, "warmup")
        for batch in range(WARMUP_BATCHES):
            start = batch * 1000
            metrics = [Metric("warm", s, now, s) for s in range(start, start + 1000)]
            client.log_batch(warm_run, metrics=metrics)
    with _null_server() as null_url:
        runs[FLOOR] = (MlflowClient(null_url), "0" * 32)
        elapsed = dict.fromkeys(runs, 0.0)
        for first in range(0, values, 10_000):
            for name, (client, run_id) in runs.items():
                began = time.perf_counter()
                for start in range(first, min(first + 10_000, values), 1000):
                    metrics = [
                        Metric("loss", s / values, now, s) for s in range(start, start + 1000)
                    ]
                    client.log_batch(run_id, metrics=metrics)
                elapsed[name] += time.perf_counter() - began
    floor = elapsed.pop(FLOOR) * 1000 / (values / 1000)
    results = {}
    for server in servers:
        client, run_id = runs[server.name]
        stored = len(client.get_metric_history(run_id, "loss"))
        assert stored == values, f"{server.name} stored {stored} of {values} values"
        results[server.name] = {
            "values": values,
            "seconds": elapsed[server.name],
            "values_per_s": values / elapsed[server.name],
            "client_ms_per_batch": elapsed[server.name] * 1000 / (values / 1000),
            "client_floor_ms_per_batch": floor,
            **_server_time(server, run_id, values, raw_batches, now),
        }
    return results


@contextlib.contextmanager
def _null_server() -> Iterator[str]:
    """``nullserver.py``, which answers ``{}`` at once: what the ``mlflow`` client needs per
    batch when the server costs nothing, through the very same ``MlflowClient.log_batch`` call
    (it rebuilds every metric before the REST store builds protos, serialises them to JSON,
    parses that back and serialises it again). No tracking server can take that away, so
    ``mlflow``'s time divided by this bounds the ratio."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(HERE / "nullserver.py"), str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _server_time(
    server: Server, run_id: str, values: int, raw_batches: int, now: int
) -> dict[str, Any]:
    """The same 1000-value body, serialised once, posted with a plain HTTP client."""
    round_trips, app_times, cpu_times = [], [], []
    with httpx.Client(base_url=server.url, timeout=120) as http:
        for batch in range(raw_batches):
            first = values + batch * 1000
            body = json.dumps(
                {
                    "run_id": run_id,
                    "metrics": [
                        {"key": "raw", "value": s / 7, "timestamp": now, "step": s}
                        for s in range(first, first + 1000)
                    ],
                }
            ).encode()
            began = time.perf_counter()
            response = http.post(
                "/api/2.0/mlflow/runs/log-batch",
                content=body,
                headers={"content-type": "application/json"},
            )
            round_trips.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
            timing = response.headers.get("server-timing", "")
            if "dur=" in timing:
                app_times.append(float(timing.split("dur=")[1]))
            if "x-shipyard-handler-cpu-ms" in response.headers:
                cpu_times.append(float(response.headers["x-shipyard-handler-cpu-ms"]))
    return {
        "server_round_trip_ms_p50": statistics.median(round_trips),
        "server_app_ms_p50": statistics.median(app_times) if app_times else None,
        "server_cpu_ms_p50": statistics.median(cpu_times) if cpu_times else None,
    }


def bench_writers(server: Server, writers: int, batches: int, size: int) -> dict[str, Any]:
    client = MlflowClient(server.url)
    experiment = client.create_experiment(f"writers-{uuid.uuid4().hex[:8]}")
    run_id = client.create_run(experiment).info.run_id
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "writer.py"),
                server.url,
                run_id,
                f"w{n}",
                str(batches),
                str(size),
            ]
        )
        for n in range(writers)
    ]
    codes = [p.wait(timeout=900) for p in processes]
    elapsed = time.perf_counter() - started
    stored = sum(len(client.get_metric_history(run_id, f"w{n}")) for n in range(writers))
    expected = writers * batches * size
    return {
        "writers": writers,
        "expected": expected,
        "stored": stored,
        "lost": expected - stored,
        "failed_writers": sum(code != 0 for code in codes),
        "seconds": elapsed,
    }


def bench_search(server: Server, runs: int, repeat: int) -> tuple[dict[str, Any], list[str]]:
    client = MlflowClient(server.url)
    experiment = client.create_experiment(f"search-{uuid.uuid4().hex[:8]}")
    began = time.perf_counter()
    (populate_shipyard if server.name == "shipyard" else populate_mlflow)(
        server.db_path, int(experiment), runs
    )
    populated = time.perf_counter() - began
    result: dict[str, Any] = {"runs": runs, "populate_s": populated}
    first_ids: list[str] = []
    for page in (100, 1000):
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            found = client.search_runs(
                [experiment], order_by=["metrics.auc DESC"], max_results=page
            )
            times.append(time.perf_counter() - began)
        assert len(found) == page
        if page == 100:
            first_ids = [r.info.run_id for r in found]
        result[f"page{page}_p50_s"] = statistics.median(times)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        client.search_runs(
            [experiment],
            filter_string="metrics.auc > 0.5 and params.depth = '5'",
            order_by=["metrics.auc DESC"],
            max_results=100,
        )
        times.append(time.perf_counter() - began)
    result["filtered_page100_p50_s"] = statistics.median(times)
    return result, first_ids


def main() -> None:
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"  # the client's telemetry thread, off for both
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--raw-batches", type=int, default=30)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writer-batches", type=int, default=5)
    parser.add_argument("--writer-size", type=int, default=500)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    add_venvs_option(parser)
    args = parser.parse_args()
    mlflow = peer_python("mlflow", mlflow_pins(), args.venvs).parent / "mlflow"
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    results["load_average_at_start"] = os.getloadavg()
    first_ids: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        servers: list[Server] = []
        try:
            for name in ("shipyard", "mlflow"):
                workdir = Path(tmp) / f"start_{name}"
                workdir.mkdir()
                if name == "shipyard":
                    servers.append(start_shipyard(workdir))
                else:
                    servers.append(start_mlflow(workdir, mlflow))
                results[servers[-1].name] = {}
            # Phase by phase, the two servers back to back: on a shared machine a noisy
            # neighbour then hits both alike.
            print("== log-batch", flush=True)
            for name, batch in bench_log_batch(servers, args.values, args.raw_batches).items():
                results[name]["log_batch"] = batch
                print(name, batch, flush=True)
            for server in servers:
                print(f"== {server.name} writers", flush=True)
                results[server.name]["writers"] = bench_writers(
                    server, args.writers, args.writer_batches, args.writer_size
                )
                print(results[server.name]["writers"], flush=True)
            for server in servers:
                print(f"== {server.name} search", flush=True)
                search, first_ids[server.name] = bench_search(server, args.runs, args.repeat)
                results[server.name]["search"] = search
                print(search, flush=True)
        finally:
            for server in servers:
                server.stop()
    same = first_ids["shipyard"] == first_ids["mlflow"]
    results["load_average_at_end"] = os.getloadavg()
    results["same_first_page"] = same
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    s, m = results["shipyard"], results["mlflow"]
    print(f"\nsame first page of search results: {same}")
    print(
        f"log-batch values/s: shipyard {s['log_batch']['values_per_s']:.0f}, "
        f"mlflow {m['log_batch']['values_per_s']:.0f}, "
        f"ratio {s['log_batch']['values_per_s'] / m['log_batch']['values_per_s']:.1f}x"
    )
    sb, mb = s["log_batch"], m["log_batch"]
    print(
        f"server ms per batch (round trip p50): shipyard {sb['server_round_trip_ms_p50']:.1f}"
        f" (in app {sb['server_app_ms_p50']:.1f}), mlflow {mb['server_round_trip_ms_p50']:.1f}"
    )
    print(f"shipyard store CPU ms per batch p50: {sb['server_cpu_ms_p50']:.1f}")
    floor = sb["client_floor_ms_per_batch"]
    print(
        f"client floor (an instant server) ms per batch: {floor:.1f}; "
        f"best possible end-to-end ratio: {mb['client_ms_per_batch'] / floor:.1f}x"
    )
    print(f"writers lost: shipyard {s['writers']['lost']}, mlflow {m['writers']['lost']}")
    print(
        f"search page 100 p50 s: shipyard {s['search']['page100_p50_s']:.3f}, "
        f"mlflow {m['search']['page100_p50_s']:.3f}"
    )


if __name__ == "__main__":
    main()
