"""The warm daemon: real processes on a real Unix socket, running real pipeline commands.

Each test gets its own daemon folder (short: a socket path must fit in 108 bytes) and stops
its daemon, by the pid it reported, when it ends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.cli.daemon.client import run_in_daemon
from shipyard.cli.daemon.identity import (
    ensure_private_dir,
    install_signature,
    is_enabled,
    is_routed,
)

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
        Path(os.environ["DAEMON_TEST_PID"]).write_text(str(os.getpid()))
        time.sleep(60)
        return value


    @shipyard.step
    def fail(value: int) -> int:
        raise RuntimeError("boom")


    @shipyard.pipeline
    def quick(n: int = 1) -> None:
        count(n)


    @shipyard.pipeline
    def slow() -> None:
        wait(count(1))


    @shipyard.pipeline
    def failing() -> None:
        fail(count(1))
    """
)


class Daemonised:
    """A project folder and an environment whose ``pipeline`` commands use a test daemon."""

    def __init__(self, root: Path, folder: Path, extra_path: Path) -> None:
        self.project = root / "project"
        self.project.mkdir()
        (self.project / "pipes.py").write_text(PIPELINES)
        self.extra_path = extra_path
        self.env = {
            **os.environ,
            "SHIPYARD_DAEMON": "1",
            "SHIPYARD_DAEMON_DIR": str(folder),
            "SHIPYARD_DAEMON_IDLE": "120",
            "SHIPYARD_HOME": str(root / "home"),
            "SHIPYARD_USER": "tester",
            "PYTHONPATH": os.pathsep.join([str(SRC), str(extra_path)]),
        }
        self.env.pop("CI", None)

    def shipyard(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipyard", *args],
            env={**self.env, **env},
            cwd=self.project,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def status(self) -> dict[str, Any]:
        done = self.shipyard("daemon", "status", "--json")
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def wait_listening(self, timeout_s: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.status()
            if status["running"]:
                return status
            time.sleep(0.2)
        raise AssertionError(Path(status["log"]).read_text())

    def warm(self) -> dict[str, Any]:
        """Start the daemon and wait until it listens; its status."""
        started = self.shipyard("daemon", "start", "--json")
        assert started.returncode == 0, started.stdout + started.stderr
        return dict(json.loads(started.stdout))


@pytest.fixture
def daemonised(tmp_path: Path) -> Iterator[Daemonised]:
    folder = Path(tempfile.mkdtemp(prefix="sy-daemon-", dir="/tmp"))
    extra = tmp_path / "extra-path"
    extra.mkdir()
    space = Daemonised(tmp_path, folder, extra)
    try:
        yield space
    finally:
        answer = space.shipyard("daemon", "stop", "--json")
        pid = json.loads(answer.stdout).get("pid") if answer.returncode == 0 else None
        if isinstance(pid, int):
            _stop(pid)
        shutil.rmtree(folder, ignore_errors=True)


def _gone_within(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _stop(pid: int) -> None:
    if not _gone_within(pid):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- the pure choices ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        ({}, True),
        ({"CI": "true"}, False),
        ({"CI": "true", "SHIPYARD_DAEMON": "1"}, True),
        ({"SHIPYARD_DAEMON": "0"}, False),
        ({"SHIPYARD_DAEMON": "off"}, False),
        ({"CI": "0"}, True),
    ],
)
def test_daemon_is_on_except_under_ci_unless_told(environ: dict[str, str], enabled: bool) -> None:
    assert is_enabled(environ) is enabled


def test_only_pipeline_commands_are_routed() -> None:
    assert is_routed(["pipeline", "run", "pipe.py"])
    assert not is_routed(["serve", "iris@production"])
    assert not is_routed(["--version"])
    assert not is_routed([])


def test_a_folder_others_can_open_is_refused(tmp_path: Path) -> None:
    private = tmp_path / "private"
    assert ensure_private_dir(private)
    assert private.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    assert not ensure_private_dir(shared)
    link = tmp_path / "link"
    link.symlink_to(private)
    assert not ensure_private_dir(link)


def test_a_shared_daemon_folder_means_the_command_runs_here(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    environ = {"SHIPYARD_DAEMON": "1", "SHIPYARD_DAEMON_DIR": str(shared)}
    assert run_in_daemon(["pipeline", "show", "x.py"], environ) is None
    assert list(shared.iterdir()) == []  # no daemon was started there, no log written


def test_the_signature_changes_when_a_search_path_folder_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path / "first-entry-is-ignored"))
    before = install_signature()
    assert install_signature() == before
    time.sleep(0.01)
    (tmp_path / "newly_installed.py").write_text("")
    assert install_signature() != before


