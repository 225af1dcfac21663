"""Optional bearer API keys, read from a file (one key a line, ``#`` comments).

Routes declared ``public`` (health and readiness) stay open so probes need no secret.

    $ shipyard serve iris@production --api-key-file /run/secrets/keys
    $ curl -H "Authorization: Bearer $KEY" localhost:8080/predict --json '[...]'
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from shipyard.errors import ConfigError
from shipyard.serve.http import Endpoint, Request, Response, json_response

__all__ = ["ApiKeys", "BearerAuth"]


class ApiKeys:
    """A set of accepted keys, compared in constant time (by their SHA-256)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigError("the API key file holds no keys: put one key on each line")
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys]

    @classmethod
    def from_file(cls, path: Path) -> ApiKeys:
        try:
            text = path.expanduser().read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read API key file {path}: {exc.strerror}") from None
        keys = [line.strip() for line in text.splitlines()]
        return cls([k for k in keys if k and not k.startswith("#")])

    def accepts(self, key: bytes) -> bool:
        digest = hashlib.sha256(key).digest()
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(digest, known)
        return found


class BearerAuth:
    """Middleware: 401 unless the request carries ``Authorization: Bearer <a known key>``."""

    def __init__(self, keys: ApiKeys) -> None:
        self._keys = keys

    async def __call__(self, request: Request, call_next: Endpoint) -> Response:
        route = request.route
        if route is not None and route.public:
            return await call_next(request)
        header = request.headers.get(b"authorization", b"")
        scheme, _, key = header.partition(b" ")
        if scheme.lower() == b"bearer" and key and self._keys.accepts(key.strip()):
            return await call_next(request)
        response = json_response(
            {"error": "missing or invalid API key: send 'Authorization: Bearer <key>'"}, 401
        )
        response.headers.append((b"www-authenticate", b"Bearer"))
        return response
