"""One of the concurrent writers: ``writer.py URL RUN_ID KEY BATCHES SIZE`` logs BATCHES
log-batch calls of SIZE values of metric KEY with the ``mlflow`` client."""

from __future__ import annotations

import sys
import time

from mlflow import MlflowClient
from mlflow.entities import Metric


def main() -> None:
    url, run_id, key, batches, size = sys.argv[1:6]
    client = MlflowClient(url)
    now = int(time.time() * 1000)
    for batch in range(int(batches)):
        first = batch * int(size)
        client.log_batch(
            run_id, metrics=[Metric(key, float(s), now, s) for s in range(first, first + int(size))]
        )


if __name__ == "__main__":
    main()
