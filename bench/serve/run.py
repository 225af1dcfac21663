"""Benchmark ``shipyard serve`` against BentoML, MLflow and MLServer on the same model.

    python bench/serve/run.py                      # the full run (about 15 minutes)
    python bench/serve/run.py --peers none --seconds 5 --warmup 1   # Shipyard only, quick
    python bench/serve/run.py --peers none --cells 1x1 --pss --lone-rounds 10 --startup-rounds 5

Model: RandomForestClassifier(n_estimators=50, random_state=0) on breast_cancer. Load: wrk with a
Lua POST script on 127.0.0.1, one request body of 1 row or 64 rows, 1/16/64 connections, a
warm-up then the measured run. Also measures the in-process ``predict`` limit. Prints one table
and writes it to docs/benchmarks/serve.md. Every process it starts is stopped by its id.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
import figures
from peers import add_venvs_option, peer_python
from servers import PEERS, TRAIN, Server, shipyard_server, this_python

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CELLS = ((1, 1), (1, 16), (1, 64), (64, 1), (64, 16), (64, 64))  # (rows, connections)
RESULT = re.compile(r"RESULT (.*)")


@dataclass(frozen=True)
class Cell:
    server: str
    rows: int
    connections: int
    req_s: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int

    @property
    def rows_s(self) -> float:
        return self.req_s * self.rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_python(server: Server, venvs: Path) -> Path:
    """The server's interpreter: this one, or a throwaway virtualenv with its pins."""
    return peer_python(server.name, server.packages, venvs) if server.packages else this_python()


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 240.0) -> None:
    """Ready when 12 fresh connections in a row say so: with --workers N each may reach any."""
    deadline = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                streak = streak + 1 if response.status == 200 else 0
        except OSError:
            streak = 0
        if streak >= 12:
            return
        if streak == 0:
            time.sleep(0.25)
    raise TimeoutError(f"{url} not ready after {timeout} s")


def post_once(url: str, body: bytes) -> int:
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return int(response.status)


