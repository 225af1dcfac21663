"""``shipyard server``: the tracking server under uvicorn, bound to 127.0.0.1 by default.

    >>> run(Settings.from_env(), host="127.0.0.1", port=5000)

One process (SQLite writes queue on one lock anyway; a PostgreSQL backend can run several
servers side by side). On SIGTERM or Ctrl-C uvicorn finishes in-flight requests and exits.
"""

from __future__ import annotations

import copy
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from shipyard.config import Settings
from shipyard.tracking.server.app import create_app
from shipyard.tracking.tracker import Tracker

__all__ = ["run"]


def _log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["shipyard"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def run(settings: Settings, *, host: str = "127.0.0.1", port: int = 5000) -> None:
    """Serve tracking for ``settings``' database and artifact store until stopped."""
    app = create_app(Tracker.from_settings(settings))
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="asyncio",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=_log_config(),
        server_header=False,
        timeout_keep_alive=30,
    )
