"""``ServerConfig``: every knob of ``shipyard server``, from options or ``SHIPYARD_SERVER_*``.

    SHIPYARD_SERVER_MAX_UPLOAD_MB     5120 (5 GiB): the largest artifact one PUT may upload
    SHIPYARD_SERVER_ALLOWED_HOSTS     extra Host names (comma-separated; ``*`` for any,
                                      ``.example.org`` for a domain and its subdomains)
    SHIPYARD_SERVER_ARTIFACT_SCHEMES  URI schemes an experiment's ``artifact_location`` may use
                                      besides ``mlflow-artifacts`` (e.g. ``s3,file``)
    SHIPYARD_SERVER_KEYS_FILE         the hashed access keys (default
                                      ``$SHIPYARD_HOME/server-keys.json``)

An option given on the command line wins over its variable.

    >>> ServerConfig.from_env({"SHIPYARD_SERVER_MAX_UPLOAD_MB": "10"}).max_upload_bytes
    10485760
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.errors import ConfigError

__all__ = ["DEFAULT_MAX_UPLOAD_MB", "ServerConfig"]

DEFAULT_MAX_UPLOAD_MB = 5 * 1024
_MIB = 1024 * 1024
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Where ``shipyard server`` listens and what it lets in."""

    host: str = "127.0.0.1"
    port: int = 5000
    access_log: bool = True
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * _MIB
    allowed_hosts: tuple[str, ...] = ()
    artifact_schemes: tuple[str, ...] = ()
    keys_file: Path | None = field(default=None)
    """None: ``$SHIPYARD_HOME/server-keys.json``."""
    insecure: bool = False
    """Serve a non-loopback address without keys (anyone who reaches it may write)."""

    def keys_path(self, home: Path) -> Path:
        """The file of hashed access keys."""
        return self.keys_file or home / "server-keys.json"

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        access_log: bool = True,
        max_upload_mb: int | None = None,
        allowed_hosts: tuple[str, ...] = (),
        artifact_schemes: tuple[str, ...] = (),
        insecure: bool = False,
    ) -> ServerConfig:
        """The config from ``environ`` (default ``os.environ``), options overriding it."""
        env = os.environ if environ is None else environ
        if max_upload_mb is None:
            text = env.get("SHIPYARD_SERVER_MAX_UPLOAD_MB", "").strip()
            max_upload_mb = _positive_int("SHIPYARD_SERVER_MAX_UPLOAD_MB", text) if text else None
        elif max_upload_mb < 1:
            raise ConfigError(f"--max-upload-mb {max_upload_mb} must be at least 1")
        keys_file = env.get("SHIPYARD_SERVER_KEYS_FILE")
        return cls(
            host=host or "127.0.0.1",
            port=5000 if port is None else port,
            access_log=access_log,
            max_upload_bytes=(max_upload_mb or DEFAULT_MAX_UPLOAD_MB) * _MIB,
            allowed_hosts=allowed_hosts or _names(env.get("SHIPYARD_SERVER_ALLOWED_HOSTS", "")),
            artifact_schemes=_schemes(
                ",".join(artifact_schemes) or env.get("SHIPYARD_SERVER_ARTIFACT_SCHEMES", "")
            ),
            keys_file=Path(keys_file).expanduser() if keys_file else None,
            insecure=insecure,
        )


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _schemes(text: str) -> tuple[str, ...]:
    schemes = tuple(name.lower() for name in _names(text))
    for scheme in schemes:
        if not _SCHEME.fullmatch(scheme):
            raise ConfigError(
                f"SHIPYARD_SERVER_ARTIFACT_SCHEMES names {scheme!r}, which is not a URI scheme: "
                "list schemes like s3,gs,file"
            )
    return schemes


def _positive_int(variable: str, text: str) -> int:
    value = int(text) if re.fullmatch(r"[0-9]{1,12}", text) else 0
    if value < 1:
        raise ConfigError(f"{variable}={text!r} is not a positive integer, e.g. {variable}=1024")
    return value
