"""Runs logged over the MLflow REST API (as any client would), for the browser tests."""

from __future__ import annotations

import uuid

import httpx

API = "/api/2.0/mlflow"


def experiment(client: httpx.Client, name: str) -> str:
    """A new experiment named ``name-<random>``; its id."""
    response = client.post(
        f"{API}/experiments/create", json={"name": f"{name}-{uuid.uuid4().hex[:8]}"}
    )
    response.raise_for_status()
    return str(response.json()["experiment_id"])


def run(
    client: httpx.Client,
    experiment_id: str,
    name: str,
    params: dict[str, str],
    metrics: dict[str, float],
) -> str:
    """A finished run with ``params`` and one value (step 0) of each metric; its id."""
    created = client.post(
        f"{API}/runs/create",
        json={"experiment_id": experiment_id, "run_name": name, "start_time": 1_700_000_000_000},
    )
    created.raise_for_status()
    run_id = str(created.json()["run"]["info"]["run_id"])
    batch = {
        "run_id": run_id,
        "params": [{"key": k, "value": v} for k, v in params.items()],
        "metrics": [
            {"key": k, "value": v, "timestamp": 1_700_000_000_000, "step": 0}
            for k, v in metrics.items()
        ],
    }
    client.post(f"{API}/runs/log-batch", json=batch).raise_for_status()
    client.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED"})
    return run_id


def long_metric(client: httpx.Client, run_id: str, key: str, steps: int) -> None:
    """``steps`` values of ``key`` (a noisy sine), 1000 per batch (MLflow's limit)."""
    for start in range(0, steps, 1000):
        metrics = [
            {"key": key, "value": float((s * 7919) % 1000) / 1000, "timestamp": 1, "step": s}
            for s in range(start, min(start + 1000, steps))
        ]
        client.post(
            f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
        ).raise_for_status()
