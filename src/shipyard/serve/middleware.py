"""The app's middleware: request ids and metrics (auth lives in ``auth.py``).

A middleware is ``async (request, call_next) -> Response``; the app composes the declared list
once, outermost first. Each costs well under a microsecond or two per request.
"""

from __future__ import annotations

import os
import re
import time
from itertools import count
from typing import Protocol

from shipyard.serve.http import Endpoint, Request, Response
from shipyard.serve.metrics import Metrics

__all__ = ["Middleware", "ObserveMetrics", "RequestId", "route_label"]

_CLIENT_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")


class Middleware(Protocol):
    async def __call__(self, request: Request, call_next: Endpoint) -> Response: ...


class RequestId:
    """Use the caller's ``X-Request-ID`` (when well formed) or make one; the app echoes it."""

    def __init__(self) -> None:
        self._prefix = os.urandom(6).hex()
        self._counter = count(1)

    async def __call__(self, request: Request, call_next: Endpoint) -> Response:
        given = request.headers.get(b"x-request-id")
        if given is not None and _CLIENT_ID.fullmatch(given):
            request.request_id = given.decode()
        else:
            request.request_id = f"{self._prefix}-{next(self._counter):x}"
        return await call_next(request)


def route_label(request: Request) -> str:
    """The bounded metrics label of a request: its declared route path, or ``unmatched``."""
    return "unmatched" if request.route is None else request.route.path


class ObserveMetrics:
    """Count requests by route and status, time them, track how many are in flight."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, request: Request, call_next: Endpoint) -> Response:
        metrics = self._metrics
        metrics.in_flight += 1
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status
            return response
        finally:
            metrics.in_flight -= 1
            metrics.observe_request(route_label(request), status, time.perf_counter() - started)
