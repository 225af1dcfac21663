"""The HTTP/1.1 protocol ``shipyard serve`` runs, spoken to over raw sockets on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pandas as pd
import pytest

from shipyard.serve import ServeConfig, StaticSource, create_app
from shipyard.serve.http import Request, Response
from shipyard.serve.protocol import MAX_HEAD_BYTES
from tests.serve.conftest import tabular_model
from tests.serve.servers import RawClient, ThreadServer

LIMIT = 2048
CHUNKED_POST = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"


def _sum(frame: pd.DataFrame) -> object:
    return (frame["a"] + frame["b"]).to_numpy()


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadServer]:
    config = ServeConfig(max_body_bytes=LIMIT, prediction_log=None)
    app = create_app(StaticSource(tabular_model(_sum), name="adder"), config)
    with ThreadServer(app, timeout_keep_alive=1) as running:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait for the model to load
            client = RawClient(running.port)
            client.send(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            ready = client.response()[0] == 200
            client.close()
            if ready:
                break
            time.sleep(0.05)
        yield running


@pytest.fixture
def client(server: ThreadServer) -> Iterator[RawClient]:
    raw = RawClient(server.port)
    yield raw
    raw.close()


def post(body: object, *, extra: str = "", version: str = "1.1") -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST /predict HTTP/{version}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{extra}\r\n"
    )
    return head.encode() + data


def predictions(body: bytes) -> list[float]:
    result: list[float] = json.loads(body)["predictions"]
    return result


def test_keep_alive_answers_several_requests_on_one_connection(client: RawClient) -> None:
    for a in (1.0, 2.0, 3.0):
        client.send(post([{"a": a, "b": 10.0}]))
        status, headers, body = client.response()
        assert status == 200
        assert predictions(body) == [a + 10.0]
        assert headers["content-type"] == "application/json"
        assert "date" in headers
        assert "connection" not in headers


def test_pipelined_requests_are_answered_in_order(client: RawClient) -> None:
    client.send(
        b"".join(
            post([{"a": float(i), "b": 0.0}], extra=f"X-Request-ID: r{i}\r\n") for i in range(5)
        )
    )
    for i in range(5):
        status, headers, body = client.response()
        assert (status, headers["x-request-id"], predictions(body)) == (200, f"r{i}", [float(i)])


def test_connection_close_is_honoured(client: RawClient) -> None:
    client.send(post([{"a": 1.0, "b": 1.0}], extra="Connection: close\r\n"))
    status, headers, _ = client.response()
    assert (status, headers["connection"]) == (200, "close")
    assert client.is_closed()


def test_http_1_0_gets_its_answer_then_the_connection_closes(client: RawClient) -> None:
    client.send(post([{"a": 1.0, "b": 2.0}], version="1.0"))
    status, _, body = client.response()
    assert (status, predictions(body)) == (200, [3.0])
    assert client.is_closed()


def test_expect_100_continue_is_answered_before_the_body(client: RawClient) -> None:
    data = json.dumps([{"a": 4.0, "b": 4.0}]).encode()
    client.send(
        b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
        + f"Content-Length: {len(data)}\r\n\r\n".encode()
    )
    assert client.response(head_only=True)[0] == 100
    client.send(data)
    status, _, body = client.response()
    assert (status, predictions(body)) == (200, [8.0])


def test_chunked_body_is_read(client: RawClient) -> None:
    data = json.dumps([{"a": 5.0, "b": 1.0}]).encode()
    half = len(data) // 2
    chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (data[:half], data[half:]))
    client.send(CHUNKED_POST + chunks + b"0\r\n\r\n")
    status, _, body = client.response()
    assert (status, predictions(body)) == (200, [6.0])


def test_declared_oversize_body_is_413_without_reading_it(client: RawClient) -> None:
    client.send(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999\r\n\r\n")
    status, headers, body = client.response()
    assert (status, headers["connection"]) == (413, "close")
    assert "over the limit of 2048 bytes" in json.loads(body)["error"]
    assert client.is_closed()


def test_chunked_body_growing_past_the_limit_is_413(client: RawClient) -> None:
    chunk = b"x" * 1500
    one = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    client.send(CHUNKED_POST + one * 2)
    status, _, body = client.response()
    assert status == 413
    assert "request body of 3000 bytes" in json.loads(body)["error"]


def test_malformed_request_is_400_then_close(client: RawClient) -> None:
    client.send(b"BLAH\x00 / HTTP/1.1\r\n\r\n")
    status, headers, body = client.response()
    assert (status, headers["connection"]) == (400, "close")
    assert json.loads(body)["error"].startswith("malformed HTTP request")
    assert client.is_closed()


def test_a_huge_head_is_431(client: RawClient) -> None:
    client.send(
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 1)
    )
    client.send(b"\r\n\r\n")
    status, _, body = client.response()
    assert status == 431
    assert str(MAX_HEAD_BYTES) in json.loads(body)["error"]


def test_head_gets_headers_only_and_the_connection_stays_usable(client: RawClient) -> None:
    client.send(b"HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, headers, _ = client.response(head_only=True)
    assert status == 200
    assert int(headers["content-length"]) > 0
    client.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert client.response()[0] == 200  # nothing of a HEAD body was left on the wire


def test_an_error_escaping_the_app_is_500_and_the_connection_stays_usable(
    server: ThreadServer, client: RawClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = server.server.config.loaded_app
    answer = app.handle

    async def handle(request: Request) -> Response:
        if request.path == "/broken":
            raise RuntimeError("a bug below the error middleware")
        return await answer(request)

    monkeypatch.setattr(app, "handle", handle)
    client.send(b"GET /broken HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, _, body = client.response()
    assert (status, json.loads(body)) == (500, {"error": "internal server error"})
    client.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert client.response()[0] == 200


def test_percent_encoded_path_is_decoded(client: RawClient) -> None:
    client.send(b"GET /v2/models/%61dder HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, _, body = client.response()
    assert (status, json.loads(body)["name"]) == (200, "adder")


def test_idle_connection_is_closed_after_the_keep_alive_timeout(client: RawClient) -> None:
    client.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert client.response()[0] == 200
    client.sock.settimeout(5)
    started = time.monotonic()
    assert client.is_closed()
    assert 0.5 < time.monotonic() - started < 4
