"""The quick start's main job: ``shipyard demo`` trains, registers and serves."""

from __future__ import annotations

import json
import os
import shlex
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
from shipyard.cli.demo import train_and_register, try_it_lines
from shipyard.cli.main import app
from shipyard.config import Settings
from tests.serve.servers import CliServer, wait_until_ready


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
    # a home path longer than a terminal line: the hint must still paste as one command
    home = tmp_path / ("a folder with a long name " * 4).strip() / "home"
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "demo", "--port", str(port)],
        env={**os.environ, **shipyard_env, "SHIPYARD_HOME": str(home)},
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
        body = (home / "demo-request.json").read_bytes()
        response = httpx.post(f"{url}/predict", content=body, timeout=10)
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output
    assert "Serving breast-cancer@production" in output
    [hint] = [line.strip() for line in output.splitlines() if "/predict -H" in line]
    request = shlex.quote(str(home / "demo-request.json"))
    assert hint == f"curl -s {url}/predict -H 'Content-Type: application/json' -d @{request}"


def test_the_demo_hint_pastes_into_a_shell_and_predicts(
    shipyard_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**shipyard_env, "SHIPYARD_HOME": str(tmp_path / "my models (demo)" / "home")}
    settings = Settings.from_env(env)
    train_and_register(settings)
    with CliServer(["breast-cancer@production"], env, tmp_path / "serve.log") as server:
        wait_until_ready(server.url, timeout=90)
        request = settings.home / "demo-request.json"
        curl = try_it_lines("breast-cancer@production", server.url, request)[0]
        pasted = subprocess.run(
            ["bash", "-c", curl], capture_output=True, text=True, timeout=30, check=True
        )
    assert len(json.loads(pasted.stdout)["predictions"]) == 3
