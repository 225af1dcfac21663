"""What a careless or hostile client finds on ``shipyard serve`` (issue 21), on a real server.

Slow clients (slowloris) are dropped while others are served, bodies are refused early by each
route's limit, a web page's simple requests and rebound DNS names are refused, and malformed V2
``parameters`` are a 400, not a 500.
"""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from shipyard.serve import ServeConfig, StaticSource, create_app
from shipyard.serve.guards import AllowedHosts, exposure_warning, host_name
from shipyard.serve.http import SMALL_BODY_BYTES
from tests.serve.conftest import tabular_model
from tests.serve.servers import RawClient, ThreadServer, wait_until_ready

LIMIT = 4096
HEAD_TIMEOUT_S = 2.0  # shortened for the test; the body floor keeps its defaults (1 KiB/s, 5 s)


def _sum(frame: pd.DataFrame) -> object:
    return (frame["a"] + frame["b"]).to_numpy()


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadServer]:
    config = ServeConfig(max_body_bytes=LIMIT, header_timeout_s=HEAD_TIMEOUT_S)
    app = create_app(StaticSource(tabular_model(_sum), name="adder"), config)
    with ThreadServer(app) as running:
        wait_until_ready(running.url)
        yield running


@pytest.fixture
def client(server: ThreadServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as http:
        yield http


ROW = [{"a": 1.0, "b": 2.0}]
V2 = {"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1.0]},
                 {"name": "b", "shape": [1], "datatype": "FP64", "data": [2.0]}]}  # fmt: skip


# -- slow clients ----------------------------------------------------------------------------
def _trickle(port: int, head: bytes, body: bytes, pause_s: float, out: dict[str, object]) -> None:
    """Send ``head`` whole, then ``body`` one byte per ``pause_s`` until the server answers."""
    raw = RawClient(port)
    raw.sock.settimeout(15)
    started = time.monotonic()
    raw.send(head)
    for byte in body:
        if select.select([raw.sock], [], [], pause_s)[0]:
            break  # the server answered (or closed): stop sending
        raw.send(bytes([byte]))
    out["status"] = raw.response()[0]
    out["after_s"] = time.monotonic() - started
    out["closed"] = raw.is_closed()
    raw.close()


def test_slowloris_clients_are_dropped_while_others_are_served(
    server: ThreadServer, client: httpx.Client
) -> None:
    body = json.dumps(ROW).encode()
    head = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    full = head + f"Content-Length: {len(body)}\r\n\r\n".encode()
    slow_head: dict[str, object] = {}
    slow_body: dict[str, object] = {}
    threads = [  # one trickles its headers, one its body (1 byte every 5 s, as in the finding)
        threading.Thread(
            target=_trickle, args=(server.port, b"POST /pre", b"dict HTTP/1.1", 0.5, slow_head)
        ),
        threading.Thread(target=_trickle, args=(server.port, full, body, 5.0, slow_body)),
    ]
    for thread in threads:
        thread.start()
    served = 0
    while any(t.is_alive() for t in threads):
        assert client.post("/predict", json=ROW).json()["predictions"] == [3.0]
        served += 1
        time.sleep(0.05)
    assert slow_head["status"] == 408
    assert slow_head["closed"]
    assert HEAD_TIMEOUT_S <= float(slow_head["after_s"]) < HEAD_TIMEOUT_S + 2  # type: ignore[arg-type]
    assert slow_body["status"] == 408
    assert 5.0 <= float(slow_body["after_s"]) < 12.0  # type: ignore[arg-type]
    assert served > 20


def test_a_body_that_stalls_after_a_burst_is_dropped_with_its_buffer(server: ThreadServer) -> None:
    raw = RawClient(server.port)
    raw.sock.settimeout(15)
    raw.send(
        b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4000\r\n\r\n" + b"[" * 3000
    )
    started = time.monotonic()
    status, _, body = raw.response()
    assert status == 408
    assert "under the floor of 1024 bytes/s" in json.loads(body)["error"]
    assert time.monotonic() - started < 11.0
    assert raw.is_closed()
    raw.close()


# -- body limits per route --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("head", "limit"),
    [
        (b"POST /predict HTTP/1.1\r\nContent-Length: 5000\r\n", LIMIT),
        (b"GET /healthz HTTP/1.1\r\nContent-Length: 70000\r\n", SMALL_BODY_BYTES),
        (b"POST /nowhere HTTP/1.1\r\nContent-Length: 70000\r\n", SMALL_BODY_BYTES),
    ],
)
def test_a_declared_body_over_the_routes_limit_is_refused_before_it_is_sent(
    server: ThreadServer, head: bytes, limit: int
) -> None:
    raw = RawClient(server.port)
    raw.send(head + b"Host: 127.0.0.1\r\n\r\n")  # no body follows: the answer must not wait
    status, headers, body = raw.response()
    assert (status, headers["connection"]) == (413, "close")
    assert f"over the limit of {limit} bytes" in json.loads(body)["error"]
    raw.close()


