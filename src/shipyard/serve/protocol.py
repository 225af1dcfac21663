"""``shipyard serve``'s HTTP/1.1 protocol: requests go straight to the app, with no ASGI between.

uvicorn keeps what it does well (sockets, ``--workers``, signals, lifespan, graceful shutdown)
and runs this class as its ``http`` protocol. Per request it parses with httptools, builds a
``Request`` holding the whole body, awaits ``App.handle`` and writes the status line, headers and
body in one ``write``. Against uvicorn's own protocol and ASGI messages this took about a third
off the event loop's time per request (see docs/benchmarks/serve.md), and the event loop's time
is what the model's predict thread shares the GIL with.

HTTP/1.1 as clients use it: keep-alive with an idle timeout, pipelined requests answered in
order, Content-Length or chunked bodies, ``Expect: 100-continue``, per-route body limits (413,
then close: refused from Content-Length before the body is read, and counted as a chunked body
streams), a head size limit (431, then close), malformed requests (400, then close) and write
back-pressure. The app stays a plain ASGI app (``create_app``) for embedding in other servers.

Slow clients (slowloris) are dropped with a 408: the request line and headers must arrive
within ``ReadDeadlines.header_timeout_s`` of the request's first byte, and a body must keep up
``min_body_rate`` over every ``window_s``. A stalled body is dropped (and its buffer freed) one
window after it stalls, however much it had sent. No timer is armed for a request that arrives
whole in one read, which is nearly every request: the hot path stays as it was.

    uvicorn.run(app, http=HttpProtocol)   # app: a shipyard.serve.App
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import httptools
import uvicorn
from uvicorn.server import ServerState

from shipyard.serve.app import App, response_headers
from shipyard.serve.http import Request, Response, json_response

__all__ = ["MAX_HEAD_BYTES", "HttpProtocol"]

MAX_HEAD_BYTES = 64 * 1024
logger = logging.getLogger("shipyard.serve")
SHUTDOWN_GRACE_S = 1.0  # an idle connection's wait for a request already on its way
_MAX_PIPELINED = 16  # parsed requests waiting on one connection before it stops reading
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus}


class _HeadTooLargeError(Exception):
    """Raised inside a parser callback; httptools re-raises it as a parser error."""


class HttpProtocol(asyncio.Protocol):
    """One client connection: parse requests, answer each in order with ``App.handle``."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        app = config.loaded_app
        if not isinstance(app, App):
            raise TypeError(
                f"HttpProtocol serves a shipyard App directly, not a {type(app).__name__}: run "
                "uvicorn with proxy_headers=False and no other ASGI middleware around the app"
            )
        self._app = app
        self._server = server_state
        self._loop = _loop or asyncio.get_running_loop()
        self._idle_timeout = float(config.timeout_keep_alive)
        self._deadlines = app.deadlines
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        # Requests parsed but not answered yet; a Response is an error answered without the app.
        self._pending: deque[tuple[Request | Response, bool]] = deque()
        self._responding = False
        self._close_after = False  # set by shutdown, an upgrade request or a rejected message
        self._ignore_input = False  # after a rejected message: nothing more is parsed
        self._reading_paused = False
        self._drained: asyncio.Future[None] | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._last_active = 0.0
        self._progress: asyncio.TimerHandle | None = None  # armed while a message is partial
        # The message being parsed.
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._chunks: list[bytes] = []
        self._request: Request | None = None  # made once the headers are in
        self._limit = 0
        self._size = 0
        self._head_size = 0
        self._dispatched = False
        self._in_message = False
        self._started = 0.0  # when the message's first byte arrived
        self._mark = (0.0, 0)  # (time, body bytes) at the start of the current rate window

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._transport = transport
        self._server.connections.add(self)  # type: ignore[arg-type]
        self._last_active = self._loop.time()
        self._idle = self._loop.call_later(self._idle_timeout, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._progress is not None:
            self._progress.cancel()
            self._progress = None
        self._transport = None
        self._ignore_input = True
        self._pending.clear()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._last_active = self._loop.time()
        if self._ignore_input:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._close_after = True  # answered as plain HTTP/1.1; no protocol switch
        except httptools.HttpParserError as exc:
            if isinstance(exc.__cause__ or exc.__context__, _HeadTooLargeError):
                self._reject(431, f"request line and headers are over {MAX_HEAD_BYTES} bytes")
            else:
                self._reject(400, f"malformed HTTP request: {exc}")
            return
        if self._in_message and self._progress is None and not self._ignore_input:
            self._progress = self._loop.call_later(self._next_check(), self._check_progress)

    def eof_received(self) -> bool | None:
        return None  # close once the queued responses are written, as uvicorn does

    def pause_writing(self) -> None:
        self._drained = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # -- uvicorn's server calls these -----------------------------------------------------
    def shutdown(self) -> None:
        """Graceful shutdown: the response being written, or else the next one, is the last.

        An idle keep-alive connection gets ``SHUTDOWN_GRACE_S`` for a request its client may
        have sent just as the server began to stop (a worker replaced after an alias move, a
        rolling update): that request is answered, with ``Connection: close``, not dropped.
        """
        self._close_after = True
        if self._responding or self._pending:
            self._ignore_input = True
        elif self._transport is not None:
            self._loop.call_later(SHUTDOWN_GRACE_S, self._close_if_idle)

    def _close_if_idle(self) -> None:
        if self._transport is not None and not (self._responding or self._pending):
            self._transport.close()

    # -- httptools callbacks --------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._chunks = []
        self._request = None
        self._size = 0
        self._head_size = 0
        self._dispatched = False
        self._in_message = True
        self._started = self._last_active

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value
        self._count_head(len(name) + len(value))

    def on_headers_complete(self) -> None:
        request = self._request = self._new_request()
        self._limit = self._app.route(request)
        self._mark = (self._last_active, 0)
        declared = self._headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self._limit:
            self._dispatch_oversize(int(declared))
        elif self._headers.get(b"expect", b"").lower() == b"100-continue" and self._transport:
            self._transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        if self._dispatched:
            return
        self._size += len(body)
        if self._size > self._limit:
            self._dispatch_oversize(self._size)
        else:
            self._chunks.append(body)

    def on_message_complete(self) -> None:
        self._in_message = False
        request = self._request
        if not self._dispatched and request is not None:
            chunks = self._chunks
            request.set_body(b"".join(chunks) if len(chunks) != 1 else chunks[0])
            self._chunks = []
            self._dispatch(request)

    # -- requests -------------------------------------------------------------------------
    def _count_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD_BYTES:
            raise _HeadTooLargeError

    def _new_request(self) -> Request:
        path = httptools.parse_url(self._url).path.decode("latin-1")
        return Request(
            self._parser.get_method().decode("ascii"),
            unquote(path) if "%" in path else path,
            self._headers,
            0,
        )

    def _dispatch_oversize(self, size: int) -> None:
        """Answer 413 (through the app, so it is counted and logged) and read nothing more."""
        request = self._request
        if request is None:
            return
        request.set_oversize(size)
        self._chunks = []
        self._dispatch(request, keep_alive=False)
        self._ignore_input = True

    def _dispatch(self, request: Request, *, keep_alive: bool | None = None) -> None:
        self._dispatched = True
        if self._close_after:  # shutting down: this request is the connection's last
            self._ignore_input = True
        if keep_alive is None:
            keep_alive = self._parser.should_keep_alive()
        self._pending.append((request, keep_alive))
        if not self._responding:
            self._answer_next()
        elif len(self._pending) >= _MAX_PIPELINED and self._transport is not None:
            self._transport.pause_reading()
            self._reading_paused = True

    def _reject(self, status: int, message: str) -> None:
        """Answer a message the parser refused, after those before it, then close."""
        self._ignore_input = True
        self._pending.append((json_response({"error": message}, status), False))
        if not self._responding:
            self._answer_next()

    def _answer_next(self) -> None:
        if not self._pending:
            if self._reading_paused and self._transport is not None:
                self._transport.resume_reading()
                self._reading_paused = False
            self._last_active = self._loop.time()
            if self._close_after and self._transport is not None:
                self._transport.close()
            return
        item, keep_alive = self._pending.popleft()
        self._responding = True
        if isinstance(item, Response):
            self._write(item, "", keep_alive=False, head_only=False)
            return
        task = self._loop.create_task(self._respond(item, keep_alive))
        self._server.tasks.add(task)
        task.add_done_callback(self._server.tasks.discard)

    async def _respond(self, request: Request, keep_alive: bool) -> None:
        # Every connection's request being answered has a task there, this one's included.
        request.alone = len(self._server.tasks) == 1
        try:
            response = await self._app.handle(request)
        except Exception:  # handle() answers errors itself; this only keeps the connection alive
            logger.exception("unhandled error answering %s %s", request.method, request.path)
            response = json_response({"error": "internal server error"}, 500)
        head_only = request.method == "HEAD"
        if self._write(response, request.request_id, keep_alive=keep_alive, head_only=head_only):
            if self._drained is not None:
                await self._drained
            self._responding = False
            self._answer_next()

    def _write(
        self, response: Response, request_id: str, *, keep_alive: bool, head_only: bool
    ) -> bool:
        """Write one response (no body for HEAD); False when the connection is (now) closed."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return False
        close = not keep_alive or self._close_after
        head = _render_head(response, request_id, self._server.default_headers, close=close)
        transport.write(head if head_only else head + response.body)
        if close:
            transport.close()
            return False
        return True

    # -- slow clients -----------------------------------------------------------------------
    def _next_check(self) -> float:
        """Seconds until the partial message's next deadline: the head's, or the rate window's."""
        deadlines = self._deadlines
        now = self._loop.time()
        if self._request is None:
            return max(0.0, self._started + deadlines.header_timeout_s - now)
        return max(0.0, self._mark[0] + deadlines.window_s - now)

    def _check_progress(self) -> None:
        """A message is still partial: drop the client if it is slower than the deadlines."""
        self._progress = None
        if self._transport is None or self._ignore_input or not self._in_message:
            return
        deadlines = self._deadlines
        now = self._loop.time()
        if self._reading_paused:  # we stopped reading, not the client: push the clocks on
            self._started = now
            self._mark = (now, self._size)
        elif self._request is None:
            if now - self._started >= deadlines.header_timeout_s:
                self._drop_slow(
                    f"the request line and headers did not arrive within "
                    f"{deadlines.header_timeout_s:g} s"
                )
                return
        else:
            since, size = self._mark
            if now - since >= deadlines.window_s:
                rate = (self._size - size) / (now - since)
                if rate < deadlines.min_body_rate:
                    self._drop_slow(
                        f"the request body arrived at {rate:.0f} bytes/s, under the floor of "
                        f"{deadlines.min_body_rate} bytes/s"
                    )
                    return
                self._mark = (now, self._size)
        self._progress = self._loop.call_later(self._next_check(), self._check_progress)

    def _drop_slow(self, message: str) -> None:
        logger.info("dropping a slow client: %s", message)
        self._chunks = []  # free what the stalled body had buffered
        self._reject(408, f"{message}: send the whole request sooner")

    # -- idle connections ------------------------------------------------------------------
    def _check_idle(self) -> None:
        """One timer per connection, re-armed rather than reset per request (that cost 7%)."""
        self._idle = None
        if self._transport is None:
            return
        # A partial message is the slow-client checks' to judge, not the idle timer's.
        busy = self._responding or self._pending or self._in_message
        idle_for = 0.0 if busy else self._loop.time() - self._last_active
        if idle_for >= self._idle_timeout:
            self._transport.close()
        else:
            self._idle = self._loop.call_later(self._idle_timeout - idle_for, self._check_idle)


def _render_head(
    response: Response, request_id: str, defaults: list[tuple[bytes, bytes]], *, close: bool
) -> bytes:
    """The status line and headers, ending with the blank line."""
    status = response.status
    parts = [_STATUS_LINES.get(status) or f"HTTP/1.1 {status} \r\n".encode()]
    headers = [*defaults, *response_headers(response, request_id)]
    if close:
        headers.append((b"connection", b"close"))
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)
