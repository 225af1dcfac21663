"""``shipyard server``: the tracking server under uvicorn, bound to 127.0.0.1 by default.

    >>> run(Settings.from_env(), ServerConfig.from_env(port=5000))

One process (SQLite writes queue on one lock anyway; a PostgreSQL backend can run several
servers side by side). On SIGTERM or Ctrl-C uvicorn finishes in-flight requests and exits.
Each request is one line on stderr (method, path, status, ms) unless ``access_log`` is off.
"""

from __future__ import annotations

from shipyard.config import Settings
from shipyard.tracking.server.app import create_app
from shipyard.tracking.server.config import ServerConfig
from shipyard.tracking.tracker import Tracker
from shipyard.web.running import serve

__all__ = ["run"]


def run(settings: Settings, config: ServerConfig) -> None:
    """Serve tracking for ``settings``' database and artifact store until stopped."""
    app = create_app(Tracker.from_settings(settings), config)
    serve(app, host=config.host, port=config.port, access_log=config.access_log)
