"""``BrowserGuard``: the requests a web page must not be able to make, refused before the app.

    Middleware(BrowserGuard, hosts=HostNames.bound_to("127.0.0.1"), render=render)

- a Host that ``hosts`` does not allow is 421 (DNS rebinding: a page reaching 127.0.0.1 through
  a name it owns);
- a write (any method but GET, HEAD and OPTIONS) whose ``Origin`` is not the server's own is 403
  (CSRF; a request without Origin is no browser's cross-origin write);
- a POST whose Content-Type a page may send without a preflight (``text/plain``, a form) is 415.
  A POST without a Content-Type is let through, as the mlflow client sends some so.

``NulFreeUrls`` answers 400 to a path or query holding NUL (``%00``), which no database keeps
in text. ``open_paths`` (health probes) skip the Host check. Each refusal is rendered by
``render``, the app's own error shape (``web.errors.Render``).
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shipyard.web.errors import Render
from shipyard.web.origins import HostNames, host_name, is_same_origin, is_simple_type

__all__ = ["BrowserGuard", "NulFreeUrls"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CACHE_LIMIT = 256  # Host values remembered; attacker-chosen ones are checked each time


class BrowserGuard:
    """Pure-ASGI middleware: 421 for a foreign Host, 403 for a foreign Origin, 415 for a
    simple-request body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: HostNames,
        render: Render,
        open_paths: Collection[str] = ("/health",),
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.render = render
        self.open_paths = frozenset(open_paths)
        self._seen: dict[bytes, bool] = {}

    def _allows_host(self, given: bytes) -> bool:
        allowed = self._seen.get(given)
        if allowed is None:
            allowed = self.hosts.allows(host_name(given))
            if len(self._seen) < _CACHE_LIMIT:
                self._seen[given] = allowed
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        refusal = self._refusal(scope, headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, message = refusal
        response = self.render(Request(scope), status, code, message, None)
        await response(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str, str] | None:
        host = headers.get(b"host", b"")
        if scope["path"] not in self.open_paths and not self._allows_host(host):
            return (
                421,
                "BAD_REQUEST",
                f"Host {host.decode('latin-1')!r} is not served here: call the server by IP or "
                "localhost, or add the name with --allowed-host (SHIPYARD_SERVER_ALLOWED_HOSTS)",
            )
        if scope["method"] in SAFE_METHODS:
            return None
        origin = headers.get(b"origin")
        if origin is not None and not is_same_origin(origin, host):
            return (
                403,
                "PERMISSION_DENIED",
                f"cross-origin {scope['method']} from {origin.decode('latin-1')!r} refused: "
                "a web page may not change this server",
            )
        content_type = headers.get(b"content-type")
        if scope["method"] == "POST" and content_type is not None and is_simple_type(content_type):
            media = content_type.partition(b";")[0].strip().decode("latin-1")
            return (
                415,
                "BAD_REQUEST",
                f"Content-Type {media} is not accepted: send the body as application/json "
                "(curl: -H 'Content-Type: application/json')",
            )
        return None


class NulFreeUrls:
    """Pure-ASGI middleware: 400 for a path or query string holding NUL."""

    def __init__(self, app: ASGIApp, *, render: Render) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            message = "the URL holds a NUL character (%00): leave it out"
            response = self.render(Request(scope), 400, "INVALID_PARAMETER_VALUE", message, None)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
