"""The serving contract: what a model image promises to whatever runs it.

``serve`` implements it, ``build`` bakes it into images, ``deploy`` (health probes, ports, stop
signal, volumes) and ``batch`` (``predict`` inside the image) rely on it. One pure module, so no
stage has to import another sideways to learn a port or a path.

    >>> f"http://127.0.0.1:{CONTAINER_PORT}{READY_PATH}"
    'http://127.0.0.1:8080/readyz'
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "APP_DIR",
    "CONTAINER_PORT",
    "DRAIN_SECONDS",
    "HEALTH_PATH",
    "HOME_DIR",
    "IMAGE_UID",
    "LOG_DIR",
    "METRICS_PATH",
    "MODEL_DIR",
    "READY_PATH",
    "SERVE_ENV_PREFIX",
    "SMOKE_LOAD_SECONDS_TAG",
    "SMOKE_PEAK_RSS_TAG",
    "SMOKE_TAG_PREFIX",
    "STOP_SIGNAL",
    "VENV_DIR",
]

CONTAINER_PORT: Final = 8080
"""The port the server listens on inside an image (``SHIPYARD_SERVE_PORT``)."""

HEALTH_PATH: Final = "/healthz"
"""Liveness: 200 as long as the process answers."""

READY_PATH: Final = "/readyz"
"""Readiness: 200 once the model is loaded and verified, 503 before and while draining."""

METRICS_PATH: Final = "/metrics"
"""Prometheus exposition."""

STOP_SIGNAL: Final = "SIGTERM"
"""On this signal the server stops accepting, drains in-flight requests and exits 0."""

DRAIN_SECONDS: Final = 30
"""The longest a drain takes; a stop grace period must be longer than this."""

SERVE_ENV_PREFIX: Final = "SHIPYARD_SERVE_"
"""Every server option is also an environment variable with this prefix."""

VENV_DIR: Final = "/opt/venv"
MODEL_DIR: Final = "/opt/shipyard/model"
APP_DIR: Final = "/opt/shipyard/app"
LOG_DIR: Final = "/var/log/shipyard"
"""Where an image writes its prediction log when one is mounted (a volume or an emptyDir)."""
HOME_DIR: Final = "/var/lib/shipyard"
IMAGE_UID: Final = 10001
"""The non-root user (and group) an image runs as."""

SMOKE_TAG_PREFIX: Final = "shipyard.smoke."
"""Version tags written by the smoke test that ``shipyard build`` / ``shipyard verify`` run."""
SMOKE_LOAD_SECONDS_TAG: Final = "shipyard.smoke.load_seconds"
"""Seconds the image took to verify and load the model (sizes startup probes)."""
SMOKE_PEAK_RSS_TAG: Final = "shipyard.smoke.peak_rss_bytes"
"""Peak resident memory, in bytes, of loading the model and predicting the golden sample (sizes
memory limits)."""
