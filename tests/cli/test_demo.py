"""The quick start's main job: ``shipyard demo`` trains, registers and serves."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from typer.testing import CliRunner

from shipyard import load_model
from shipyard.cli.main import app
from shipyard.config import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_registers_breast_cancer_at_production(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--json"])
    assert result.exit_code == 0, result.output
    version = json.loads(result.stdout)
    assert version["name"] == "breast-cancer"
    assert version["aliases"] == ["production"]
    assert version["flavor"] == "sklearn"
    rows = json.loads((settings.home / "demo-request.json").read_text())
    assert len(rows) == 3 and len(rows[0]) == 30
    model = load_model("breast-cancer@production", settings=settings)
    columns = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    assert model.predict_named(columns)["predictions"].shape == (3,)


def test_demo_serves_the_model_it_registered(shipyard_env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "demo", "--port", str(port)],
        env={**os.environ, **shipyard_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "demo server never became ready"
            time.sleep(0.2)
        body = (Path(shipyard_env["SHIPYARD_HOME"]) / "demo-request.json").read_bytes()
        response = httpx.post(f"{url}/predict", content=body, timeout=10)
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output
    assert "Serving breast-cancer@production" in output