def test_a_chunked_body_is_cut_off_at_the_routes_limit(server: ThreadServer) -> None:
    raw = RawClient(server.port)
    raw.send(b"POST /v2/models/adder/infer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
    chunk = b"x" * 1000
    for _ in range(5):
        raw.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    status, _, body = raw.response()
    assert status == 413
    assert "request body of 5000 bytes" in json.loads(body)["error"]
    raw.close()


# -- browsers: simple requests and DNS rebinding ----------------------------------------------
@pytest.mark.parametrize("path", ["/predict", "/v2/models/adder/infer"])
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_json_endpoints_refuse_simple_request_content_types_with_415(
    client: httpx.Client, path: str, content_type: str
) -> None:
    body = json.dumps(ROW if path == "/predict" else V2)
    response = client.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert "send the body as application/json" in response.json()["error"]


@pytest.mark.parametrize("headers", [{"Content-Type": "application/json"}, {}])
def test_json_and_untyped_bodies_are_served(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.post("/predict", content=json.dumps(ROW), headers=headers)
    assert response.json()["predictions"] == [3.0]


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8080", "127.0.0.1.nip.io"])
def test_a_rebound_host_name_is_refused_with_421(client: httpx.Client, host: str) -> None:
    response = client.post("/predict", json=ROW, headers={"Host": host})
    assert response.status_code == 421
    assert "SHIPYARD_SERVE_ALLOWED_HOSTS" in response.json()["error"]
    assert client.get("/metrics", headers={"Host": host}).status_code == 421
    assert client.get("/healthz", headers={"Host": host}).status_code == 200  # probes stay open


@pytest.mark.parametrize("host", ["127.0.0.1:9", "localhost", "app.localhost:80", "[::1]:80",
                                  "10.1.2.3"])  # fmt: skip
def test_ip_and_loopback_host_names_are_served(client: httpx.Client, host: str) -> None:
    assert client.post("/predict", json=ROW, headers={"Host": host}).status_code == 200


def test_allowed_hosts_extend_the_list_and_an_api_key_replaces_it(tmp_path: Path) -> None:
    allowed = AllowedHosts.bound_to("models.internal", ["api.example.org", ".corp.example"])
    for name in ("models.internal", "api.example.org", "corp.example", "a.corp.example"):
        assert allowed.allows(name)
    assert not allowed.allows("evil.example.org")
    assert not allowed.allows("evilcorp.example")
    assert AllowedHosts.bound_to("0.0.0.0", ["*"]).allows("anything.example")  # noqa: S104
    assert host_name(b"Example.ORG:443") == "example.org"
    keys = tmp_path / "keys"
    keys.write_text("k1\n")
    app = create_app(tabular_model(_sum), ServeConfig(api_key_file=keys), name="adder")
    with ThreadServer(app) as running, httpx.Client(base_url=running.url) as http:
        wait_until_ready(running.url)
        headers = {"Host": "models.example", "Authorization": "Bearer k1"}
        assert http.post("/predict", json=ROW, headers=headers).status_code == 200


def test_binding_beyond_loopback_without_an_api_key_warns() -> None:
    warning = exposure_warning("0.0.0.0", has_api_key=False)  # noqa: S104
    assert warning is not None
    assert "--api-key-file" in warning
    assert exposure_warning("0.0.0.0", has_api_key=True) is None  # noqa: S104
    for loopback in ("127.0.0.1", "localhost", "::1", "[::1]"):
        assert exposure_warning(loopback, has_api_key=False) is None


# -- V2 parameters -----------------------------------------------------------------------------
@pytest.mark.parametrize("parameters", ["x", [1], 5])
@pytest.mark.parametrize("where", ["request", "input", "output"])
def test_v2_infer_with_non_object_parameters_is_400(
    client: httpx.Client, parameters: object, where: str
) -> None:
    payload: dict[str, object] = json.loads(json.dumps(V2))
    if where == "request":
        payload["parameters"] = parameters
    elif where == "input":
        payload["inputs"][0]["parameters"] = parameters  # type: ignore[index]
    else:
        payload["outputs"] = [{"name": "predictions", "parameters": parameters}]
    response = client.post("/v2/models/adder/infer", json=payload)
    assert response.status_code == 400
    assert '"parameters" of' in response.json()["error"]
