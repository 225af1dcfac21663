"""A misbehaving webhook on a loopback port: each request gets the next scripted answer.

Answers: ``ok`` (200, the JSON body is kept), ``redirect`` (302 to ``/elsewhere``), ``trickle``
(a 200 status line one byte every ``trickle_s``), ``hang`` (nothing), ``bad-status`` (a line that
is not HTTP), ``many-headers`` (200 with 150 headers), ``huge-header`` (a 64 KiB header line),
``giant-header`` (a 1 MiB one), ``500``. Every request line is recorded, so a followed redirect
would show.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable

__all__ = ["ScriptedWebhook"]


class ScriptedWebhook:
    def __init__(self, answers: Iterable[str] = (), *, trickle_s: float = 0.3) -> None:
        self.answers = deque(answers)
        self.trickle_s = trickle_s
        self.requests: list[str] = []
        self.received: list[dict[str, object]] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/hook"
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ScriptedWebhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        self._sock.settimeout(0.05)  # a blocked accept() would outlive close()
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                head, body = self._read_request(conn)
                self.requests.append(head.split(b"\r\n", 1)[0].decode())
                answer = self.answers.popleft() if self.answers else "ok"
                self._send(conn, answer, body)
            except OSError:
                return

    def _read_request(self, conn: socket.socket) -> tuple[bytes, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head, body

    def _send(self, conn: socket.socket, answer: str, body: bytes) -> None:
        if answer == "ok":
            self.received.append(json.loads(body))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        elif answer == "redirect":
            conn.sendall(
                b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n"
                b"Connection: close\r\n\r\n"
            )
        elif answer == "500":
            conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        elif answer == "trickle":
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                if self._closed.wait(self.trickle_s):
                    return
                conn.sendall(bytes([byte]))
        elif answer == "hang":
            self._closed.wait(30)
        elif answer == "bad-status":
            conn.sendall(b"SMTP ready, not HTTP\r\n\r\n")
        elif answer == "many-headers":
            headers = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
            conn.sendall(b"HTTP/1.1 200 OK\r\n" + headers + b"Content-Length: 0\r\n\r\n")
        elif answer in ("huge-header", "giant-header"):
            size = 65536 if answer == "huge-header" else 1024 * 1024
            head = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * size
            conn.sendall(head + b"\r\nContent-Length: 0\r\n\r\n")
        else:  # pragma: no cover - a typo in a test
            raise ValueError(answer)
        time.sleep(0.05)  # let the client read before the socket closes
