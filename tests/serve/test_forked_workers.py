"""``--workers N`` on real processes: one copy of the model shared by forked workers, alias moves
that re-fork them without a failed request, the fallback for a flavor that cannot be forked, and
``/healthz`` while the model loads."""

from __future__ import annotations

import importlib
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from onnx import TensorProto, helper
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier

import shipyard
from shipyard.config import Settings
from shipyard.registry import Registry
from tests.serve.servers import CliServer, wait_until_ready

pytestmark = pytest.mark.slow

SLOW_LOAD_MODEL = '''
import os
import time
import numpy as np
from shipyard.models.custom import PythonModel


class SlowLoad(PythonModel):
    """Takes LOAD_SECONDS to load, then doubles its input."""

    def load(self, context):
        time.sleep(float(os.environ.get("LOAD_SECONDS", "0")))

    def predict(self, inputs):
        return np.asarray(inputs, dtype=float) * 2
'''


def _tree_pss_kb(pid: int) -> tuple[int, int]:
    """(the parent's Rss, the Pss summed over it and its children), in kB."""

    def field(p: int, name: str) -> int:
        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {name} for {p}")

    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return field(pid, "Rss"), sum(field(p, "Pss") for p in [pid, *map(int, children)])


def _every_worker_says(url: str, version: str, streak: int = 12, timeout: float = 60.0) -> None:
    """Fresh connections reach any worker: ``streak`` answers in a row name ``version``."""
    deadline = time.monotonic() + timeout
    seen = 0
    while seen < streak:
        assert time.monotonic() < deadline, f"the workers never all served version {version}"
        try:
            response = httpx.get(f"{url}/readyz", timeout=10)
        except httpx.TransportError:  # not listening yet
            response = httpx.Response(599)
        ok = response.status_code == 200 and response.json()["model_version"] == version
        seen = seen + 1 if ok else 0
        if not ok:
            time.sleep(0.1)


def test_four_workers_share_one_copy_of_the_model(
    settings: Settings,
    shipyard_env: dict[str, str],
    forest: RandomForestClassifier,
    cancer: tuple[np.ndarray, np.ndarray],
    tmp_path: Path,
) -> None:
    x = cancer[0]
    shipyard.save_model(forest, "big", sample_input=x[:5], settings=settings)
    with CliServer(["big:1", "--workers", "4"], shipyard_env, tmp_path / "log") as server:
        _every_worker_says(server.url, "1")
        with httpx.Client(base_url=server.url) as http:
            assert http.post("/predict", json=x[:3].tolist()).status_code == 200
        assert server.process is not None
        parent_rss, total_pss = _tree_pss_kb(server.process.pid)
        assert server.terminate() == 0, server.log()
    assert "4 workers share one copy of big version 1" in server.log()
    # Workers that each import the libraries and load the model would bring the total near 5x
    # the parent's memory; forked ones add only what each writes.
    assert total_pss < 1.5 * parent_rss, (total_pss, parent_rss)


def test_alias_move_with_four_workers_fails_no_request(
    settings: Settings,
    shipyard_env: dict[str, str],
    forest: RandomForestClassifier,
    cancer: tuple[np.ndarray, np.ndarray],
    tmp_path: Path,
) -> None:
    x, y = cancer
    shipyard.save_model(forest, "bc", sample_input=x[:5], settings=settings)
    constant = DummyClassifier(strategy="constant", constant=1).fit(x, y)
    shipyard.save_model(constant, "bc", sample_input=x[:5], settings=settings)
    with Registry.from_settings(settings) as registry:
        registry.set_alias("bc", "production", 1)
    env = {**shipyard_env, "SHIPYARD_SERVE_POLL_SECONDS": "0.2"}
    args = ["bc@production", "--workers", "4", "--follow-alias"]
    stop = threading.Event()
    with CliServer(args, env, tmp_path / "log") as server:
        _every_worker_says(server.url, "1")

        def client_loop() -> list[tuple[int, str]]:
            seen: list[tuple[int, str]] = []
            with httpx.Client(base_url=server.url, timeout=30) as http:  # keep-alive
                while not stop.is_set() and len(seen) < 5_000:
                    response = http.post("/predict", json=x[:2].tolist())
                    version = response.json()["model_version"] if response.is_success else ""
                    seen.append((response.status_code, version))
            return seen

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client_loop) for _ in range(4)]
            time.sleep(0.5)
            with Registry.from_settings(settings) as registry:
                registry.set_alias("bc", "production", 2)
            deadline = time.monotonic() + 60
            while "every worker serves version 2" not in server.log():
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.1)
            time.sleep(0.5)
            stop.set()
            results = [f.result() for f in futures]
        _every_worker_says(server.url, "2")
        assert server.terminate() == 0, server.log()
    statuses = [status for seen in results for status, _ in seen]
    assert set(statuses) == {200}, "no request may fail while the workers are re-forked"
    for seen in results:
        assert seen[0][1] == "1"
        assert seen[-1][1] == "2"


def _add_one_graph() -> object:
    node = helper.make_node("Add", ["input", "one"], ["output"])
    graph = helper.make_graph(
        [node],
        "add_one",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 3])],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [3], [1.0, 1.0, 1.0])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_workers_load_their_own_copy_of_a_flavor_that_cannot_fork(
    settings: Settings, shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    sample = np.zeros((1, 3), dtype=np.float32)
    shipyard.save_model(_add_one_graph(), "addone", sample_input=sample, settings=settings)
    with CliServer(["addone:1", "--workers", "2"], shipyard_env, tmp_path / "log") as server:
        _every_worker_says(server.url, "1")
        with httpx.Client(base_url=server.url) as http:
            response = http.post("/predict", json=[[1.0, 2.0, 3.0]])
        assert server.terminate() == 0, server.log()
    assert response.json()["predictions"] == [[2.0, 3.0, 4.0]]
    assert (
        "the onnx flavor cannot be forked safely after loading: each of the 2 workers loads its "
        "own copy of the model" in server.log()
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_healthz_answers_while_the_model_is_still_loading(
    workers: int, settings: Settings, shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "slowload.py").write_text(textwrap.dedent(SLOW_LOAD_MODEL))
    sys.path.insert(0, str(code))
    try:
        model = importlib.import_module("slowload").SlowLoad()
        shipyard.save_model(model, "slowload", sample_input=np.zeros((1, 3)), settings=settings)
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("slowload", None)
    env = {**shipyard_env, "LOAD_SECONDS": "4"}
    args = ["slowload:1", "--workers", str(workers)]
    with CliServer(args, env, tmp_path / "log") as server:
        wait_until_ready(server.url, path="/healthz")
        with httpx.Client(base_url=server.url, timeout=5) as http:
            ready = http.get("/readyz")
            predicted = http.post("/predict", json=[[1.0, 2.0, 3.0]])
        assert (ready.status_code, predicted.status_code) == (503, 503)
        wait_until_ready(server.url)
        assert server.terminate() == 0, server.log()