# -- the daemon, end to end ------------------------------------------------------------------


@pytest.mark.slow
def test_the_first_command_starts_the_daemon_and_the_next_runs_in_it(
    daemonised: Daemonised,
) -> None:
    first = daemonised.shipyard("pipeline", "run", "pipes.py:quick", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["executed"] == 1
    assert daemonised.wait_listening()["served"] == 0  # the first ran in its own process

    second = daemonised.shipyard("pipeline", "run", "pipes.py:quick", "--json")
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)  # stdout is the client's pipe, written by the child
    assert (summary["executed"], summary["cached"]) == (0, 1)
    status = daemonised.status()
    assert status["served"] == 1
    assert status["commands_running"] == 0

    listed = daemonised.shipyard("pipeline", "runs", "list", "--json")
    assert json.loads(listed.stdout)[0]["id"] == summary["run_id"]


@pytest.mark.slow
def test_the_child_takes_the_clients_folder_environment_and_exit_code(
    daemonised: Daemonised, tmp_path: Path
) -> None:
    daemonised.warm()
    other_home = tmp_path / "other-home"
    ran = daemonised.shipyard(
        "pipeline", "run", "pipes.py:quick", "--param", "n=5", "--json",
        SHIPYARD_HOME=str(other_home),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert (other_home / "pipelines" / "runs" / json.loads(ran.stdout)["run_id"]).is_dir()

    failed = daemonised.shipyard("pipeline", "run", "pipes.py:failing", "--json")
    assert failed.returncode == 12, failed.stderr
    assert "failed at fail" in json.loads(failed.stdout)["error"]["message"]

    missing = daemonised.shipyard("pipeline", "run", "nowhere.py")
    assert missing.returncode == 3
    assert "nowhere.py does not exist" in missing.stderr

    usage = daemonised.shipyard("pipeline", "bogus")
    assert usage.returncode == 2
    assert "Usage: python -m shipyard pipeline" in usage.stderr
    assert daemonised.status()["served"] == 4


@pytest.mark.slow
def test_an_installed_package_makes_the_daemon_stale_and_the_command_runs_here(
    daemonised: Daemonised,
) -> None:
    old = daemonised.warm()["pid"]
    (daemonised.extra_path / "freshly_installed.py").write_text("")
    ran = daemonised.shipyard("pipeline", "run", "pipes.py:quick", "--json")
    assert ran.returncode == 0, ran.stderr
    assert _gone_within(old)
    status = daemonised.wait_listening()
    assert status["pid"] != old
    assert status["served"] == 0  # the stale one ran nothing; the command ran in its process


@pytest.mark.slow
@pytest.mark.parametrize("daemon", ["1", "0"])
def test_ctrl_c_stops_the_running_step_with_or_without_the_daemon(
    daemonised: Daemonised, tmp_path: Path, daemon: str
) -> None:
    if daemon == "1":
        daemonised.warm()
    pid_file = tmp_path / "step.pid"
    client = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "pipeline", "run", "pipes.py:slow", "--json"],
        env={**daemonised.env, "DAEMON_TEST_PID": str(pid_file), "SHIPYARD_DAEMON": daemon},
        cwd=daemonised.project,
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
    shown = daemonised.shipyard("pipeline", "runs", "list", "--json", SHIPYARD_DAEMON="0")
    assert json.loads(shown.stdout)[0]["status"] == "failed"
    if daemon == "1":
        assert daemonised.status()["commands_running"] == 0


@pytest.mark.slow
def test_stop_ends_the_daemon_and_removes_its_socket(daemonised: Daemonised) -> None:
    started = daemonised.warm()
    pid, socket = started["pid"], Path(started["socket"])
    stopped = daemonised.shipyard("daemon", "stop", "--json")
    assert json.loads(stopped.stdout)["stopped"] is True
    assert _gone_within(pid)
    assert not socket.exists()
    assert daemonised.status()["running"] is False
    again = daemonised.shipyard("daemon", "stop")
    assert "no daemon was running" in again.stdout


@pytest.mark.slow
def test_a_client_that_sends_nothing_does_not_hold_up_the_next(daemonised: Daemonised) -> None:
    status = daemonised.warm()
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(status["socket"])
    try:
        ran = daemonised.shipyard("pipeline", "run", "pipes.py:quick", "--json")
    finally:
        silent.close()
    assert ran.returncode == 0, ran.stderr
    assert daemonised.status()["served"] == 1  # it ran in the daemon, after the silent one
