"""Lineage of a packaged model: who made it, when, from which run, data and code.

The calling code is the first stack frame outside Shipyard; when its file sits in a git work tree,
its commit and whether the tree had uncommitted changes are recorded. ``git`` is run with argv
lists and a timeout; no git, or no repository, just leaves those fields empty.
"""

from __future__ import annotations

import inspect
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from shipyard.models.manifest import Lineage

__all__ = ["calling_source", "capture_lineage", "git_state"]

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
    commit, dirty = git_state(source.parent if source else Path.cwd())
    return Lineage(
        created_at=datetime.now(UTC),
        created_by=created_by,
        run_id=run_id,
        dataset_digest=dataset_digest,
        git_commit=commit,
        git_dirty=dirty,
        source=str(source) if source else None,
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