def run_wrk(url: str, body_file: Path, connections: int, seconds: float) -> dict[str, int]:
    env = {**os.environ, "BODY_FILE": str(body_file)}
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
            "-s", str(HERE / "post.lua"), url]  # fmt: skip
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    found = RESULT.search(out)
    if found is None:
        raise RuntimeError(f"wrk printed no RESULT line:\n{out}")
    return {k: int(v) for k, v in (kv.split("=") for kv in found.group(1).split())}


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (it was started in its own session), then wait."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def bench_server(
    server: Server,
    venvs: Path,
    work: Path,
    rows: dict[int, np.ndarray],
    args: argparse.Namespace,
    lone: list[float] | None = None,
) -> list[Cell]:
    python = venv_python(server, venvs)
    folder = work / server.name
    folder.mkdir()
    # No PYTHONWARNINGS: an extra filter slows every forest call (sklearn re-applies them per tree),
    # and the in-process limit is measured without one.
    env = {**os.environ, "SHIPYARD_HOME": str(folder / "home")}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"  # peers exec their tools
    os.environ["SHIPYARD_HOME"] = env["SHIPYARD_HOME"]
    server.prepare(python, folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        server.command(python, folder, port), cwd=folder, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    cells: list[Cell] = []
    try:
        wait_ready(base + server.ready_path, process)
        for n in sorted(rows):
            body_file = folder / f"rows{n}.json"
            body_file.write_bytes(server.payload(rows[n]))
            assert post_once(base + server.path, body_file.read_bytes()) == 200
        for n, connections in args.cells:
            body_file = folder / f"rows{n}.json"
            run_wrk(base + server.path, body_file, connections, args.warmup)
            r = run_wrk(base + server.path, body_file, connections, args.seconds)
            cell = Cell(
                server.name, n, connections,
                (r["requests"] - r["non2xx"]) / (r["duration_us"] / 1e6),  # successes only
                r["p50_us"] / 1000, r["p99_us"] / 1000, r["non2xx"], r["socket_errors"],
            )  # fmt: skip
            print(f"[bench] {_row(cell)}", flush=True)
            cells.append(cell)
        if lone is not None and args.lone_rounds:
            forest, row = bench_forest(), rows[1]
            url, body_file = base + server.path, folder / "rows1.json"

            def serve_for(seconds: float) -> float:
                r = run_wrk(url, body_file, 1, seconds)
                return (r["requests"] - r["non2xx"]) / (r["duration_us"] / 1e6)

            lone += figures.lone_ratio(lambda: forest.predict(row), serve_for, args.lone_rounds)
            print(f"[bench] lone-caller ratios {[f'{r:.0%}' for r in lone]}", flush=True)
    finally:
        stop(process)
        log.close()
    return cells


def bench_forest() -> RandomForestClassifier:
    """The benchmark's model, trained as ``servers.TRAIN`` trains it."""
    x, y = load_breast_cancer(return_X_y=True)
    return RandomForestClassifier(n_estimators=50, random_state=0).fit(x, y)


def start_shipyard(
    args: list[str], env: dict[str, str], tmp: str
) -> tuple[subprocess.Popen[bytes], str]:
    """``shipyard serve ARGS`` on a free port, ready on every worker."""
    port = free_port()
    log = Path(tmp) / f"figures-{port}.jsonl"
    argv = [sys.executable, "-m", "shipyard", "serve", *args, "--port", str(port),
            "--prediction-log", str(log)]  # fmt: skip
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    wait_ready(f"http://127.0.0.1:{port}/readyz", process)
    return process, f"http://127.0.0.1:{port}"


def body_for(tmp: str, rows: np.ndarray) -> Path:
    path = Path(tmp) / "figures-rows.json"
    path.write_bytes(json.dumps(rows.tolist()).encode())
    return path


def in_process_limit(x: np.ndarray, seconds: float) -> float:
    clf = bench_forest()
    row = x[:1]
    for _ in range(20):
        clf.predict(row)
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        clf.predict(row)
        calls += 1
    return calls / (time.perf_counter() - started)


def _row(c: Cell) -> str:
    return (
        f"| {c.server} | {c.rows} | {c.connections} | {c.req_s:,.0f} | {c.rows_s:,.0f} | "
        f"{c.p50_ms:.1f} | {c.p99_ms:.1f} | {c.non2xx + c.socket_errors} |"
    )


def report(cells: list[Cell], limit: float) -> str:
    lines = [
        "| server | rows/request | connections | req/s | rows/s | p50 ms | p99 ms | non-2xx |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(_row(c) for c in cells),
        "",
        f"In-process `predict` limit (1 row, one caller): {limit:,.0f} calls/s.",
    ]
    peers = [c for c in cells if not c.server.startswith("shipyard")]
    for name in dict.fromkeys(c.server for c in cells if c.server.startswith("shipyard")):
        ours = {(c.rows, c.connections): c for c in cells if c.server == name}
        lines += ["", f"Targets for `{name}`:", ""]
        if (1, 1) in ours:
            share = ours[1, 1].req_s / limit
            lines.append(
                f"- 1 row, 1 connection: {share:.0%} of the in-process limit (target >= 90%)"
            )
        for key, unit, speed, lat in (((1, 64), "req/s", 5, 15), ((64, 16), "rows/s", 2, 5)):
            rivals = [c for c in peers if (c.rows, c.connections) == key]
            if key in ours and rivals:
                best = max(rivals, key=lambda c: c.rows_s)
                ratio = ours[key].rows_s / best.rows_s
                p99 = best.p99_ms / max(ours[key].p99_ms, 1e-9)
                lines.append(
                    f"- {key[0]} row(s), {key[1]} connections: {ratio:.1f}x the {unit} of the "
                    f"best peer ({best.server}; target >= {speed}x), p99 1/{p99:.1f} of its p99 "
                    f"(target <= 1/{lat})"
                )
        bad = sum(c.non2xx + c.socket_errors for c in ours.values())
        lines.append(f"- non-2xx or socket errors over all cells: {bad} (target 0)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--peers", default="bentoml,mlflow,mlserver", help="or 'none'")
    add_venvs_option(parser)
    parser.add_argument("--workers", default="1", help="shipyard serve --workers, e.g. 1,2")
    parser.add_argument("--serve-arg", action="append", default=[], help="extra serve option")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "serve.md")
    parser.add_argument("--cells", default="", help="e.g. 1x64,64x16 (rows x connections)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--pss", action="store_true", help="PSS of 1 vs 4 workers, RF(300)")
    parser.add_argument("--lone-rounds", type=int, default=0, help="interleaved 1x1 rounds")
    parser.add_argument("--startup-rounds", type=int, default=0, help="image start-up rounds")
    parser.add_argument(
        "--base-image", default=os.environ.get("SHIPYARD_TEST_BASE_IMAGE", "python:3.11-slim")
    )
    args = parser.parse_args()
    args.cells = (
        tuple(tuple(int(n) for n in cell.split("x")) for cell in args.cells.split(","))
        if args.cells
        else CELLS
    )
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    x = load_breast_cancer().data
    rows = {1: x[:1], 64: x[:64]}
    wanted = [] if args.peers == "none" else args.peers.split(",")
    worker_counts = [int(w) for w in str(args.workers).split(",")]
    servers = [shipyard_server(w, tuple(args.serve_arg)) for w in worker_counts]
    servers += [p for p in PEERS if p.name in wanted]
    limit = in_process_limit(x, min(args.seconds, 10.0))
    print(f"[bench] in-process limit {limit:,.0f} calls/s", flush=True)
    cells: list[Cell] = []
    lone: list[float] = []
    pss: dict[int, int] = {}
    startup: dict[str, float] | None = None
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        for server in servers:
            try:
                mine = lone if server.name == "shipyard" else None
                cells += bench_server(server, args.venvs, Path(tmp), rows, args, mine)
            except Exception as exc:  # a peer that fails is reported, not fatal to the run
                print(f"[bench] {server.name} failed: {exc}", flush=True)
                log = Path(tmp) / server.name / "server.log"
                if log.exists():
                    print(log.read_text(errors="replace")[-3000:], flush=True)
        if args.pss or args.startup_rounds:
            home = Path(tmp) / "figures-home"
            env = {**os.environ, "SHIPYARD_HOME": str(home)}
            code = "import shipyard\n"
            code += "shipyard.save_model(clf, 'bench', sample_input=x[:5])\n"
            code += "clf.set_params(n_estimators=300).fit(x, y)\n"
            code += "shipyard.save_model(clf, 'forest300', sample_input=x[:5])\n"
            subprocess.run([sys.executable, "-c", TRAIN + code], env=env, check=True)
            if args.pss:
                pss = figures.pss_figures(
                    lambda w: start_shipyard(["forest300:1", "--workers", str(w)], env, tmp),
                    lambda url: run_wrk(url + "/predict", body_for(tmp, rows[1]), 16, 3),
                    stop,
                )
                print(f"[bench] PSS kB by workers {pss}", flush=True)
            if args.startup_rounds:
                startup = figures.startup_figures("bench:1", env, args.base_image,
                                                  args.startup_rounds)  # fmt: skip
                print(f"[bench] start-up {startup}", flush=True)
    table = report(cells, limit) + figures.report(pss, lone, startup)
    print(table)
    if not args.no_write:
        versions = ", ".join(f"{s.name} {s.version}" for s in servers)
        header = (
            f"# Serving benchmark\n\nRun {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on "
            f"{os.cpu_count()} cores ({platform.machine()}, Python {platform.python_version()}) "
            f"with `python bench/serve/run.py` ({versions}; wrk -t1, {args.warmup:g} s warm-up, "
            f"{args.seconds:g} s measured per cell; Shipyard with --workers {args.workers}, "
            "validation, metrics and the prediction log on).\n\n"
            "Peers run with their own defaults except BentoML's batching, switched on with "
            "`@bentoml.api(batchable=True, max_batch_size=1024, max_latency_ms=10000)` (a 200 ms "
            "cap made it answer 503 under load). MLflow: `mlflow models serve --env-manager "
            "local`; MLServer: `mlserver-sklearn`. req/s counts successful responses only. The "
            "machine is shared with other work, so absolute numbers move from run to run; "
            "compare rows of one run.\n\n"
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(header + table + "\n")


if __name__ == "__main__":
    main()
