"""Run the app under uvicorn, in one process or ``--workers N``.

uvicorn runs the stdlib asyncio loop and Shipyard's own HTTP protocol (``protocol.HttpProtocol``).
Not uvloop: it takes the GIL back for every I/O callback, and each time it may wait for the
predict thread to let go of it; under 64 concurrent clients that made the server 25-40% slower
than the stdlib loop, which takes the GIL once per loop iteration (bench/serve).

The configuration travels to each worker through ``SHIPYARD_SERVE_*`` variables (the same ones a
container image sets), and each worker builds its app with ``app_from_env``. With several workers
the server also makes a fresh ``PROMETHEUS_MULTIPROC_DIR`` (removed at exit) where the workers
share their metrics. On SIGTERM uvicorn stops accepting connections, lets in-flight requests
finish, runs the app's shutdown (which drains queued predictions and flushes the prediction log)
and exits 0.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import uvicorn

from shipyard.config import Settings
from shipyard.errors import ConfigError
from shipyard.serve.app import App, create_app
from shipyard.serve.config import ENV_PREFIX, ServeConfig
from shipyard.serve.protocol import HttpProtocol
from shipyard.serve.sources import source_for
from shipyard.serve.workermetrics import MULTIPROC_ENV
from shipyard.web.logs import log_config

__all__ = ["TARGET_ENV", "app_from_env", "run"]

TARGET_ENV = ENV_PREFIX + "TARGET"


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
    metrics_dir = None
    if config.workers > 1:
        # One fresh directory per start: the workers' metrics files, summed at each scrape.
        metrics_dir = tempfile.mkdtemp(prefix="shipyard-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    else:
        os.environ.pop(MULTIPROC_ENV, None)
    try:
        _run_uvicorn(config)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_uvicorn(config: ServeConfig) -> None:
    uvicorn.run(
        "shipyard.serve.server:app_from_env",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        loop="asyncio",
        http=HttpProtocol,
        lifespan="on",
        access_log=False,
        log_config=log_config(),
        backlog=4096,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=30,
    )
