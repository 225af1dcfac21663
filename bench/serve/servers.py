"""The servers the benchmark compares: how to install, prepare, start and call each one.

Every peer runs from its own throwaway virtualenv with the pins that install here (see issue 3's
trial-run notes); each gets the same model, trained the same way, and its own request payloads.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from peers import MLFLOW_VERSION, mlflow_pins

__all__ = ["PEERS", "Server", "shipyard_server"]

TRAIN = """
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
x, y = load_breast_cancer(return_X_y=True)
clf = RandomForestClassifier(n_estimators=50, random_state=0).fit(x, y)
"""


@dataclass(frozen=True)
class Server:
    """One server under test."""

    name: str
    version: str
    packages: tuple[str, ...]  # pip pins for its virtualenv; () = this interpreter
    prepare: Callable[[Path, Path], None]  # (python, workdir) -> writes model and config
    command: Callable[[Path, Path, int], list[str]]  # (python, workdir, port) -> argv
    ready_path: str
    path: str
    payload: Callable[[np.ndarray], bytes]


def _run_python(python: Path, code: str, cwd: Path) -> None:
    subprocess.run([str(python), "-c", textwrap.dedent(code)], cwd=cwd, check=True)


# --- Shipyard ---------------------------------------------------------------------------------
def _shipyard_prepare(python: Path, work: Path) -> None:
    _run_python(
        python,
        TRAIN + "import shipyard\nshipyard.save_model(clf, 'bench', sample_input=x[:5])\n",
        work,
    )


def shipyard_server(workers: int, extra: tuple[str, ...] = ()) -> Server:
    def command(python: Path, work: Path, port: int) -> list[str]:
        log = str(work / "predictions.jsonl")
        return [
            str(python), "-m", "shipyard", "serve", "bench:1", "--port", str(port),
            "--workers", str(workers), "--prediction-log", log, *extra,
        ]  # fmt: skip

    return Server(
        name="shipyard" if workers == 1 else f"shipyard-w{workers}",
        version="0.1.0",
        packages=(),
        prepare=_shipyard_prepare,
        command=command,
        ready_path="/readyz",
        path="/predict",
        payload=lambda rows: json.dumps(rows.tolist()).encode(),
    )


# --- BentoML ----------------------------------------------------------------------------------
BENTO_SERVICE = """
import bentoml
import joblib
import numpy as np


@bentoml.service
class BreastCancer:
    def __init__(self) -> None:
        self.model = joblib.load("model.joblib")

    @bentoml.api(batchable=True, max_batch_size=1024, max_latency_ms=10000)
    def predict(self, input: np.ndarray) -> np.ndarray:
        return self.model.predict(input)
"""


def _bento_prepare(python: Path, work: Path) -> None:
    (work / "service.py").write_text(BENTO_SERVICE)
    _run_python(python, TRAIN + "import joblib\njoblib.dump(clf, 'model.joblib')\n", work)


BENTOML = Server(
    name="bentoml",
    version="1.4.39",
    packages=("bentoml==1.4.39", "scikit-learn==1.9.1"),
    prepare=_bento_prepare,
    command=lambda py, work, port: [
        str(py.parent / "bentoml"),
        "serve",
        "service:BreastCancer",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ],
    ready_path="/readyz",
    path="/predict",
    payload=lambda rows: json.dumps({"input": rows.tolist()}).encode(),
)


# --- MLflow -----------------------------------------------------------------------------------
def _mlflow_prepare(python: Path, work: Path) -> None:
    _run_python(
        python,
        TRAIN
        + "import mlflow.sklearn\n"
        + "mlflow.sklearn.save_model(clf, 'model', "
        + "skops_trusted_types=['sklearn.tree._tree.Tree'])\n",
        work,
    )


MLFLOW = Server(
    name="mlflow",
    version=MLFLOW_VERSION,
    packages=mlflow_pins(),  # the venv bench/batch and bench/tracking use too
    prepare=_mlflow_prepare,
    command=lambda py, work, port: [
        str(py.parent / "mlflow"),
        "models",
        "serve",
        "-m",
        str(work / "model"),
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ],
    ready_path="/ping",
    path="/invocations",
    payload=lambda rows: json.dumps({"inputs": rows.tolist()}).encode(),
)


# --- MLServer ---------------------------------------------------------------------------------
def _mlserver_prepare(python: Path, work: Path) -> None:
    _run_python(python, TRAIN + "import joblib\njoblib.dump(clf, 'model.joblib')\n", work)
    settings = {"name": "bc", "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib"}}  # fmt: skip
    (work / "model-settings.json").write_text(json.dumps(settings))


def _mlserver_command(python: Path, work: Path, port: int) -> list[str]:
    settings = {"host": "127.0.0.1", "http_port": port, "grpc_port": port + 1,
                "metrics_port": port + 2}  # fmt: skip
    (work / "settings.json").write_text(json.dumps(settings))
    return [str(python.parent / "mlserver"), "start", str(work)]


def _v2_payload(rows: np.ndarray) -> bytes:
    tensor = {"name": "input-0", "shape": list(rows.shape), "datatype": "FP64",
              "data": rows.ravel().tolist()}  # fmt: skip
    return json.dumps({"inputs": [tensor]}).encode()


MLSERVER = Server(
    name="mlserver",
    version="1.7.1",
    packages=(
        "mlserver==1.7.1",
        "mlserver-sklearn==1.7.1",
        "uvloop==0.21.0",
        "scikit-learn==1.9.1",
    ),
    prepare=_mlserver_prepare,
    command=_mlserver_command,
    ready_path="/v2/health/ready",
    path="/v2/models/bc/infer",
    payload=_v2_payload,
)

PEERS = (BENTOML, MLFLOW, MLSERVER)


def this_python() -> Path:
    return Path(sys.executable)
