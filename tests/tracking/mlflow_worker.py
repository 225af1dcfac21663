"""One of several processes logging at once with the real ``mlflow`` client:
``mlflow_worker.py URL RUN_ID WORKER BATCHES SIZE`` logs BATCHES batches of SIZE values."""

from __future__ import annotations

import sys
import time

from mlflow import MlflowClient
from mlflow.entities import Metric


def main() -> None:
    url, run_id, worker, batches, size = sys.argv[1:6]
    client = MlflowClient(url)
    now = int(time.time() * 1000)
    for batch in range(int(batches)):
        metrics = [
            Metric(f"w{worker}", float(step), now, batch * int(size) + step)
            for step in range(int(size))
        ]
        client.log_batch(run_id, metrics=metrics)


if __name__ == "__main__":
    main()
