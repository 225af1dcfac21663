"""Runs inside a model image (stdlib only): time start-to-ready against the floor, interleaved.

    python startup_probe.py ROUNDS FLOOR_CODE -- SERVE_ARGV...

Each round starts the floor (``python -c FLOOR_CODE``: import the model's libraries and load
it) and times it to its exit, then starts the server and times it to the first ``200`` from
``/readyz`` (polled every ``PROBE_POLL_S``, 10 ms, on a fresh connection), then stops it with
SIGTERM. Prints one JSON line: every round's seconds for both. Every poll is a request the
server's event loop answers while the model loads on another thread, and each takes the GIL
from the loader: polling every 2 ms made the start 20% slower than every 10 ms (which is at most
10 ms late); orchestrators probe every few seconds.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

PORT = int(os.environ.get("PROBE_PORT", "8080"))
POLL_S = float(os.environ.get("PROBE_POLL_S", "0.01"))


def _ready() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=1) as sock:
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def time_floor(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def time_server(argv: list[str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _ready():
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            time.sleep(POLL_S)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    rounds, code, separator, *argv = sys.argv[1:]
    assert separator == "--"
    os.environ.pop("SHIPYARD_SERVE_PREDICTION_LOG", None)  # no stdout writer in the way
    time_floor(code)  # warm the page cache for both
    time_server(argv)
    floors, servers = [], []
    for _ in range(int(rounds)):
        floors.append(time_floor(code))
        servers.append(time_server(argv))
    print(json.dumps({"floor_s": floors, "server_s": servers}))


if __name__ == "__main__":
    main()
