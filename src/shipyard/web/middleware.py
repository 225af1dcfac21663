"""Two pure-ASGI middlewares every Shipyard web app runs with.

    Starlette(routes=..., middleware=[Middleware(AccessLog), Middleware(ServerTiming)])

``AccessLog`` writes one line a request to ``shipyard.access`` (method, path, status, ms); the
logging config turns it on or off (``web.logs.log_config(access_log=...)``). ``ServerTiming``
adds ``Server-Timing: app;dur=<ms>``, the time from the request's arrival in the app to the start
of its response. Both wrap ``send`` only: no body is buffered, streamed responses stay streamed.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.web.logs import ACCESS_LOGGER

__all__ = ["AccessLog", "ServerTiming"]


class AccessLog:
    """``POST /api/2.0/mlflow/runs/log-batch 200 9.1ms`` for every HTTP request."""

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before it answers

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.logger.info("%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed)


class ServerTiming:
    """``Server-Timing: app;dur=<ms>`` on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                timing = (b"server-timing", f"app;dur={elapsed:.2f}".encode())
                message = {**message, "headers": [*message.get("headers", ()), timing]}
            await send(message)

        await self.app(scope, receive, send_timed)
