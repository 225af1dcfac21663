"""Piped output is never wrapped: long paths, URLs and commands stay on one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from shipyard.config import Settings
from shipyard.registry import Registry
from tests.serve.servers import CliServer

LONG = "a-folder-whose-name-alone-is-longer-than-half-of-an-eighty-column-terminal"


def _shipyard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        timeout=120,
        check=False,
    )


def test_a_message_with_a_long_path_is_one_line(iris: Settings, tmp_path: Path) -> None:
    archive = tmp_path / LONG / LONG / "iris-1.tar.gz"
    archive.parent.mkdir(parents=True)

    completed = _shipyard("models", "export", "iris:1", "-o", str(archive))

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"exported iris:1 to {archive}\n"


def test_a_table_cell_longer_than_80_columns_is_not_folded(iris: Settings, tmp_path: Path) -> None:
    completed = _shipyard("models", "show", "iris:1")

    assert completed.returncode == 0, completed.stderr
    [row] = [line for line in completed.stdout.splitlines() if "sha256:" in line]
    assert len(row) > 80 and "sha256:" in row  # the 71-character digest sits whole in its cell


def test_the_server_start_line_is_one_line_with_the_url(iris: Settings, tmp_path: Path) -> None:
    with Registry.from_settings(iris) as registry:
        folder = shutil.copytree(registry.fetch("iris:1"), tmp_path / LONG / "iris")
    log = tmp_path / "serve.log"

    with CliServer([str(folder)], {"COLUMNS": "80"}, log) as server:
        deadline = time.monotonic() + 60
        while "Uvicorn running on" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        server.terminate()

    lines = log.read_text().splitlines()
    [line] = [line for line in lines if line.startswith("serving ")]
    assert line == f"serving model folder {folder} (version 1) on {server.url} with 1 worker(s)"
    running = f"Uvicorn running on {server.url} (Press CTRL+C to quit)"
    assert any(line.endswith(running) for line in lines)  # uvicorn's log line, whole


def test_at_a_narrow_terminal_a_message_is_left_for_the_terminal_to_wrap(
    iris: Settings, tmp_path: Path
) -> None:
    """Rich inserts no line break of its own, so the terminal copies the line whole."""
    archive = tmp_path / LONG / "iris-1.tar.gz"
    archive.parent.mkdir(parents=True)
    controller, terminal = os.openpty()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "shipyard", "models", "export", "iris:1", "-o", str(archive)],
            stdout=terminal,
            stderr=subprocess.PIPE,
            env={**os.environ, "COLUMNS": "40", "TERM": "dumb"},
            timeout=120,
            check=False,
        )
        os.close(terminal)
        written = b""
        while chunk := _read(controller):
            written += chunk
    finally:
        os.close(controller)

    assert completed.returncode == 0, completed.stderr
    assert f"exported iris:1 to {archive}\r\n".encode() in written


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the terminal's other end is closed and everything was read
        return b""
