"""Answer ``/healthz`` on the bound socket while the parent of ``--workers N`` loads the model.

The parent loads (and warms) the model once before it forks any worker, so for that while no
worker is there to answer. ``LoadingHealth`` runs a small thread on the listening socket that
says the process is alive (``/healthz`` 200, as ``health.py`` does while loading) and that
everything else must wait (503, as ``/readyz`` and the model routes answer before the model is
in), one short connection at a time. It stops (and its thread is joined) before the parent
forks, so the workers start from a process with a single thread.

    with LoadingHealth(sock):
        served = source.load()
"""

from __future__ import annotations

import select
import socket
import threading

import orjson

from shipyard.contract import HEALTH_PATH

__all__ = ["LoadingHealth"]

_READ_TIMEOUT_S = 1.0
_MAX_HEAD = 8192


def _response(status: str, payload: dict[str, str]) -> bytes:
    body = orjson.dumps(payload)
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


_ALIVE = _response("200 OK", {"status": "ok"})
_LOADING = _response("503 Service Unavailable", {"error": "the model is not loaded yet"})


class LoadingHealth:
    """A thread answering health checks on ``sock`` until the ``with`` block ends."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="shipyard-loading", daemon=True)

    def __enter__(self) -> LoadingHealth:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _serve(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._sock], [], [], 0.05)
            if not readable:
                continue
            try:
                conn, _ = self._sock.accept()
            except OSError:  # the client went away, or the socket is non-blocking and raced
                continue
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(_READ_TIMEOUT_S)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < _MAX_HEAD:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, _, rest = head.partition(b" ")
            path = rest.partition(b" ")[0].partition(b"?")[0]
            alive = method == b"GET" and path == HEALTH_PATH.encode()
            conn.sendall(_ALIVE if alive else _LOADING)
        except OSError:
            return
