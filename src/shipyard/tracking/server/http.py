"""The few HTTP pieces the tracking server is made of, straight on ASGI (no framework).

A ``Request`` is the scope's method, path and query plus a body read on demand (whole, or
streamed into a file for artifact uploads); a ``Response`` is a status, bytes (or a file) and
headers. Routes match ``METHOD path`` exactly, or a path prefix for the artifact routes.

The serving stage has its own tuned HTTP core; tracking sits left of it in the import order and
needs much less (no batching, no custom protocol), so it keeps this small one of its own.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import parse_qs

import orjson

from shipyard.errors import InvalidInputError

__all__ = ["Method", "Receive", "Request", "Response", "Route", "Send", "json_response"]

Method = Literal["GET", "POST", "PUT", "DELETE", "PATCH"]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_MAX_JSON_BODY = 64 * 1024 * 1024


class Request:
    """One request; ``body()`` / ``json()`` read it, ``stream_to()`` copies it into a file."""

    __slots__ = ("_body", "_receive", "headers", "method", "path", "query", "suffix")

    def __init__(self, scope: dict[str, Any], receive: Receive) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.headers: dict[bytes, bytes] = dict(scope["headers"])
        raw_query = scope.get("query_string", b"").decode("latin-1")
        self.query = {key: values[-1] for key, values in parse_qs(raw_query).items()}
        self.suffix = ""
        self._receive = receive
        self._body: bytes | None = None

    async def body(self, limit: int = _MAX_JSON_BODY) -> bytes:
        if self._body is not None:
            return self._body
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await self._receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise InvalidInputError(f"request body over {limit} bytes: send less per request")
            chunks.append(chunk)
            more = message.get("more_body", False)
        self._body = b"".join(chunks)
        return self._body

    async def json(self) -> dict[str, Any]:
        """The JSON object of the body (GET endpoints take their arguments from the query)."""
        if self.method == "GET":
            return dict(self.query)
        raw = await self.body()
        if not raw.strip():
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = _loads_with_constants(raw)
        if not isinstance(data, dict):
            raise InvalidInputError("the request body must be a JSON object")
        return data

    async def stream_to(self, target: BinaryIO) -> int:
        """Copy the body into ``target`` chunk by chunk; returns its size."""
        size = 0
        more = True
        while more:
            message = await self._receive()
            chunk = message.get("body", b"")
            target.write(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        return size


def _loads_with_constants(raw: bytes) -> Any:
    """JSON that spells NaN or Infinity bare (Python's json does); orjson refuses those."""
    import json

    try:
        return json.loads(raw, parse_constant=lambda name: {"NaN": math.nan}.get(name, float(name)))
    except ValueError as exc:
        raise InvalidInputError(f"the request body is not valid JSON: {exc}") from exc


@dataclass(slots=True)
class Response:
    """A status, a body (bytes, or a file to send) and headers."""

    status: int
    body: bytes = b""
    content_type: bytes = b"application/json"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    file: Path | None = None
    remove_file: bool = False

    async def send(self, send: Send, extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
        headers = [(b"content-type", self.content_type), *self.headers, *extra]
        if self.file is None:
            headers.append((b"content-length", str(len(self.body)).encode()))
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            await send({"type": "http.response.body", "body": self.body})
            return
        headers.append((b"content-length", str(self.file.stat().st_size).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        try:
            with self.file.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            if self.remove_file:
                self.file.unlink(missing_ok=True)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(status, orjson.dumps(data))


Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    """``method path -> endpoint``; a ``prefix`` route also matches every path below ``path``."""

    method: Method
    path: str
    endpoint: Endpoint
    prefix: bool = False


class Router:
    """Exact routes by one dict lookup; prefix routes by a short scan."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._exact: dict[tuple[str, str], Route] = {}
        self._prefixed: list[Route] = []
        self._paths: set[str] = set()
        for route in routes:
            (self._prefixed if route.prefix else []).append(route)
            if not route.prefix:
                self._exact[(route.method, route.path)] = route
            self._paths.add(route.path)

    def match(self, request: Request) -> tuple[Route | None, bool]:
        """The route for the request (its ``suffix`` set for prefix routes), and whether the
        path exists for another method."""
        method = "GET" if request.method == "HEAD" else request.method
        route = self._exact.get((method, request.path))
        if route is not None:
            return route, False
        other = request.path in self._paths
        for candidate in self._prefixed:
            if request.path.startswith(candidate.path + "/"):
                if candidate.method == method:
                    request.suffix = request.path[len(candidate.path) + 1 :]
                    return candidate, False
                other = True
        return None, other
