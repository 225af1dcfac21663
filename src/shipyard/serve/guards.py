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
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from shipyard.serve.http import Endpoint, Request, Response, json_response

__all__ = ["SIMPLE_TYPES", "AllowedHosts", "JsonBodies", "exposure_warning", "host_name"]

SIMPLE_TYPES = frozenset(
    {b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"}
)
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names of a wildcard bind
_CACHE_LIMIT = 256  # Host values remembered; attacker-chosen ones are checked each time


class JsonBodies:
    """Middleware: 415 for a POST whose Content-Type a browser may send cross-origin."""

    async def __call__(self, request: Request, call_next: Endpoint) -> Response:
        if request.method == "POST":
            given = request.headers.get(b"content-type")
            if given is not None:
                media = given.partition(b";")[0].strip().lower()
                if media in SIMPLE_TYPES:
                    return json_response(
                        {
                            "error": f"Content-Type {media.decode('latin-1')} is not accepted: "
                            "send the body as application/json (curl: -H 'Content-Type: "
                            "application/json')"
                        },
                        415,
                    )
        return await call_next(request)


def host_name(value: bytes) -> str:
    """The name in a Host header, lower-case, without the port or IPv6 brackets."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    name, colon, port = text.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        return name
    return text


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class AllowedHosts:
    """Middleware: 421 for a Host that is not an IP, localhost, the bound host or allowed."""

    def __init__(self, names: Iterable[str]) -> None:
        self._exact: set[str] = set()
        self._suffixes: list[str] = []
        self._any = False
        for raw in names:
            name = raw.strip().lower()
            if name == "*":
                self._any = True
            elif name.startswith("."):
                self._suffixes.append(name)
            elif name:
                self._exact.add(name)
        self._seen: dict[bytes, bool] = {}

    @classmethod
    def bound_to(cls, host: str, extra: Iterable[str] = ()) -> AllowedHosts:
        """Loopback names, the bound host (unless a wildcard) and ``extra``."""
        names = ["localhost", ".localhost", *extra]
        if host.strip("[]") not in _WILDCARDS:
            names.append(host.strip("[]"))
        return cls(names)

    def allows(self, name: str) -> bool:
        if self._any or name in self._exact or _is_ip(name):
            return True
        return any(name.endswith(s) or name == s[1:] for s in self._suffixes)

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
    name = host.strip("[]").lower()
    if has_api_key or name == "localhost" or name.endswith(".localhost"):
        return None
    try:
        if ipaddress.ip_address(name).is_loopback:
            return None
    except ValueError:
        pass
    return (
        f"warning: serving on {host} with no API key: anyone who can reach this address can "
        "call the model. Pass --api-key-file (one key a line), or bind 127.0.0.1"
    )
