"""Which daemon a command may use: its folder, its socket's name and the freshness signature.

Stdlib only: the client imports this before anything else.

- The socket is named by the install: this interpreter, Shipyard's folder and ``sys.path``.
- The signature says whether what the daemon imported is still what is on disk: the newest
  modification time among Shipyard's sources and the modification time of every ``sys.path``
  folder (installing, upgrading or removing a package changes its site-packages folder).
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "DaemonPaths",
    "daemon_dir",
    "daemon_paths",
    "install_signature",
    "is_enabled",
    "is_routed",
]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
ROUTED_COMMANDS = frozenset({"pipeline"})
"""First arguments whose commands run in the daemon: short-lived, non-interactive ones."""


class DaemonPaths:
    """The socket, lock and log files of one install's daemon."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.socket = folder / f"{name}.sock"
        self.lock = folder / f"{name}.lock"
        self.log = folder / f"{name}.log"


def is_enabled(environ: Mapping[str, str]) -> bool:
    """``SHIPYARD_DAEMON`` decides; unset, the daemon is used except under CI."""
    value = environ.get("SHIPYARD_DAEMON", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return environ.get("CI", "").strip().lower() in ("", *_FALSE)


def is_routed(args: list[str]) -> bool:
    """Whether ``shipyard ARGS`` runs in the daemon (its first argument names a routed group)."""
    return bool(args) and args[0] in ROUTED_COMMANDS


def daemon_dir(environ: Mapping[str, str]) -> Path:
    """The folder of the daemon's socket: ``SHIPYARD_DAEMON_DIR``, or a per-user runtime one."""
    if configured := environ.get("SHIPYARD_DAEMON_DIR"):
        return Path(configured)
    if runtime := environ.get("XDG_RUNTIME_DIR"):
        return Path(runtime) / "shipyard"
    return Path("/tmp") / f"shipyard-{os.getuid()}"  # noqa: S108 - checked: ours, mode 0700


def ensure_private_dir(folder: Path) -> bool:
    """Create ``folder`` (mode 0700); False when it exists but another user could use it."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    private = not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and private


def _shipyard_root() -> Path:
    import shipyard

    return Path(shipyard.__file__).resolve().parent


def _search_path() -> list[str]:
    """``sys.path`` without its first entry (the script's or the working folder)."""
    return [os.path.abspath(p) for p in sys.path[1:]]


def daemon_paths(environ: Mapping[str, str]) -> DaemonPaths:
    """The files of this install's daemon, in :func:`daemon_dir`."""
    install = "\n".join([sys.executable, sys.version, str(_shipyard_root()), *_search_path()])
    name = "cli-" + hashlib.sha256(install.encode()).hexdigest()[:16]
    return DaemonPaths(daemon_dir(environ), name)


def _newest_source(root: Path) -> int:
    newest = 0
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(entry.path)
                elif entry.name.endswith(".py"):
                    newest = max(newest, entry.stat().st_mtime_ns)
    return newest


def install_signature() -> str:
    """What the daemon's imports were read from, as of now (compared at every command)."""
    parts = [f"shipyard {_newest_source(_shipyard_root())}"]
    for entry in _search_path():
        try:
            parts.append(f"{entry} {os.stat(entry).st_mtime_ns}")
        except OSError:
            parts.append(f"{entry} -")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
