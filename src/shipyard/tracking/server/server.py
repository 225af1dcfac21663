"""``shipyard server``: the tracking server under uvicorn, bound to 127.0.0.1 by default.

    >>> run(Settings.from_env(), ServerConfig.from_env(port=5000))

One process (SQLite writes queue on one lock anyway; a PostgreSQL backend can run several
servers side by side). On SIGTERM or Ctrl-C uvicorn finishes in-flight requests and exits.
Each request is one line on stderr (method, path, status, ms) unless ``access_log`` is off.
A non-loopback address without access keys is refused (``exposure_problem``) unless the config
says ``insecure``: anyone who could reach it could delete every run and artifact.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute

from shipyard.config import Settings
from shipyard.errors import ConfigError
from shipyard.tracking.server.app import create_app
from shipyard.tracking.server.config import ServerConfig
from shipyard.tracking.server.keys import KeyFile, KeyRing
from shipyard.tracking.tracker import Tracker
from shipyard.web.origins import is_loopback
from shipyard.web.running import serve

__all__ = ["exposure_problem", "open_keys", "run"]


def open_keys(settings: Settings, config: ServerConfig) -> KeyRing:
    """The server's access keys (none until ``shipyard server keys add``)."""
    return KeyRing(KeyFile(config.keys_path(settings.home)))


def exposure_problem(config: ServerConfig, has_keys: bool) -> str | None:
    """Why the server must not start as configured (None: it may)."""
    if has_keys or config.insecure or is_loopback(config.host):
        return None
    return (
        f"refusing to serve {config.host} without access keys: anyone who can reach it could "
        "change or delete every run and artifact. Make a key with `shipyard server keys add "
        "NAME`, bind 127.0.0.1, or pass --insecure to serve it open"
    )


def run(
    settings: Settings,
    config: ServerConfig,
    keys: KeyRing | None = None,
    *,
    pages: Sequence[BaseRoute] = (),
) -> None:
    """Serve tracking for ``settings``' database and artifact store (and ``pages``, the web UI)
    until stopped."""
    keys = keys or open_keys(settings, config)
    problem = exposure_problem(config, keys.is_enabled)
    if problem is not None:
        raise ConfigError(problem)
    app = create_app(Tracker.from_settings(settings), config, keys, pages=pages)
    serve(app, host=config.host, port=config.port, access_log=config.access_log)
