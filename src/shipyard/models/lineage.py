"""Lineage of a packaged model: who made it, when, from which run, data and code.

The calling code is the first stack frame outside Shipyard; when its file sits in a git work tree,
its commit, whether the tree had uncommitted changes and its remote (``origin``, else the first
one) are recorded. The remote is kept only as a URL a person can open, credentials stripped:
``git@github.com:org/repo.git`` becomes ``https://github.com/org/repo``; a local path is dropped.
``git`` is run with argv lists and a timeout; no git, or no repository, leaves those fields empty.

    >>> repository_url("https://ci:s3cret@gitlab.example.com/ml/churn.git")
    'https://gitlab.example.com/ml/churn'
"""

from __future__ import annotations

import inspect
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from shipyard.models.manifest import Lineage

__all__ = ["calling_source", "capture_lineage", "git_remote", "git_state", "repository_url"]

_SHIPYARD_ROOT = Path(__file__).resolve().parents[1]
_GIT_TIMEOUT_S = 5.0


def capture_lineage(
    *,
    created_by: str,
    run_id: str | None = None,
    dataset_digest: str | None = None,
    source: Path | None = None,
) -> Lineage:
    """Lineage for a model packaged now; ``source`` defaults to the calling code's file."""
    source = source if source is not None else calling_source()
    directory = source.parent if source else Path.cwd()
    commit, dirty = git_state(directory)
    return Lineage(
        created_at=datetime.now(UTC),
        created_by=created_by,
        run_id=run_id,
        dataset_digest=dataset_digest,
        git_commit=commit,
        git_dirty=dirty,
        source=str(source) if source else None,
        repository=git_remote(directory) if commit else None,
    )


def calling_source() -> Path | None:
    """The file of the first caller outside Shipyard (None in a REPL or a notebook cell)."""
    for frame_info in inspect.stack(context=0)[1:]:
        path = Path(frame_info.filename)
        if not path.is_file():
            continue
        resolved = path.resolve()
        if not resolved.is_relative_to(_SHIPYARD_ROOT):
            return resolved
    return None


def git_state(directory: Path) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git work tree containing ``directory``, or ``(None, None)``."""
    commit = _git(directory, "rev-parse", "--verify", "HEAD")
    if commit is None:
        return None, None
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status)


def git_remote(directory: Path) -> str | None:
    """The URL of the work tree's ``origin`` (else first) remote, see ``repository_url``."""
    names = (_git(directory, "remote") or "").split()
    if not names:
        return None
    name = "origin" if "origin" in names else names[0]
    return repository_url(_git(directory, "remote", "get-url", name) or "")


def repository_url(remote: str) -> str | None:
    """A git remote as an ``https://`` (or ``http://``) URL without credentials, or None when it
    is a local path or not a URL at all."""
    text = remote.strip()
    scp = re.fullmatch(r"(?:[^@/\s]+@)?([A-Za-z0-9.-]+):(?!//)([^\s]+)", text)
    if scp and len(scp.group(1)) > 1 and "\\" not in text:  # scp-like; "C:/x" is a drive
        host, path = scp.groups()
        return _https(host, path)
    parts = urlsplit(text)
    if parts.scheme not in ("ssh", "git", "git+ssh", "https", "http") or not parts.hostname:
        return None
    if parts.scheme in ("https", "http"):  # keep its port; an ssh port means nothing to https
        host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        return _https(host, parts.path, scheme=parts.scheme)
    return _https(parts.hostname, parts.path)


def _https(host: str, path: str, scheme: str = "https") -> str | None:
    path = path.strip("/").removesuffix(".git").strip("/")
    if not path:
        return None
    return f"{scheme}://{host}/{path}"


def _git(directory: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(directory), *args],  # noqa: S607 - git from PATH on purpose
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None
