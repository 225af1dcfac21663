"""Check that a host and port can be listened on before a server (or a container) starts.

uvicorn reports a busy port by exiting with code 3, the code a missing model has; checking first
gives the person an ``AddressInUseError`` that names the port and how to pick another.

    >>> ensure_address_free("127.0.0.1", 8080)
"""

from __future__ import annotations

import errno
import socket

from shipyard.errors import AddressInUseError, ConfigError

__all__ = ["ensure_address_free"]


def ensure_address_free(host: str, port: int) -> None:
    """Raise ``AddressInUseError`` when ``host:port`` is taken (port 0 means any: always free)."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host!r}: {exc}; give an IP address") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # as uvicorn and docker-proxy bind: a port in TIME_WAIT is free, one listened on is not
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
            raise AddressInUseError(
                f"{host}:{port} is already in use by another process: pick another with "
                f"--port, or stop what listens there (e.g. `lsof -i :{port}`)"
            ) from exc
