"""The web core on a real uvicorn in a thread: error shapes, body limits, timing, access log."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shipyard.errors import AddressInUseError, ConflictError, NotFoundError, StoreError
from shipyard.web.bodies import read_body, read_json_object
from shipyard.web.errors import exception_handlers
from shipyard.web.logs import ACCESS_LOGGER, log_config
from shipyard.web.middleware import AccessLog, ServerTiming
from shipyard.web.responses import JSONBody
from shipyard.web.running import BackgroundServer


async def echo(request: Request) -> Response:
    return JSONBody(await read_json_object(request))


async def small(request: Request) -> Response:
    return JSONBody({"size": len(await read_body(request, limit=10))})


async def missing(request: Request) -> Response:
    raise NotFoundError("no such thing: list them with `shipyard things`")


async def taken(request: Request) -> Response:
    raise ConflictError("the name is taken")


async def store_down(request: Request) -> Response:
    raise StoreError("the database is locked")


async def broken(request: Request) -> Response:
    raise RuntimeError("a bug with a secret in it")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    routes = [
        Route("/echo", echo, methods=["POST"]),
        Route("/small", small, methods=["POST"]),
        Route("/missing", missing, methods=["GET"]),
        Route("/taken", taken, methods=["GET"]),
        Route("/store", store_down, methods=["GET"]),
        Route("/broken", broken, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(AccessLog), Middleware(ServerTiming)],
        exception_handlers=exception_handlers(),
    )
    server = BackgroundServer(app, "127.0.0.1", 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.close()


def test_json_objects_round_trip_and_nan_is_tolerated(url: str) -> None:
    assert httpx.post(f"{url}/echo", json={"a": [1, 2]}).json() == {"a": [1, 2]}
    response = httpx.post(f"{url}/echo", content=b'{"v": NaN, "w": -Infinity}')
    assert response.status_code == 200 and response.json() == {"v": None, "w": None}
    assert httpx.post(f"{url}/echo", content=b"").json() == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1, 2]", "must be a JSON object"),
        (b'{"a": ', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b'{"v": nan}', "not valid JSON"),
    ],
    ids=["array", "truncated", "not-utf8", "deep", "lower-nan"],
)
def test_bad_json_is_400_in_shipyards_shape(url: str, body: bytes, message: str) -> None:
    response = httpx.post(f"{url}/echo", content=body)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["error"]


def test_a_body_over_the_limit_is_413_declared_or_streamed(url: str) -> None:
    assert httpx.post(f"{url}/small", content=b"x" * 10).json() == {"size": 10}
    declared = httpx.post(f"{url}/small", content=b"x" * 11)
    assert declared.status_code == 413 and declared.json()["code"] == "REQUEST_TOO_LARGE"
    streamed = httpx.post(f"{url}/small", content=iter([b"x" * 6, b"x" * 6]))  # chunked
    assert streamed.status_code == 413 and "over" in streamed.json()["error"]


def test_unknown_path_is_404_and_wrong_method_405_with_allow(url: str) -> None:
    unknown = httpx.get(f"{url}/nowhere")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no endpoint GET /nowhere", "code": "ENDPOINT_NOT_FOUND"}
    wrong = httpx.get(f"{url}/echo")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json()["code"] == "ENDPOINT_NOT_FOUND"


def test_shipyard_errors_map_to_their_status_and_code(url: str) -> None:
    found = httpx.get(f"{url}/missing")
    assert found.status_code == 404 and found.json()["code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "shipyard things" in found.json()["error"]
    conflict = httpx.get(f"{url}/taken")
    assert conflict.status_code == 400 and conflict.json()["code"] == "RESOURCE_ALREADY_EXISTS"
    assert httpx.get(f"{url}/store").status_code == 500


def test_an_unexpected_exception_is_500_without_its_message(url: str) -> None:
    response = httpx.get(f"{url}/broken")
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert "secret" not in response.text


def test_every_response_carries_server_timing(url: str) -> None:
    for response in (httpx.post(f"{url}/echo", json={}), httpx.get(f"{url}/nowhere")):
        assert response.headers["server-timing"].startswith("app;dur=")


def test_the_access_log_has_method_path_status_and_ms(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        httpx.get(f"{url}/missing", params={"q": "not-logged"})
        httpx.get(f"{url}/broken")
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(lines) == 2
    assert lines[0].startswith("GET /missing 404 ") and lines[0].endswith("ms")
    assert lines[1].startswith("GET /broken 500 ")
    assert "not-logged" not in lines[0]


def test_the_access_log_is_off_below_info(url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=ACCESS_LOGGER):
        httpx.get(f"{url}/missing")
    assert [r for r in caplog.records if r.name == ACCESS_LOGGER] == []


def test_log_config_sets_the_access_level() -> None:
    assert log_config(access_log=True)["loggers"][ACCESS_LOGGER]["level"] == "INFO"
    assert log_config(access_log=False)["loggers"][ACCESS_LOGGER]["level"] == "WARNING"


def test_a_taken_port_is_address_in_use() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken_socket:
        port = taken_socket.getsockname()[1]
        with pytest.raises(AddressInUseError, match=f"127.0.0.1:{port}"):
            BackgroundServer(Starlette(), "127.0.0.1", port)


def test_close_stops_serving() -> None:
    server = BackgroundServer(Starlette(), "127.0.0.1", 0)
    server.start()
    url = f"http://127.0.0.1:{server.port}/"
    assert httpx.get(url).status_code == 404
    server.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
