"""The figures of issue 24 that are not a wrk cell: memory with workers, a lone caller measured
interleaved with the in-process limit, and an image's start-up against its floor.

- ``pss_figures``: ``shipyard serve`` of a RandomForest(300) with ``--workers 1`` and ``4``;
  after every worker has answered a few seconds of load, the PSS (``/proc/PID/smaps_rollup``,
  as smem counts it) summed over the server's process tree.
- ``lone_ratio``: one connection, 1 row. Each round times 1 s of the in-process ``predict``
  loop, then 1 s of wrk at 1 connection against the running server, so a noisy neighbour hits
  both alike; the median of the rounds' ratios.
- ``startup_figures``: builds the model's image (``shipyard build``), runs ``startup_probe.py``
  in it (start to the first ``200`` from ``/readyz`` against ``python -c "import the model's
  libraries; load it"``, interleaved) and removes the image.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
IMAGE_TAG = "shipyard-bench/startup:{pid}"


def tree_pss_kb(pid: int) -> int:
    """PSS of ``pid`` and its children, in kB."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total


def pss_figures(
    start: Callable[[int], tuple[subprocess.Popen[bytes], str]],
    load: Callable[[str], object],
    stop: Callable[[subprocess.Popen[bytes]], None],
) -> dict[int, int]:
    """``{workers: kB}`` for 1 and 4 workers; ``start(workers)`` returns a ready server."""
    figures = {}
    for workers in (1, 4):
        process, url = start(workers)
        try:
            load(url)
            figures[workers] = tree_pss_kb(process.pid)
        finally:
            stop(process)
    return figures


def lone_ratio(
    predict: Callable[[], object], serve_for: Callable[[float], float], rounds: int
) -> list[float]:
    """Each round: calls/s of ``predict`` for 1 s, then ``serve_for(1.0)`` req/s; the ratios."""
    ratios = []
    for _ in range(rounds):
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < 1.0:
            predict()
            calls += 1
        limit = calls / (time.perf_counter() - started)
        ratios.append(serve_for(1.0) / limit)
    return ratios


def startup_figures(
    ref: str, env: dict[str, str], base_image: str, rounds: int
) -> dict[str, float]:
    """Median seconds to ready and of the floor, in the image of ``ref``."""
    tag = IMAGE_TAG.format(pid=os.getpid())
    build = [sys.executable, "-m", "shipyard", "build", ref, "--tag", tag, "--base-image",
             base_image, "--no-smoke-test", "--json"]  # fmt: skip
    subprocess.run(build, env=env, check=True, capture_output=True)
    floor = (
        "import pickle, sklearn.ensemble; pickle.load(open('/opt/shipyard/model/model.pkl', 'rb'))"
    )
    probe = ["docker", "run", "--rm", "--name", f"shipyard-bench-startup-{os.getpid()}",
             "-v", f"{HERE}:/probe:ro", "--entrypoint", "/opt/venv/bin/python", tag,
             "/probe/startup_probe.py", str(rounds), floor, "--",
             "/opt/venv/bin/python", "-m", "shipyard.cli.container", "serve"]  # fmt: skip
    try:
        out = subprocess.run(probe, check=True, capture_output=True, text=True).stdout
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], check=False, capture_output=True)
    times = json.loads(out.strip().splitlines()[-1])
    floor_s, server_s = statistics.median(times["floor_s"]), statistics.median(times["server_s"])
    return {"floor_s": floor_s, "server_s": server_s, "ratio": server_s / floor_s}


def report(pss: dict[int, int], lone: list[float], startup: dict[str, float] | None) -> str:
    lines = ["", "Issue 24 figures:", ""]
    if pss:
        lines.append(
            f"- PSS of RandomForest(300): {pss[1] / 1024:.0f} MB with 1 worker, "
            f"{pss[4] / 1024:.0f} MB with 4: {pss[4] / pss[1]:.2f}x (target <= 1.5x)"
        )
    if lone:
        lines.append(
            f"- 1 row, 1 connection, interleaved with the in-process limit: median "
            f"{statistics.median(lone):.0%} over {len(lone)} rounds "
            f"({', '.join(f'{r:.0%}' for r in lone)}; target >= 90%)"
        )
    if startup:
        lines.append(
            f"- start to ready in the image: {startup['server_s']:.2f} s against a floor of "
            f"{startup['floor_s']:.2f} s: {startup['ratio']:.2f}x (target <= 1.2x)"
        )
    return "\n".join(lines)
