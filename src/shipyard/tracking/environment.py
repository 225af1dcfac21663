"""What a run ran on: git commit and dirty flag, Python, installed packages, host and argv.

Recorded once when a run starts (``tracking_run_environment``) and mirrored into MLflow's own tags
(``mlflow.source.git.commit``, ``mlflow.source.name``, ``mlflow.user``) so MLflow tools show it too.

    >>> environment = capture_environment()
    >>> environment["python"]
    '3.11.7'
"""

from __future__ import annotations

import inspect
import platform
import socket
import sys
import sysconfig
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from shipyard.models.lineage import git_state

__all__ = ["calling_file", "capture_environment", "environment_tags"]


_SHIPYARD_ROOT = Path(__file__).resolve().parents[1]
_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def calling_file() -> Path | None:
    """The file of the first caller outside Shipyard and the standard library (``contextlib``)."""
    for frame_info in inspect.stack(context=0)[1:]:
        path = Path(frame_info.filename)
        if not path.is_file():
            continue
        resolved = path.resolve()
        if not resolved.is_relative_to(_SHIPYARD_ROOT) and not resolved.is_relative_to(_STDLIB):
            return resolved
    return None


def _packages(names: Iterable[str] | None = None) -> dict[str, str]:
    found: dict[str, str] = {}
    if names is not None:  # a version look-up each: scanning every distribution costs ~0.1 s
        for name in names:
            try:
                found[name.lower()] = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return dict(sorted(found.items()))
    for distribution in metadata.distributions():
        name = distribution.name
        if name:
            found[str(name).lower()] = distribution.version
    return dict(sorted(found.items()))


def capture_environment(
    source: Path | None = None, packages: Iterable[str] | None = None
) -> dict[str, Any]:
    """A JSON-able description of this process: source file, git, Python, packages, host, argv.

    ``packages`` names the distributions to record (default: every installed one)."""
    source = source if source is not None else calling_file()
    commit, dirty = git_state(source.parent if source else Path.cwd())
    return {
        "source": str(source) if source else None,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "argv": list(sys.argv),
        "packages": _packages(packages),
    }


def environment_tags(environment: dict[str, Any], user: str) -> dict[str, str]:
    """MLflow's system tags for the same facts (what its UI and clients read)."""
    tags = {"mlflow.user": user, "mlflow.source.type": "LOCAL"}
    if environment.get("source"):
        tags["mlflow.source.name"] = str(environment["source"])
    if environment.get("git_commit"):
        tags["mlflow.source.git.commit"] = str(environment["git_commit"])
        tags["shipyard.git.dirty"] = str(bool(environment.get("git_dirty"))).lower()
    tags["shipyard.python"] = str(environment["python"])
    tags["shipyard.host"] = str(environment["host"])
    return tags
