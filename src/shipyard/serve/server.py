"""Run the app under uvicorn, in one process or ``--workers N``.

uvicorn runs the stdlib asyncio loop and Shipyard's own HTTP protocol (``protocol.HttpProtocol``).
Not uvloop: it takes the GIL back for every I/O callback, and each time it may wait for the
predict thread to let go of it; under 64 concurrent clients that made the server 25-40% slower
than the stdlib loop, which takes the GIL once per loop iteration (bench/serve).

The socket is bound first, before the model's libraries are imported or the app is built, so
the port answers as early as it can: ``/healthz`` 200 and ``/readyz`` 503 until the model is in.
One process loads the model in a thread while it serves (``lifespan.py``). With ``--workers N``
the parent loads the model once and forks the workers, which share its pages (``forking.py``);
a model that cannot be forked safely is loaded by each worker instead, started by uvicorn's
supervisor, and the log says so. The configuration travels to those workers through
``SHIPYARD_SERVE_*`` variables (the same ones a container image sets): each builds its app with
``app_from_env``.

With several workers the server also makes a fresh ``PROMETHEUS_MULTIPROC_DIR`` (removed at
exit) where the workers share their metrics. On SIGTERM uvicorn stops accepting connections,
lets in-flight requests finish, runs the app's shutdown (which drains queued predictions and
flushes the prediction log) and exits 0.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from shipyard.config import Settings
from shipyard.errors import ConfigError
from shipyard.serve.app import App, create_app
from shipyard.serve.config import ENV_PREFIX, ServeConfig
from shipyard.serve.protocol import HttpProtocol
from shipyard.serve.runtime import ServedModel
from shipyard.serve.sources import StaticSource, source_for
from shipyard.serve.workermetrics import MULTIPROC_ENV
from shipyard.web.logs import log_config

__all__ = ["TARGET_ENV", "app_from_env", "run"]

TARGET_ENV = ENV_PREFIX + "TARGET"
STARTUP_FAILURE = 3  # uvicorn's exit code when a server could not start
logger = logging.getLogger("shipyard.serve")


def app_from_env() -> App:
    """Build the app from ``SHIPYARD_SERVE_TARGET`` and the other ``SHIPYARD_SERVE_*`` settings."""
    target = os.environ.get(TARGET_ENV)
    if not target:
        raise ConfigError(f"{TARGET_ENV} is not set: name a model reference or a model folder")
    metrics_dir = os.environ.get(MULTIPROC_ENV)
    return create_app(
        source_for(target, Settings.from_env()),
        ServeConfig.from_env(),
        metrics_dir=Path(metrics_dir) if metrics_dir else None,
    )


def _ignore_signal(signum: int, frame: object) -> None:
    """Leave the process to exit normally once uvicorn has drained."""


def run(target: str, config: ServeConfig) -> None:
    """Serve ``target`` (a registry reference or a model folder) until SIGTERM or Ctrl-C."""
    os.environ.update(config.to_env())
    os.environ[TARGET_ENV] = target
    # uvicorn drains on SIGTERM, then re-raises the signal under the handler it found at start;
    # a no-op handler there makes a drained shutdown exit 0, as orchestrators expect.
    signal.signal(signal.SIGTERM, _ignore_signal)
    options = _uvicorn_options(config)
    app_config = uvicorn.Config("shipyard.serve.server:app_from_env", factory=True, **options)
    sock = app_config.bind_socket()
    sock.listen(app_config.backlog)  # connections queue from now on, not refused
    metrics_dir = None
    if config.workers > 1:
        # One fresh directory per start: the workers' metrics files, summed at each scrape.
        metrics_dir = tempfile.mkdtemp(prefix="shipyard-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    else:
        os.environ.pop(MULTIPROC_ENV, None)
    try:
        if config.workers == 1:
            server = uvicorn.Server(app_config)
            server.run(sockets=[sock])
            if not server.started:
                sys.exit(STARTUP_FAILURE)
        else:
            code = _run_workers(target, config, app_config, sock, options)
            if code:
                sys.exit(code)
    finally:
        sock.close()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_workers(
    target: str,
    config: ServeConfig,
    app_config: uvicorn.Config,
    sock: socket.socket,
    options: dict[str, Any],
) -> int:
    """Fork workers over a model loaded once; else let each worker load its own."""
    from shipyard.serve.forking import ForkedWorkers, load_before_fork

    source = source_for(target, Settings.from_env())
    loaded = load_before_fork(source, sock)
    if isinstance(loaded, str):
        logger.warning(
            "%s: each of the %d workers loads its own copy of the model", loaded, config.workers
        )
        Multiprocess(app_config, sockets=[sock]).run()
        return 0
    metrics_dir = Path(os.environ[MULTIPROC_ENV])
    worker_config = dataclasses.replace(config, follow_alias=False)  # the parent follows

    def serve_worker(served: ServedModel, worker_sock: socket.socket, ready_fd: int) -> int:
        loaded = f"{served.name} version {served.version_label}, loaded before the fork"
        app = create_app(StaticSource.of(served, loaded), worker_config, metrics_dir=metrics_dir)
        server = uvicorn.Server(uvicorn.Config(app, **{**options, "workers": 1}))
        asyncio.run(_serve_and_signal(server, app, worker_sock, ready_fd))
        return 0 if server.started else STARTUP_FAILURE

    return ForkedWorkers(
        source,
        loaded,
        sock,
        workers=config.workers,
        serve_worker=serve_worker,
        follow_alias=config.follow_alias,
        poll_seconds=config.poll_seconds,
    ).run()


async def _serve_and_signal(
    server: uvicorn.Server, app: App, sock: socket.socket, ready_fd: int
) -> None:
    """Serve until stopped; write one byte to ``ready_fd`` once the model answers."""
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    dataplane = app.state["dataplane"]
    try:
        while not serving.done() and not (server.started and dataplane.is_ready):
            await asyncio.sleep(0.005)
        if not serving.done():
            os.write(ready_fd, b"r")
    finally:
        os.close(ready_fd)
    await serving


def _uvicorn_options(config: ServeConfig) -> dict[str, Any]:
    """The uvicorn settings every serving process runs with (the tuned hot path's)."""
    return {
        "host": config.host,
        "port": config.port,
        "workers": config.workers,
        "loop": "asyncio",
        "http": HttpProtocol,
        "lifespan": "on",
        "access_log": False,
        "log_config": log_config(),
        "backlog": 4096,
        "proxy_headers": False,
        "server_header": False,
        "timeout_keep_alive": 30,
    }
