"""The few HTTP values the app is made of: ``Request``, ``Response``, ``Route`` and the router.

Deliberately small (no framework in the hot path): a request is the ASGI scope plus a lazily read
body with a size limit; a response is a status, bytes and headers; routes are declared with
``{param}`` placeholders and matched by one dict lookup (static paths) or a short regex scan.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from shipyard.errors import ShipyardError

__all__ = [
    "JSON_TYPE",
    "SMALL_BODY_BYTES",
    "BodyTooLargeError",
    "Endpoint",
    "Method",
    "ReadDeadlines",
    "Request",
    "Response",
    "Route",
    "Router",
    "json_response",
]

Method = Literal["GET", "POST"]
JSON_TYPE = b"application/json"
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
SMALL_BODY_BYTES = 64 * 1024
"""The body limit of GET routes and of paths no route serves: they read no body."""


@dataclass(frozen=True, slots=True)
class ReadDeadlines:
    """How slowly a client may send (the native protocol drops slower ones with a 408).

    The request line and headers must arrive within ``header_timeout_s`` of the request's first
    byte; after them, every ``window_s`` without the whole body must bring at least
    ``min_body_rate * window_s`` bytes (0 turns the floor off).
    """

    header_timeout_s: float = 10.0
    min_body_rate: int = 1024
    window_s: float = 5.0


class BodyTooLargeError(ShipyardError):
    """The request body is larger than the server accepts."""


class Request:
    """One HTTP request: method, path, headers (lower-case bytes), path params and body.

    The body is either given whole (the native protocol reads it before dispatch; ``oversize``
    is the size it reached when it was over the limit and was dropped) or read lazily from an
    ASGI ``receive``.
    """

    __slots__ = (
        "_body",
        "_oversize",
        "_receive",
        "alone",
        "headers",
        "max_body",
        "method",
        "params",
        "path",
        "request_id",
        "route",
        "wrong_method",
    )

    def __init__(
        self,
        method: str,
        path: str,
        headers: dict[bytes, bytes],
        max_body: int,
        *,
        body: bytes | None = None,
        receive: Callable[[], Awaitable[Any]] | None = None,
        oversize: int = 0,
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.params: dict[str, str] = {}
        self.route: Route | None = None
        self.request_id = ""
        self.wrong_method = False
        self.alone = False  # no other request is being answered in this process (the server says)
        self._receive = receive
        self.max_body = max_body
        self._body = body
        self._oversize = oversize

    def set_body(self, body: bytes) -> None:
        """The whole body, read by the server before dispatch."""
        self._body = body

    def set_oversize(self, size: int) -> None:
        """The body reached ``size`` bytes, over the limit, and was dropped: answer 413."""
        self._oversize = size

    @classmethod
    def from_asgi(
        cls, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], max_body: int
    ) -> Request:
        """A request whose body is read from ASGI ``receive`` when the endpoint asks for it."""
        return cls(
            scope["method"], scope["path"], dict(scope["headers"]), max_body, receive=receive
        )

    @property
    def oversize(self) -> int:
        """The size the body reached over the limit before it was dropped (0: it was not)."""
        return self._oversize

    async def body(self) -> bytes:
        """The whole body; raises ``BodyTooLargeError`` past the configured limit."""
        if self._oversize:
            raise BodyTooLargeError(self.too_large(self._oversize))
        if self._body is not None:
            return self._body
        if self._receive is None:
            return b""
        declared = self.headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise BodyTooLargeError(self.too_large(int(declared)))
        message = await self._receive()
        body: bytes = message.get("body", b"")
        if message.get("more_body", False):
            chunks = [body]
            size = len(body)
            while message.get("more_body", False):
                message = await self._receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    raise BodyTooLargeError(self.too_large(size))
                chunks.append(chunk)
            body = b"".join(chunks)
        if len(body) > self.max_body:
            raise BodyTooLargeError(self.too_large(len(body)))
        self._body = body
        return body

    def too_large(self, size: int) -> str:
        return (
            f"request body of {size} bytes is over the limit of {self.max_body} bytes: send "
            "fewer rows per request or raise --max-body-bytes"
        )


@dataclass(slots=True)
class Response:
    """Status, body bytes, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: bytes = JSON_TYPE
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response (numpy arrays are written natively)."""
    return Response(status, orjson.dumps(data, option=_OPTIONS))


Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    """One declared route; ``path`` may hold ``{name}`` placeholders; ``public`` skips auth.

    ``max_body`` is the largest body the route reads: None for the server's limit on a POST and
    ``SMALL_BODY_BYTES`` on a GET.
    """

    method: Method
    path: str
    endpoint: Endpoint
    public: bool = False
    max_body: int | None = None

    def body_limit(self, server_limit: int) -> int:
        if self.max_body is not None:
            return self.max_body
        return server_limit if self.method == "POST" else SMALL_BODY_BYTES


class Router:
    """Finds the route for a method and path; static paths cost one dict lookup."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        self._dynamic: list[tuple[re.Pattern[str], Route]] = []
        self._paths: set[str] = set()
        for route in routes:
            if "{" in route.path:
                pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path)
                self._dynamic.append((re.compile(pattern + "$"), route))
            else:
                self._static[(route.method, route.path)] = route
            self._paths.add(route.path)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route, its path params, and whether the path exists for another method.

        HEAD finds the GET route: the server sends its headers without the body.
        """
        if method == "HEAD":
            method = "GET"
        route = self._static.get((method, path))
        if route is not None:
            return route, {}, False
        other_method = False
        for pattern, candidate in self._dynamic:
            found = pattern.match(path)
            if found is not None:
                if candidate.method == method:
                    return candidate, found.groupdict(), False
                other_method = True
        return None, {}, other_method or path in self._paths
