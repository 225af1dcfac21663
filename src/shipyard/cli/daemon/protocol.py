"""The daemon's wire format: length-prefixed JSON messages on a Unix socket, stdlib only.

The request carries the client's stdin, stdout and stderr as file descriptors (``SCM_RIGHTS``),
so the child writes to the client's terminal or pipe itself and nothing is copied through.

    client ─► {"op": "run", "argv", "cwd", "env", "umask", "signature"} + fds 0, 1, 2
    server ─► {"pid": N}                  the child running it (signals go there)
          ─► {"exit": CODE}               when it finished
          or {"stale": true}              the daemon is out of date: run it yourself
    client ─► {"op": "status"} | {"op": "stop"}  ─►  {"pid", "started", "served", ...}
"""

from __future__ import annotations

import json
import os
import socket
import struct
from typing import Any

__all__ = ["ProtocolError", "receive", "receive_with_fds", "send"]

_HEADER = struct.Struct("!I")
_MAX_MESSAGE = 16 * 1024 * 1024


class ProtocolError(Exception):
    """The other side closed the connection or sent something that is not a message."""


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    """Send one message, with ``fds`` attached to its first byte."""
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    sent = socket.send_fds(sock, [data], fds) if fds else sock.send(data)
    if sent < len(data):
        sock.sendall(data[sent:])


def _read_exact(sock: socket.socket, size: int, start: bytes = b"") -> bytes:
    data = bytearray(start)
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ProtocolError("the connection closed in the middle of a message")
        data += chunk
    return bytes(data)


def _decode(sock: socket.socket, first: bytes) -> dict[str, Any]:
    if not first:
        raise ProtocolError("the connection closed")
    header = _read_exact(sock, _HEADER.size, first[: _HEADER.size])
    (size,) = _HEADER.unpack(header)
    if size > _MAX_MESSAGE:
        raise ProtocolError(f"a message of {size} bytes is over the limit")
    body = _read_exact(sock, size, first[_HEADER.size :])
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise ProtocolError(f"not a JSON message: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message


def receive(sock: socket.socket) -> dict[str, Any]:
    """Read one message (raises :class:`ProtocolError` at end of stream)."""
    return _decode(sock, sock.recv(_HEADER.size))


def receive_with_fds(sock: socket.socket, max_fds: int = 3) -> tuple[dict[str, Any], list[int]]:
    """Read one message and the file descriptors sent with it."""
    first, fds, _flags, _address = socket.recv_fds(sock, 65536, max_fds)
    try:
        return _decode(sock, first), fds
    except ProtocolError:
        for fd in fds:
            _close_quietly(fd)
        raise


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
