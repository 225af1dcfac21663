"""Render ``results.json`` of ``run.py`` as the Markdown table of docs/benchmarks/tracking.md.

python bench/tracking/report.py bench/tracking/results.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _row(label: str, shipyard: float, mlflow: float, unit: str, higher_is_better: bool) -> str:
    ratio = shipyard / mlflow if higher_is_better else mlflow / shipyard
    return f"| {label} | {shipyard:,.{unit}} | {mlflow:,.{unit}} | {ratio:.1f}x |"


def render(results: dict[str, Any]) -> str:
    s, m = results["shipyard"], results["mlflow"]
    sb, mb = s["log_batch"], m["log_batch"]
    floor = sb.get("client_floor_ms_per_batch", float("nan"))
    lines = [
        "| measure | Shipyard | MLflow 3.17.2 | Shipyard's advantage |",
        "| --- | ---: | ---: | ---: |",
        _row("log-batch throughput, values/s (mlflow client, 1000/batch)",
             sb["values_per_s"], mb["values_per_s"], "0f", True),
        _row("client time per 1000-value batch, ms", sb["client_ms_per_batch"],
             mb["client_ms_per_batch"], "1f", False),
        _row("server round trip per batch, p50 ms (pre-serialised body)",
             sb["server_round_trip_ms_p50"], mb["server_round_trip_ms_p50"], "1f", False),
        f"| client floor per batch: the same client against an instant server, ms | "
        f"{floor:.1f} | {floor:.1f} | |",
        _row("time a server adds per batch over the floor, ms", sb["client_ms_per_batch"] - floor,
             mb["client_ms_per_batch"] - floor, "1f", False),
        f"| Shipyard time in app / CPU of the store call per batch, p50 ms | "
        f"{sb['server_app_ms_p50']:.1f} / {sb['server_cpu_ms_p50']:.1f} | n/a | |",
        f"| {s['writers']['writers']} processes at once: values lost of "
        f"{s['writers']['expected']:,} | {s['writers']['lost']} | {m['writers']['lost']} | |",
        _row(f"search_runs over {s['search']['runs']:,} runs by metrics.auc DESC, first 100, p50 s",
             s["search"]["page100_p50_s"], m["search"]["page100_p50_s"], "3f", False),
        _row("same, first 1000 (the client's default page), p50 s",
             s["search"]["page1000_p50_s"], m["search"]["page1000_p50_s"], "3f", False),
        _row("same, filtered `metrics.auc > 0.5 and params.depth = '5'`, first 100, p50 s",
             s["search"]["filtered_page100_p50_s"], m["search"]["filtered_page100_p50_s"], "3f",
             False),
    ]  # fmt: skip
    load = results.get("load_average_at_start"), results.get("load_average_at_end")
    if all(load):
        lines.append("")
        lines.append(f"Load average (1 min) at start / end: {load[0][0]:.1f} / {load[1][0]:.1f}.")
    lines.append(f"Both servers returned the same first page: {results['same_first_page']}.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))
