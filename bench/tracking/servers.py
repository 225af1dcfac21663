"""Start and stop the two tracking servers the benchmark compares, on free loopback ports.

Shipyard: ``python -m shipyard server`` over a fresh SQLite registry (``SHIPYARD_HOME``).
MLflow: ``mlflow server`` 3.17.2 from its own virtualenv (made under ``--venvs`` by run.py, see
bench/peers.py), SQLite backend, artifacts proxied (``--artifacts-destination``), one worker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    db_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(root: int) -> float:
    """CPU time of ``root`` and all its descendants so far (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, grew = {root}, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(times.get(pid, 0.0) for pid in tree)


def _wait_until_idle(process: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    """Until the server and its children use under 5% of a core: ``mlflow server`` answers
    /health while its job-runner workers (seven huey consumers) are still importing mlflow,
    several CPU-seconds on a 2-core machine that would land in the other server's timed turns."""
    if not Path("/proc/self/stat").exists():
        time.sleep(15)
        return
    deadline = time.monotonic() + timeout
    before = _cpu_seconds(process.pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _cpu_seconds(process.pid)
        if now - before < 0.05:
            return
        before = now


def _wait(name: str, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                _wait_until_idle(process)
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{name} server did not start:\n{log.read_text()[-3000:]}")


def start_shipyard(workdir: Path) -> Server:
    home = workdir / "shipyard-home"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env.update({"SHIPYARD_HOME": str(home), "PYTHONPATH": str(ROOT / "src")})
    log = workdir / "shipyard.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    _wait("shipyard", url, process, log)
    return Server("shipyard", url, process, home / "registry.db")


def start_mlflow(workdir: Path, mlflow: Path) -> Server:
    """``mlflow server`` from the ``mlflow`` executable of a peer virtualenv."""
    port = free_port()
    db = workdir / "mlflow.db"
    log = workdir / "mlflow.log"
    process = subprocess.Popen(
        [
            str(mlflow),
            "server",
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--artifacts-destination",
            str(workdir / "mlflow-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
            "MLFLOW_DISABLE_TELEMETRY": "true",
        },
    )
    url = f"http://127.0.0.1:{port}"
    _wait("mlflow", url, process, log)
    return Server("mlflow", url, process, db)
