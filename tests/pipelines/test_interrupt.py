"""Ctrl-C on ``shipyard pipeline run``: the running step's process is stopped, the run fails."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

PIPELINES = textwrap.dedent(
    """
    import os
    import time
    from pathlib import Path

    import shipyard


    @shipyard.step
    def count(n: int) -> int:
        return n + 1


    @shipyard.step
    def wait(value: int) -> int:
        Path(os.environ["INTERRUPT_TEST_PID"]).write_text(str(os.getpid()))
        time.sleep(60)
        return value


    @shipyard.pipeline
    def slow() -> None:
        wait(count(1))
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone_within(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_ctrl_c_stops_the_running_step_and_records_the_run_failed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pipes.py").write_text(PIPELINES)
    pid_file = tmp_path / "step.pid"
    env = {
        **os.environ,
        "SHIPYARD_HOME": str(tmp_path / "home"),
        "SHIPYARD_USER": "tester",
        "PYTHONPATH": str(SRC),
        "INTERRUPT_TEST_PID": str(pid_file),
    }
    client = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "pipeline", "run", "pipes.py:slow", "--json"],
        env=env,
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pid_file.exists(), "the waiting step never started"
        time.sleep(0.2)
        step = int(pid_file.read_text())
        client.send_signal(signal.SIGINT)
        _out, err = client.communicate(timeout=30)
    finally:
        if client.poll() is None:
            client.kill()
    assert client.returncode != 0, err
    assert _gone_within(step, timeout_s=5)
    shown = subprocess.run(
        [sys.executable, "-m", "shipyard", "pipeline", "runs", "list", "--json"],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(shown.stdout)[0]["status"] == "failed"
