"""``RequireKey``: once the server has keys, every request carries one, as the mlflow client sends.

    MLFLOW_TRACKING_TOKEN=<token>                       Authorization: Bearer <token>
    MLFLOW_TRACKING_USERNAME=<name>                     Authorization: Basic <name:token>
    MLFLOW_TRACKING_PASSWORD=<token>

No key, a wrong key, or a Basic name that is not the key's: 401 ``UNAUTHENTICATED``. A read-only
key on a write (any method but GET/HEAD/OPTIONS, except the search endpoints ``read_posts``):
403 ``PERMISSION_DENIED``. ``/health``, ``/openapi.json`` and the paths given as ``open_paths``
and ``open_prefixes`` (the web UI's static pages) stay open. A request that says
``X-Shipyard-UI: 1`` (the UI's) gets its 401 without the Basic challenge, so that the browser
leaves the sign-in to the page instead of its own dialog. A token not seen before
is hashed in a worker thread, so a burst of them does not stall the event loop.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shipyard.tracking.server.keys import AccessKey, KeyRing, KeyScope
from shipyard.web.errors import Render
from shipyard.web.guards import SAFE_METHODS

__all__ = ["OPEN_PATHS", "RequireKey", "credentials"]

OPEN_PATHS = frozenset({"/health", "/openapi.json"})
_CHALLENGE = {"www-authenticate": 'Basic realm="shipyard", charset="UTF-8"'}


def credentials(authorization: bytes) -> tuple[str | None, str] | None:
    """``(basic user or None, token)`` from an Authorization header; None if it has neither."""
    scheme, _, value = authorization.decode("latin-1").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return None, value.strip()
    if scheme.lower() == "basic":
        try:
            user, colon, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if colon:
            return user, password
    return None


class RequireKey:
    """Pure-ASGI middleware: 401 without a valid key, 403 for a read-only key's write."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyRing,
        render: Render,
        read_posts: Collection[str] = (),
        open_paths: Collection[str] = (),
        open_prefixes: Collection[str] = (),
    ) -> None:
        self.app = app
        self.keys = keys
        self.render = render
        self.read_posts = frozenset(read_posts)
        self.open_paths = OPEN_PATHS | frozenset(open_paths)
        self.open_prefixes = tuple(open_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys.is_enabled or self._is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = await self._key(headers.get(b"authorization"))
        if key is None:
            message = (
                "this server needs an access key: set MLFLOW_TRACKING_TOKEN (or "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD) to one made with "
                "`shipyard server keys add`"
            )
            challenge = None if headers.get(b"x-shipyard-ui") == b"1" else _CHALLENGE
            response = self.render(Request(scope), 401, "UNAUTHENTICATED", message, challenge)
        elif key.scope is KeyScope.READ and self._is_write(scope):
            message = (
                f"key {key.name!r} is read-only: {scope['method']} {scope['path']} needs a "
                "read-write key"
            )
            response = self.render(Request(scope), 403, "PERMISSION_DENIED", message, None)
        else:
            scope.setdefault("state", {})["access_key"] = key.name
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def _is_open(self, path: str) -> bool:
        return path in self.open_paths or path.startswith(self.open_prefixes)

    def _is_write(self, scope: Scope) -> bool:
        return scope["method"] not in SAFE_METHODS and scope["path"] not in self.read_posts

    async def _key(self, authorization: bytes | None) -> AccessKey | None:
        given = credentials(authorization) if authorization else None
        if given is None:
            return None
        user, token = given
        key = self.keys.cached(token)
        if key is None:
            key = await anyio.to_thread.run_sync(self.keys.verify, token)
        if key is None or (user is not None and user != key.name):
            return None
        return key
