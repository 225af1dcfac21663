"""``shipyard serve`` as a real process: model folders, workers, SIGTERM drain."""

from __future__ import annotations

import importlib
import shutil
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

import shipyard
from shipyard.config import Settings
from shipyard.registry import Registry
from tests.serve.servers import CliServer, wait_until_ready

SLOW_MODEL = '''
import time
import numpy as np
from shipyard.models.custom import PythonModel


class SlowDoubler(PythonModel):
    """Doubles its input after a pause, so requests stay in flight."""

    def predict(self, inputs):
        time.sleep(float(__import__("os").environ.get("SLOW_SECONDS", "0")))
        return np.asarray(inputs, dtype=float) * 2
'''


@pytest.fixture
def slow_version(settings: Settings, tmp_path: Path) -> Iterator[int]:
    """A custom model registered as ``slow`` (its module is saved with it)."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "slowdoubler.py").write_text(textwrap.dedent(SLOW_MODEL))
    sys.path.insert(0, str(code))
    try:
        module = importlib.import_module("slowdoubler")
        version = shipyard.save_model(
            module.SlowDoubler(), "slow", sample_input=np.zeros((1, 3)), settings=settings
        )
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("slowdoubler", None)
    yield version.version


def _wait_for_in_flight(url: str, count: int, timeout: float = 30.0) -> None:
    """Block until ``count`` requests (besides this probe) are inside the server."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url) as http:
        while time.monotonic() < deadline:
            if f"shipyard_requests_in_flight {count + 1}" in http.get("/metrics").text:
                return
            time.sleep(0.02)
    raise TimeoutError(f"{count} requests never were in flight together")


def test_sigterm_drains_in_flight_requests_and_exits_0(
    slow_version: int, shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**shipyard_env, "SLOW_SECONDS": "1.0"}
    with CliServer([f"slow:{slow_version}", "--no-batching"], env, tmp_path / "log") as server:
        wait_until_ready(server.url)

        def call(i: int) -> httpx.Response:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                return http.post("/predict", json=[[float(i), 1.0, 2.0]])

        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(call, i) for i in range(3)]
            _wait_for_in_flight(server.url, 3)
            code = server.terminate()
            responses = [f.result() for f in futures]
        assert code == 0, server.log()
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[2].json()["predictions"] == [[4.0, 2.0, 4.0]]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz")


def test_serves_a_model_folder_with_two_workers(
    slow_version: int, settings: Settings, shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    with Registry.from_settings(settings) as registry:
        fetched = registry.fetch(f"slow:{slow_version}")
    folder = shutil.copytree(fetched, tmp_path / "image-model")
    env = {"SHIPYARD_HOME": str(tmp_path / "empty-home"), "SHIPYARD_SERVE_WORKERS": "2"}
    with CliServer([str(folder)], env, tmp_path / "log") as server:
        wait_until_ready(server.url)
        with httpx.Client(base_url=server.url) as http:
            response = http.post("/predict", json={"input": [[1.0, 2.0, 3.0]]})
            metadata = http.get("/v2/models/slow").json()
        assert server.terminate() == 0, server.log()
    assert response.json() == {
        "model_name": "slow",
        "model_version": "1",
        "predictions": [[2.0, 4.0, 6.0]],
    }
    assert metadata["versions"] == ["1"]
    assert "2 workers share one copy of slow version 1" in server.log()


def test_unknown_reference_exits_3_with_a_message(
    shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    with CliServer(["missing@production"], shipyard_env, tmp_path / "log") as server:
        assert server.process is not None
        assert server.process.wait(timeout=60) == 3
    assert "missing" in server.log()


def _worker_counts(metrics_dir: Path) -> dict[str, float]:
    """Successful /predict calls per worker, read from each worker's own counter file."""
    from prometheus_client.mmap_dict import MmapedDict

    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        values = MmapedDict.read_all_values_from_file(str(path))
        counts[path.stem] = sum(
            v for key, v, _, _ in values if "shipyard_requests_total" in key and '"200"' in key
        )
    return counts


def _wait_until_every_worker_is_ready(url: str, timeout: float = 60.0) -> None:
    """Each fresh connection may reach either worker: ready means many in a row say so."""
    deadline = time.monotonic() + timeout
    streak = 0
    while streak < 12:
        assert time.monotonic() < deadline, "a worker never became ready"
        ok = httpx.get(f"{url}/readyz", timeout=10).status_code == 200
        streak = streak + 1 if ok else 0
        if not ok:
            time.sleep(0.2)


def _reported_total(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    line = 'shipyard_requests_total{route="/predict",status="200"} '
    found = [ln for ln in text.splitlines() if ln.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


@pytest.mark.slow
def test_metrics_under_two_workers_report_the_totals_of_both(
    slow_version: int, shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**shipyard_env, "TMPDIR": str(temp)}
    args = [f"slow:{slow_version}", "--workers", "2"]
    with CliServer(args, env, tmp_path / "log") as server:
        wait_until_ready(server.url)
        _wait_until_every_worker_is_ready(server.url)
        [metrics_dir] = temp.glob("shipyard-metrics-*")
        sent = 0

        def call(i: int) -> int:
            # A fresh connection each time, so the kernel hands them to both workers.
            return httpx.post(f"{server.url}/predict", json=[[float(i), 0.0, 0.0]]).status_code

        with ThreadPoolExecutor(8) as pool:
            for _ in range(20):
                statuses = list(pool.map(call, range(24)))
                assert statuses == [200] * 24
                sent += 24
                time.sleep(1.2)  # each worker copies its numbers out once a second
                counts = _worker_counts(metrics_dir)
                if len(counts) == 2 and all(n > 0 for n in counts.values()):
                    break
        counts = _worker_counts(metrics_dir)
        assert len(counts) == 2 and all(n > 0 for n in counts.values()), counts
        # Each scrape is answered by one worker and still reports the total of both (the other's
        # part at most a flush old: on a busy machine give the flushes a few seconds).
        deadline = time.monotonic() + 20
        scrapes: list[float] = []
        while time.monotonic() < deadline:
            scrapes = [_reported_total(server.url) for _ in range(6)]
            if scrapes == [float(sent)] * 6:
                break
            time.sleep(0.5)
        assert scrapes == [float(sent)] * 6, (scrapes, sent, counts)
        assert server.terminate() == 0, server.log()
    assert not metrics_dir.exists()
