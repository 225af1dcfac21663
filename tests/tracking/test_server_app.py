"""``shipyard server``'s HTTP edge: the access log, MLflow's error shape, HEAD, body limits."""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.tracking.conftest import RunningServer, running_server

ACCESS_LINE = r"INFO: +{method} {path} {status} \d+\.\dms$"


def _wait_for_line(log: Path, pattern: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if re.search(pattern, line):
                return line
        time.sleep(0.05)
    raise AssertionError(f"no line matching {pattern!r} in:\n{log.read_text()[-2000:]}")


def test_each_request_is_one_access_log_line(tracking_server: RunningServer) -> None:
    run_id = uuid.uuid4().hex
    path = f"/api/shipyard/v1/runs/{run_id}"
    assert httpx.get(tracking_server.url + path, params={"secret": "x"}).status_code == 404
    expected = ACCESS_LINE.format(method="GET", path=path, status=404)
    line = _wait_for_line(tracking_server.log, expected)
    assert "secret" not in line
    batch = "/api/2.0/mlflow/runs/log-batch"
    httpx.post(tracking_server.url + batch, json={"run_id": run_id})
    _wait_for_line(tracking_server.log, ACCESS_LINE.format(method="POST", path=batch, status=404))
    assert sum(run_id in line for line in tracking_server.log.read_text().splitlines()) == 1


def test_quiet_server_writes_no_access_log(tmp_path: Path) -> None:
    env = {"SHIPYARD_HOME": str(tmp_path / "home"), "SHIPYARD_USER": "tester"}
    with running_server(env, tmp_path / "server.log", "--quiet") as server:
        for _ in range(3):
            assert httpx.get(f"{server.url}/api/shipyard/v1/experiments").status_code == 200
        time.sleep(0.3)
        log = server.log.read_text()
    assert "Application startup complete" in log
    assert "/api/shipyard/v1/experiments" not in log and "/health" not in log


@pytest.mark.parametrize("prefix", ["/api/2.0/mlflow", "/api/3.0/mlflow"])
def test_unknown_mlflow_endpoints_answer_in_mlflows_shape(
    tracking_server: RunningServer, prefix: str
) -> None:
    response = httpx.get(f"{tracking_server.url}{prefix}/no-such-call")
    assert response.status_code == 404
    assert response.json() == {
        "error_code": "ENDPOINT_NOT_FOUND",
        "message": f"no endpoint GET {prefix}/no-such-call",
    }


def test_wrong_method_is_405_and_shipyards_own_api_keeps_its_shape(
    tracking_server: RunningServer,
) -> None:
    wrong = httpx.get(f"{tracking_server.url}/api/2.0/mlflow/runs/log-batch")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    own = httpx.post(f"{tracking_server.url}/api/shipyard/v1/experiments")
    assert own.status_code == 405 and own.json()["code"] == "ENDPOINT_NOT_FOUND"
    slash = httpx.get(f"{tracking_server.url}/api/shipyard/v1/experiments/")
    assert slash.status_code == 404  # no redirect to the path without the slash


def test_head_answers_get_routes_without_a_body(tracking_server: RunningServer) -> None:
    response = httpx.head(f"{tracking_server.url}/api/shipyard/v1/experiments")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["server-timing"].startswith("app;dur=")


@pytest.mark.parametrize(
    ("path", "declared", "limit"),
    [("runs/log-batch", 16 * 2**20 + 1, b"16 MiB"), ("runs/create", 2**20 + 1, b"1 MiB")],
)
def test_a_body_declared_over_its_endpoints_limit_is_413_before_it_is_read(
    tracking_server: RunningServer, path: str, declared: int, limit: bytes
) -> None:
    host, port = tracking_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST /api/2.0/mlflow/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + f"Content-Length: {declared}\r\n\r\n{{".encode()
        )
        reply = b""
        while limit not in reply and (chunk := sock.recv(65536)):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413")
    assert b'"error_code":"REQUEST_TOO_LARGE"' in reply


def test_a_chunked_body_is_refused_once_it_passes_the_limit(
    tracking_server: RunningServer,
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(2048):  # 2 MiB in all, past runs/create's 1 MiB
            yield b"x" * 1024

    response = httpx.post(
        f"{tracking_server.url}/api/2.0/mlflow/experiments/create",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error_code"] == "REQUEST_TOO_LARGE"


def test_bad_query_values_are_400(tracking_server: RunningServer) -> None:
    response = httpx.get(
        f"{tracking_server.url}/api/shipyard/v1/runs", params={"max_results": "lots"}
    )
    assert response.status_code == 400 and "max_results" in response.json()["error"]
    history = httpx.get(
        f"{tracking_server.url}/api/2.0/mlflow/metrics/get-history", params={"run_id": "x"}
    )
    assert history.status_code == 400
    assert history.json()["error_code"] == "INVALID_PARAMETER_VALUE"
