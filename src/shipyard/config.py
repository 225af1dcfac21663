"""Settings, built once from ``SHIPYARD_*`` environment variables and passed down.

SHIPYARD_HOME           where the embedded registry lives (default ``~/.shipyard``)
SHIPYARD_DB_URL         metadata database: ``sqlite:///...`` (default) or ``postgresql://...``
SHIPYARD_ARTIFACT_URL   artifact store: a folder (default ``$SHIPYARD_HOME/artifacts``),
                        ``file://...`` or ``s3://bucket/prefix``
SHIPYARD_S3_ENDPOINT_URL  endpoint of an S3-compatible store (MinIO, Ceph, ...)
SHIPYARD_USER           who is recorded in lineage and audit history (default: login name)
SHIPYARD_BUILD_CACHE    where downloaded wheels are kept for image builds
                        (default ``$SHIPYARD_HOME/cache/build``)
SHIPYARD_DEPLOY_LB_IMAGE  the nginx image of the docker and swarm balancers (default
                        ``nginx:1.27``; ``shipyard deploy --lb-image`` overrides it)
SHIPYARD_TRUSTED_KEYS   ed25519 public keys (``*.pub`` files, or folders of them, separated by
                        ``:``) a version must be signed by before it is imported, loaded, served
                        or built (``shipyard models sign``); unset: signatures are not required
SHIPYARD_IMPORT_MAX_BYTES, SHIPYARD_IMPORT_MAX_ENTRIES, SHIPYARD_IMPORT_MAX_DEPTH,
SHIPYARD_IMPORT_MAX_RATIO, SHIPYARD_IMPORT_MAX_DESCRIPTOR_BYTES
                        the bounds of ``shipyard models import`` (see ``ImportLimits``)

>>> settings = Settings.from_env({"SHIPYARD_HOME": "/tmp/sy"})
>>> settings.registry.db_url
'sqlite:////tmp/sy/registry.db'
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.errors import ConfigError

__all__ = ["ImportLimits", "RegistrySettings", "Settings"]

_DB_SCHEMES = ("sqlite", "postgresql", "postgres")
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")  # USER:PASSWORD@, kept out of messages


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """Where model metadata and artifacts are stored."""

    db_url: str
    artifact_url: str
    s3_endpoint_url: str | None = None

    @property
    def is_embedded(self) -> bool:
        """True for the default SQLite + local folder registry."""
        return self.db_url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """How big an archive ``shipyard models import`` accepts; each is checked while streaming,
    before the entry that would pass it is written."""

    max_bytes: int = 16 * 1024**3
    """Total uncompressed size of the archive's files (16 GiB)."""
    max_entries: int = 10_000
    """Files and folders in the archive."""
    max_depth: int = 32
    """Folders in one entry's path."""
    max_ratio: int = 100
    """Uncompressed bytes per compressed byte, once past ``RATIO_FLOOR_BYTES`` (a bomb)."""
    max_descriptor_bytes: int = 8 * 1024**2
    """Size of ``shipyard-version.json`` and ``shipyard.json`` (8 MiB)."""

    RATIO_FLOOR_BYTES = 16 * 1024**2
    """Below this many uncompressed bytes the ratio is not checked (small archives vary)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ImportLimits:
        """Read ``SHIPYARD_IMPORT_MAX_*`` (positive integers); unset ones keep their default."""
        values: dict[str, int] = {}
        for name in ("max_bytes", "max_entries", "max_depth", "max_ratio", "max_descriptor_bytes"):
            variable = f"SHIPYARD_IMPORT_{name.upper()}"
            text = env.get(variable)
            if text:
                values[name] = _positive_int(variable, text)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Settings:
    """All of Shipyard's settings; build once with ``Settings.from_env()``."""

    home: Path
    user: str
    registry: RegistrySettings = field(repr=False)
    build_cache: Path | None = None  # None: ``home / "cache" / "build"`` (see ``wheel_cache``)
    deploy_lb_image: str | None = None  # None: ``deploy.spec.DEFAULT_LB_IMAGE``
    import_limits: ImportLimits = field(default_factory=ImportLimits)
    trusted_keys: tuple[Path, ...] = ()  # empty: no signature required (registry/signing.py)

    @property
    def wheel_cache(self) -> Path:
        """Where image builds keep downloaded wheels."""
        return self.build_cache or self.home / "cache" / "build"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``environ`` (default ``os.environ``), validating each value."""
        env = os.environ if environ is None else environ
        home = Path(env.get("SHIPYARD_HOME") or Path.home() / ".shipyard").expanduser()
        db_url = env.get("SHIPYARD_DB_URL") or f"sqlite:///{home / 'registry.db'}"
        scheme = db_url.split(":", 1)[0].split("+", 1)[0]
        if scheme not in _DB_SCHEMES:
            shown = _PASSWORD.sub(r"\1***@", db_url)
            raise ConfigError(
                f"SHIPYARD_DB_URL={shown!r} is not supported: use sqlite:///PATH or "
                "postgresql://USER:PASSWORD@HOST/DB"
            )
        artifact_url = env.get("SHIPYARD_ARTIFACT_URL") or str(home / "artifacts")
        build_cache = env.get("SHIPYARD_BUILD_CACHE")
        return cls(
            home=home,
            user=env.get("SHIPYARD_USER") or _login_name(),
            registry=RegistrySettings(
                db_url=db_url,
                artifact_url=artifact_url,
                s3_endpoint_url=env.get("SHIPYARD_S3_ENDPOINT_URL") or None,
            ),
            build_cache=Path(build_cache).expanduser() if build_cache else None,
            deploy_lb_image=env.get("SHIPYARD_DEPLOY_LB_IMAGE") or None,
            import_limits=ImportLimits.from_env(env),
            trusted_keys=tuple(
                Path(part).expanduser()
                for part in (env.get("SHIPYARD_TRUSTED_KEYS") or "").split(os.pathsep)
                if part.strip()
            ),
        )


def _positive_int(variable: str, text: str) -> int:
    value = int(text) if re.fullmatch(r"[0-9]{1,19}", text.strip()) else 0
    if value < 1:
        raise ConfigError(f"{variable}={text!r} is not a positive integer, e.g. {variable}=1000")
    return value


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"
