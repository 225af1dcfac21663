"""``shipyard server``'s guards, on one real server (SQLite) started with tight options: the
upload limit."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.tracking.conftest import RunningServer, running_server

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def guarded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("guarded-home")


@pytest.fixture(scope="module")
def guarded_server(
    guarded_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    env = {"SHIPYARD_HOME": str(guarded_home), "SHIPYARD_USER": "tester"}
    log = tmp_path_factory.mktemp("guarded-log") / "server.log"
    with running_server(env, log, "--max-upload-mb", "1") as server:
        yield server


def _artifact_url(server: RunningServer) -> str:
    """Where a new run's ``blob.bin`` artifact goes."""
    created = httpx.post(f"{server.url}/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})
    run_id = created.json()["run"]["info"]["run_id"]
    return f"{server.url}{ARTIFACTS}/0/{run_id}/artifacts/blob-{uuid.uuid4().hex[:6]}.bin"


def test_upload_within_the_limit_is_stored(guarded_server: RunningServer) -> None:
    url = _artifact_url(guarded_server)
    assert httpx.put(url, content=b"x" * 1024).status_code == 200
    assert httpx.get(url).content == b"x" * 1024


def test_upload_declared_over_the_limit_is_413_before_it_is_sent(
    guarded_server: RunningServer, guarded_home: Path
) -> None:
    host, port = guarded_server.url.removeprefix("http://").split(":")
    path = _artifact_url(guarded_server).removeprefix(guarded_server.url)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + f"Content-Length: {2**20 + 1}\r\n\r\n".encode()
        )
        reply = b""
        while b"1 MiB" not in reply and (chunk := sock.recv(65536)):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413") and b"1 MiB" in reply
    assert not list((guarded_home / "tmp").glob("upload-*"))


def test_chunked_upload_is_refused_once_it_passes_the_limit(
    guarded_server: RunningServer, guarded_home: Path
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):  # 2.5 MiB
            yield b"y" * 65536

    url = _artifact_url(guarded_server)
    response = httpx.put(url, content=chunks())
    assert response.status_code == 413
    assert response.json()["error_code"] == "REQUEST_TOO_LARGE"
    assert httpx.get(url).status_code == 404
    assert not list((guarded_home / "tmp").glob("upload-*"))
