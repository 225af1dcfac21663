"""Requests a web page must not be able to make: CSRF and DNS rebinding against a local server.

A page in the user's browser can POST to ``http://127.0.0.1:8080`` without a CORS preflight
only as a "simple request": a ``text/plain``, form or multipart body. ``JsonBodies`` answers those
415 on every POST route (they all read JSON, or V2's binary extension), so a page cannot make
the server predict (and log) for it. A body without a Content-Type is accepted: Triton's client
sends one so, and a page can send it only blind (``no-cors``), which the Host check below makes
harmless to read.

DNS rebinding points a name the attacker owns at 127.0.0.1, so the page's requests carry
``Host: attacker.example``. ``AllowedHosts`` (on when no API key is set) answers 421 to a Host
that is none of: an IP literal (a rebinding request always names a domain), ``localhost`` or a
``*.localhost`` name, the host the server is bound to, and ``SHIPYARD_SERVE_ALLOWED_HOSTS``
(``*`` for any, ``.example.org`` for that domain and its subdomains). Health and readiness stay
open to probes.

    middleware = [RequestId(), ObserveMetrics(metrics), JsonBodies(), AllowedHosts.bound_to(host)]

The names and types are ``shipyard.web.origins``', which the tracking server checks too.
"""

from __future__ import annotations

from collections.abc import Iterable

from shipyard.serve.http import Endpoint, Request, Response, json_response
from shipyard.web.origins import SIMPLE_TYPES, HostNames, host_name, is_loopback, is_simple_type

__all__ = ["SIMPLE_TYPES", "AllowedHosts", "JsonBodies", "exposure_warning", "host_name"]

_CACHE_LIMIT = 256  # Host values remembered; attacker-chosen ones are checked each time


class JsonBodies:
    """Middleware: 415 for a POST whose Content-Type a browser may send cross-origin."""

    async def __call__(self, request: Request, call_next: Endpoint) -> Response:
        if request.method == "POST":
            given = request.headers.get(b"content-type")
            if given is not None and is_simple_type(given):
                media = given.partition(b";")[0].strip().lower()
                return json_response(
                    {
                        "error": f"Content-Type {media.decode('latin-1')} is not accepted: "
                        "send the body as application/json (curl: -H 'Content-Type: "
                        "application/json')"
                    },
                    415,
                )
        return await call_next(request)


class AllowedHosts:
    """Middleware: 421 for a Host that is not an IP, localhost, the bound host or allowed."""

    def __init__(self, names: HostNames) -> None:
        self.names = names
        self._seen: dict[bytes, bool] = {}

    @classmethod
    def bound_to(cls, host: str, extra: Iterable[str] = ()) -> AllowedHosts:
        """Loopback names, the bound host (unless a wildcard) and ``extra``."""
        return cls(HostNames.bound_to(host, extra))

    def allows(self, name: str) -> bool:
        return self.names.allows(name)

    async def __call__(self, request: Request, call_next: Endpoint) -> Response:
        route = request.route
        given = request.headers.get(b"host")
        if given is None or (route is not None and route.public):
            return await call_next(request)
        allowed = self._seen.get(given)
        if allowed is None:
            allowed = self.allows(host_name(given))
            if len(self._seen) < _CACHE_LIMIT:
                self._seen[given] = allowed
        if allowed:
            return await call_next(request)
        return json_response(
            {
                "error": f"Host {given.decode('latin-1')!r} is not served here: call the server "
                "by IP or localhost, add the name to SHIPYARD_SERVE_ALLOWED_HOSTS "
                "(--allowed-host), or set an API key"
            },
            421,
        )


def exposure_warning(host: str, has_api_key: bool) -> str | None:
    """What to tell someone binding a non-loopback address with no API key (None: nothing)."""
    if has_api_key or is_loopback(host):
        return None
    return (
        f"warning: serving on {host} with no API key: anyone who can reach this address can "
        "call the model. Pass --api-key-file (one key a line), or bind 127.0.0.1"
    )
