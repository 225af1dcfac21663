"""What a web page may make a browser send to a server on this machine, and how to tell.

Imports nothing but the stdlib, so that ``shipyard serve``'s own core uses it too.

DNS rebinding points a name the attacker owns at 127.0.0.1, so the page's requests carry
``Host: attacker.example``. ``HostNames`` is the allow-list against it: an IP literal (a
rebinding request always names a domain), ``localhost`` and ``*.localhost``, the host the server
is bound to, and the names given (``*`` for any, ``.example.org`` for that domain and its
subdomains).

CSRF: a page can POST without a CORS preflight only as a "simple request": a body of one of
``SIMPLE_TYPES``. A JSON API refuses those (415), and refuses a write whose ``Origin`` is not
the server's own (``is_same_origin``).

    >>> HostNames.bound_to("127.0.0.1").allows(host_name(b"attacker.example:5000"))
    False
    >>> is_simple_type(b"text/plain; charset=utf-8")
    True
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = [
    "SIMPLE_TYPES",
    "HostNames",
    "host_name",
    "is_loopback",
    "is_same_origin",
    "is_simple_type",
]

SIMPLE_TYPES = frozenset(
    {b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"}
)
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names of a wildcard bind


def host_name(value: bytes | str) -> str:
    """The name in a Host header, lower-case, without the port or IPv6 brackets."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip().lower()
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


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``*.localhost`` and loopback addresses (``127.0.0.1``, ``::1``)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_simple_type(content_type: bytes) -> bool:
    """True when a page may send a body of this Content-Type cross-origin without a preflight."""
    return content_type.partition(b";")[0].strip().lower() in SIMPLE_TYPES


def is_same_origin(origin: bytes, host: bytes) -> bool:
    """True when the ``Origin`` header names the server the ``Host`` header does
    (``http://127.0.0.1:5000`` and ``127.0.0.1:5000``); ``null`` is no origin of ours."""
    scheme, sep, rest = origin.decode("latin-1").strip().lower().partition("://")
    if not sep or scheme not in ("http", "https"):
        return False
    given = host.decode("latin-1").strip().lower()
    default = ":443" if scheme == "https" else ":80"
    return rest.removesuffix(default) == given.removesuffix(default)


class HostNames:
    """The Host names a server answers: IPs, loopback names and the names given."""

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

    @classmethod
    def bound_to(cls, host: str, extra: Iterable[str] = ()) -> HostNames:
        """Loopback names, the bound host (unless a wildcard) and ``extra``."""
        names = ["localhost", ".localhost", *extra]
        if host.strip("[]") not in _WILDCARDS:
            names.append(host.strip("[]"))
        return cls(names)

    def allows(self, name: str) -> bool:
        if self._any or name in self._exact or _is_ip(name):
            return True
        return any(name.endswith(s) or name == s[1:] for s in self._suffixes)
