"""The model registry API: ``shipyard server`` against ``mlflow server`` 3.17.2, side by side.

    python bench/tracking/registry.py                  # 10,000 versions (~5 min)
    python bench/tracking/registry.py --versions 1000  # a quick look

Both servers run at once (SQLite, one worker each) and hold the same registry: one model,
``--versions`` versions, each with a tag ``i`` (its number), the alias ``champion`` on the last.
MLflow's is filled through its REST API (``model-versions/create``, 4 at a time); Shipyard's rows
are inserted straight into its database (registering through the API packages and loads a real
model per version, which is not what this measures). Then, taking turns, ``--repeat`` times each:

- ``search_model_versions("name = 'bench'", max_results=100)``: the first page;
- ``search_model_versions("name = 'bench' AND tags.i = '<n>'")``: one version among all;
- ``search_model_versions("name = 'bench'")``: every version (MLflow's default ``max_results``
  is 10,000);
- ``get_model_version_by_alias("bench", "champion")``.

Each is timed end to end through the ``mlflow`` client and as the server's round trip (the same
request with a plain HTTP client on loopback); Shipyard's time inside the app is its
``Server-Timing``. Medians are printed and written to ``registry.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from mlflow import MlflowClient
from servers import Server, start_mlflow, start_shipyard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from peers import add_venvs_option, mlflow_pins, peer_python

HERE = Path(__file__).parent
MODEL = "bench"
PREFIX = "/api/2.0/mlflow"


def populate_mlflow(server: Server, versions: int) -> None:
    with httpx.Client(base_url=server.url + PREFIX, timeout=60) as client:
        client.post("/registered-models/create", json={"name": MODEL}).raise_for_status()

    def create(number: int) -> None:
        with httpx.Client(base_url=server.url + PREFIX, timeout=60) as client:
            body = {
                "name": MODEL,
                "source": f"s3://bench/models/{number}",
                "tags": [{"key": "i", "value": str(number)}],
            }
            client.post("/model-versions/create", json=body).raise_for_status()

    with ThreadPoolExecutor(4) as pool:  # MLflow numbers them in commit order, not by i
        list(pool.map(create, range(1, versions + 1)))
    last = versions
    with httpx.Client(base_url=server.url + PREFIX, timeout=60) as client:
        body = {"name": MODEL, "alias": "champion", "version": str(last)}
        client.post("/registered-models/alias", json=body).raise_for_status()


def populate_shipyard(server: Server, versions: int) -> None:
    """The registry rows a ``save_model`` per version would leave (no files: not read here)."""
    from shipyard.database import open_database
    from shipyard.registry.metadata import tables as t

    engine = open_database(f"sqlite:///{server.db_path}")
    now = datetime.now(UTC)
    manifest = {"format_version": 1, "flavor": "sklearn"}
    with engine.begin() as conn:
        model_id = conn.execute(
            sa.insert(t.models)
            .values(name=MODEL, last_version=versions, created_at=now, updated_at=now)
            .returning(t.models.c.id)
        ).scalar_one()
        rows = [
            {"model_id": model_id, "version": n, "digest": f"{n:064x}", "manifest": manifest,
             "created_at": now, "created_by": "bench", "source": f"s3://bench/models/{n}"}
            for n in range(1, versions + 1)
        ]  # fmt: skip
        conn.execute(sa.insert(t.versions), rows)
        ids = dict(conn.execute(sa.select(t.versions.c.version, t.versions.c.id)).all())
        tags = [{"version_id": ids[n], "key": "i", "value": str(n)} for n in ids]
        conn.execute(sa.insert(t.version_tags), tags)
        conn.execute(
            sa.insert(t.aliases).values(
                model_id=model_id, alias="champion", version=versions, updated_at=now
            )
        )
    engine.dispose()


def _p50(call: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 2)


def _raw(server: Server, path: str, params: dict[str, Any]) -> Callable[[], Any]:
    client = httpx.Client(base_url=server.url + PREFIX, timeout=120)

    def call() -> Any:
        answer = client.get(path, params=params)
        answer.raise_for_status()
        timing = answer.headers.get("server-timing", "")
        if timing:
            _APP_MS.setdefault((server.name, path, str(params)), []).append(
                float(timing.partition("dur=")[2] or 0)
            )
        return answer

    return call


_APP_MS: dict[tuple[str, str, str], list[float]] = {}


def measure(servers: list[Server], versions: int, repeat: int) -> list[dict[str, Any]]:
    probe = str(versions // 2)
    cases = [
        ("first page of 100", "/model-versions/search",
         {"filter": f"name = '{MODEL}'", "max_results": 100}),
        ("one version by tag", "/model-versions/search",
         {"filter": f"name = '{MODEL}' AND tags.i = '{probe}'"}),
        (f"all {versions} versions", "/model-versions/search", {"filter": f"name = '{MODEL}'"}),
        ("version by alias", "/registered-models/alias", {"name": MODEL, "alias": "champion"}),
    ]  # fmt: skip
    table = []
    for label, path, params in cases:
        row: dict[str, Any] = {"call": label}
        for server in servers:
            client = MlflowClient(server.url)
            if path.endswith("alias"):

                def via_client(c: MlflowClient = client) -> Any:
                    return c.get_model_version_by_alias(MODEL, "champion")
            else:
                limit = int(params.get("max_results", 10_000))

                def via_client(c: MlflowClient = client, p: dict[str, Any] = params,
                               n: int = limit) -> Any:  # fmt: skip
                    return c.search_model_versions(p["filter"], max_results=n)

            found = via_client()
            count = 1 if path.endswith("alias") else len(found)
            raw = _raw(server, path, params)
            raw()  # warm
            row[f"{server.name} client ms"] = _p50(via_client, repeat)
            row[f"{server.name} round trip ms"] = _p50(raw, repeat)
            app = _APP_MS.get((server.name, path, str(params)))
            if app:
                row[f"{server.name} in app ms"] = round(statistics.median(app), 2)
            row[f"{server.name} results"] = count
        table.append(row)
        print(json.dumps(row), flush=True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=HERE / "registry.json")
    add_venvs_option(parser)
    args = parser.parse_args()
    mlflow = peer_python("mlflow", mlflow_pins(), args.venvs).parent / "mlflow"
    with tempfile.TemporaryDirectory(prefix="sybench-registry-") as scratch:
        workdir = Path(scratch)
        servers = [start_shipyard(workdir), start_mlflow(workdir, mlflow)]
        try:
            print(f"[bench] filling both registries with {args.versions} versions", flush=True)
            populate_shipyard(servers[0], args.versions)
            populate_mlflow(servers[1], args.versions)
            table = measure(servers, args.versions, args.repeat)
        finally:
            for server in servers:
                server.stop()
    args.out.write_text(json.dumps({"versions": args.versions, "table": table}, indent=1) + "\n")
    print(f"[bench] wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
