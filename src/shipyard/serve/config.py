"""``ServeConfig``: every knob of ``shipyard serve``, from options or ``SHIPYARD_SERVE_*``.

The container image configures the server through the environment, and ``--workers N`` hands the
configuration to each worker process the same way, so the two spellings map one to one:

    SHIPYARD_SERVE_HOST              127.0.0.1 (loopback unless told otherwise)
    SHIPYARD_SERVE_PORT              8080
    SHIPYARD_SERVE_WORKERS           1
    SHIPYARD_SERVE_FOLLOW_ALIAS      0 / 1: poll the registry and swap versions when the alias moves
    SHIPYARD_SERVE_POLL_SECONDS      2.0: how often --follow-alias asks the registry
    SHIPYARD_SERVE_MAX_BATCH_SIZE    1024 rows per model call
    SHIPYARD_SERVE_MAX_LATENCY_MS    1.0: longest a request waits for others to share its call
    SHIPYARD_SERVE_BATCHING          1 / 0 (``--no-batching``)
    SHIPYARD_SERVE_API_KEY_FILE      a file of bearer keys, one a line
    SHIPYARD_SERVE_PREDICTION_LOG    a JSON-lines file, or ``-`` for stdout
    SHIPYARD_SERVE_PREDICTION_LOG_MAX_BYTES        64 MiB: rotate the log file at this size
    SHIPYARD_SERVE_PREDICTION_LOG_ROTATE_SECONDS   3600: ... or at this age
    SHIPYARD_SERVE_PREDICTION_LOG_KEEP             24 rotated segments kept (older ones deleted)
    SHIPYARD_SERVE_MAX_BODY_BYTES    16 MiB: largest body of /predict and /v2/.../infer
    SHIPYARD_SERVE_HEADER_TIMEOUT_S  10.0: a request's line and headers must arrive within this
    SHIPYARD_SERVE_MIN_BODY_RATE     1024 bytes/s: a body arriving slower than this over any
    SHIPYARD_SERVE_BODY_RATE_WINDOW_S  5.0 s window is dropped (408; slowloris)
    SHIPYARD_SERVE_ALLOWED_HOSTS     extra Host names (comma-separated; ``*`` for any, ``.x.org``
                                     for a domain and its subdomains) accepted without an API key

    >>> ServeConfig.from_env({"SHIPYARD_SERVE_PORT": "9000"}).port
    9000
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from shipyard.contract import CONTAINER_PORT, SERVE_ENV_PREFIX
from shipyard.errors import ConfigError

__all__ = ["ENV_PREFIX", "ServeConfig"]

ENV_PREFIX = SERVE_ENV_PREFIX
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """How to serve: where to listen, how to batch, what to log and who may call."""

    host: str = "127.0.0.1"
    port: int = CONTAINER_PORT
    workers: int = 1
    follow_alias: bool = False
    poll_seconds: float = 2.0
    max_batch_size: int = 1024
    max_latency_ms: float = 1.0
    batching: bool = True
    api_key_file: Path | None = None
    prediction_log: str | None = None
    prediction_log_queue: int = 10_000
    prediction_log_max_bytes: int = 64 * 1024 * 1024
    prediction_log_rotate_seconds: float = 3600.0
    prediction_log_keep: int = 24
    max_body_bytes: int = 16 * 1024 * 1024
    header_timeout_s: float = 10.0
    min_body_rate: int = 1024
    body_rate_window_s: float = 5.0
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is out of range: use 0-65535")
        checks = (
            ("workers", self.workers >= 1, "at least 1"),
            ("max_batch_size", self.max_batch_size >= 1, "at least 1 row"),
            ("max_latency_ms", self.max_latency_ms >= 0, "0 or more milliseconds"),
            ("poll_seconds", self.poll_seconds > 0, "more than 0 seconds"),
            ("max_body_bytes", self.max_body_bytes >= 1024, "at least 1024 bytes"),
            ("prediction_log_queue", self.prediction_log_queue >= 1, "at least 1 record"),
            ("prediction_log_max_bytes", self.prediction_log_max_bytes >= 1024, ">= 1024 bytes"),
            ("prediction_log_rotate_seconds", self.prediction_log_rotate_seconds > 0, "> 0 s"),
            ("prediction_log_keep", self.prediction_log_keep >= 1, "at least 1 segment"),
            ("header_timeout_s", self.header_timeout_s > 0, "more than 0 seconds"),
            ("min_body_rate", self.min_body_rate >= 0, "0 (no floor) or more bytes/s"),
            ("body_rate_window_s", self.body_rate_window_s > 0, "more than 0 seconds"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ConfigError(f"{name}={getattr(self, name)!r} is invalid: use {expected}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServeConfig:
        """Read ``SHIPYARD_SERVE_*`` (default ``os.environ``); ``overrides`` win over the env."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.name, raw, getattr(cls(), f.name))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The ``SHIPYARD_SERVE_*`` variables that rebuild this config in a worker process."""
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, tuple):
                text = ",".join(value)
            else:
                text = str(value)
            env[ENV_PREFIX + f.name.upper()] = text
        return env

    def with_port(self, port: int) -> ServeConfig:
        return replace(self, port=port)


def _parse(name: str, raw: str, default: Any) -> Any:
    key = ENV_PREFIX + name.upper()
    text = raw.strip()
    try:
        if isinstance(default, tuple):
            return tuple(part.strip() for part in text.split(",") if part.strip())
        if isinstance(default, bool):
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = "1 or 0" if isinstance(default, bool) else type(default).__name__
        raise ConfigError(f"{key}={raw!r} is invalid: expected {kind}") from None
    if name == "api_key_file":
        return Path(text) if text else None
    return text or None
