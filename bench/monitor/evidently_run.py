"""Evidently 0.7's DataDriftPreset on the benchmark's reference and current rows (peer venv).

$VENVS/venv-evidently/bin/python bench/monitor/evidently_run.py reference.npy current.npy

(bench/monitor/run.py makes that virtualenv and runs this; see bench/peers.py.)
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def main() -> None:
    reference = np.load(sys.argv[1])
    current = np.load(sys.argv[2])
    names = [str(i) for i in range(reference.shape[1])]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    definition = DataDefinition(numerical_columns=names)
    ref = Dataset.from_pandas(pd.DataFrame(reference, columns=names), data_definition=definition)
    cur = Dataset.from_pandas(pd.DataFrame(current, columns=names), data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(cur, ref)
    result = snapshot.dict()
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = usage.ru_utime + usage.ru_stime - cpu
    scores: dict[str, float] = {}
    methods: dict[str, str] = {}
    thresholds: dict[str, float] = {}
    for metric in result["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        if column is None or not str(metric.get("metric_name", "")).startswith("ValueDrift"):
            continue
        scores[str(column)] = float(metric["value"])
        methods[str(column)] = str(config.get("method"))
        thresholds[str(column)] = float(config.get("threshold", 0.1))
    decisions = {
        c: (s >= thresholds[c]) if "p_value" not in methods[c].lower() else s < thresholds[c]
        for c, s in scores.items()
    }
    print(json.dumps({
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": len(current),
        "scores": scores,
        "methods": methods,
        "decisions": decisions,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
