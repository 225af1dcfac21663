"""Run a web app under uvicorn: in the foreground (a command's whole job) or in a thread.

    serve(app, host="127.0.0.1", port=5000, access_log=True)   # until SIGTERM / Ctrl-C

    server = BackgroundServer(app, "127.0.0.1", 0)   # bound now: server.port is known
    server.start()
    ...
    server.close()                                   # drains, then joins the thread

Both use the stdlib asyncio loop, httptools and no ``Server`` header. A background server leaves
signals and the process's logging alone (uvicorn only installs handlers in the main thread).
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

from shipyard.errors import AddressInUseError, ShipyardError
from shipyard.web.logs import log_config

__all__ = ["BackgroundServer", "serve"]

KEEP_ALIVE_S = 30
_STARTUP_TIMEOUT_S = 30.0


def serve(app: ASGIApp, *, host: str, port: int, access_log: bool = True) -> None:
    """Serve ``app`` until stopped; uvicorn finishes in-flight requests on SIGTERM."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="asyncio",
        http="httptools",
        lifespan="on",
        access_log=False,  # uvicorn's line has no duration; web.middleware.AccessLog writes ours
        log_config=log_config(access_log=access_log),
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )


class BackgroundServer:
    """``app`` served by uvicorn on a thread of its own, on a socket bound at construction."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self._socket = socket.create_server((host, port), family=family)
        except OSError as exc:
            raise AddressInUseError(
                f"cannot listen on {host}:{port} ({exc.strerror}): choose another port"
            ) from exc
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            app,
            loop="asyncio",
            http="httptools",
            lifespan="auto",
            access_log=False,
            log_config=None,  # the process's logging is its own
            log_level="warning",
            server_header=False,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ShipyardError(f"the server on port {self.port} did not start (see its log)")
            time.sleep(0.01)

    def close(self) -> None:
        """Stop accepting, let in-flight requests finish, and wait for the thread."""
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=_STARTUP_TIMEOUT_S)
        self._socket.close()
