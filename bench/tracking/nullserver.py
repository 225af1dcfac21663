"""An HTTP server that answers every request at once with ``{}``: the client's floor.

``python bench/tracking/nullserver.py PORT`` — whatever the ``mlflow`` client spends per call
against it is the client's own work (building, serialising, parsing), which no tracking server
can take away. ``run.py`` measures log-batch against it to bound the end-to-end ratio.
"""

from __future__ import annotations

import socketserver
import sys
from http.server import BaseHTTPRequestHandler


class _Instant(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real servers
    disable_nagle_algorithm = True  # headers and body go out at once (no delayed-ACK stall)

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the benchmark reads only timings."""


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with _Server(("127.0.0.1", int(sys.argv[1])), _Instant) as server:
        server.serve_forever()
