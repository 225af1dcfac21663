"""``--follow-alias``: moving the alias swaps the served version under load, failing no request."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier

import shipyard
from shipyard.config import Settings
from shipyard.refs import ModelRef
from shipyard.registry import Registry
from shipyard.serve import RegistrySource, ServeConfig, create_app
from tests.serve.servers import ThreadServer

MAX_REQUESTS_PER_CLIENT = 2_000
LOAD_SECONDS = 20.0


def test_alias_move_swaps_version_under_load_with_zero_failures(
    settings: Settings, forest: RandomForestClassifier, cancer: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = cancer
    shipyard.save_model(forest, "bc", sample_input=x[:5], settings=settings)
    constant = DummyClassifier(strategy="constant", constant=1).fit(x, y)
    shipyard.save_model(constant, "bc", sample_input=x[:5], settings=settings)
    with Registry.from_settings(settings) as registry:
        registry.set_alias("bc", "production", 1)
    config = ServeConfig(follow_alias=True, poll_seconds=0.1)
    app = create_app(RegistrySource(settings, ModelRef.parse("bc@production")), config)
    stop = threading.Event()
    started = threading.Semaphore(0)  # released once by each client after its first answer
    body = {"inputs": [{"name": "input", "shape": [2, 30], "datatype": "FP64",
                        "data": x[:2].ravel().tolist()}]}  # fmt: skip

    def client_loop(url: str) -> list[tuple[int, str]]:
        seen: list[tuple[int, str]] = []
        deadline = time.monotonic() + LOAD_SECONDS
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if stop.is_set() or time.monotonic() > deadline:
                    break
                response = http.post("/v2/models/bc/infer", json=body)
                version = response.json().get("model_version", "") if response.is_success else ""
                seen.append((response.status_code, version))
                if len(seen) == 1:
                    started.release()
        return seen

    with ThreadServer(app) as running, ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(client_loop, running.url) for _ in range(6)]
        for _ in futures:
            assert started.acquire(timeout=30), "every client answered before the alias moves"
        time.sleep(0.2)
        with Registry.from_settings(settings) as registry:
            registry.set_alias("bc", "production", 2)
        with httpx.Client(base_url=running.url) as http:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if http.get("/readyz").json()["model_version"] == "2":
                    break
                time.sleep(0.05)
        time.sleep(0.5)
        stop.set()
        results = [f.result() for f in futures]

    statuses = [status for seen in results for status, _ in seen]
    assert statuses and set(statuses) == {200}, "no request may fail during the swap"
    for seen in results:
        versions = [version for _, version in seen]
        assert versions[0] == "1"
        assert versions[-1] == "2"
        first_new = versions.index("2")
        assert set(versions[first_new:]) == {"2"}, "once on the new version, never back"
