"""Pipelines fixtures: a private SHIPYARD_HOME, a copy of the example project, a runner.

The example pipeline (examples/pipelines/cancer.py) is run once per module and its home and
project are copied for each test, so a test that edits a step starts from a warm cache.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shipyard.config import Settings
from shipyard.pipelines.loader import load_pipeline
from shipyard.pipelines.runner import RunOptions, RunSummary, run_pipeline

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipelines"
TINY = Path(__file__).resolve().parent / "fixtures" / "tiny.py"


@dataclass
class Workspace:
    """A SHIPYARD_HOME and a pipeline project folder."""

    home: Path
    project: Path

    @property
    def settings(self) -> Settings:
        return Settings.from_env({"SHIPYARD_HOME": str(self.home), "SHIPYARD_USER": "tester"})

    @property
    def file(self) -> Path:
        return self.project / "cancer.py"

    def edit(self, old: str, new: str, file: str = "cancer.py") -> None:
        path = self.project / file
        text = path.read_text()
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new))

    def run(self, target: str | Path | None = None, **options: Any) -> RunSummary:
        loaded = load_pipeline(str(target or self.file))
        return run_pipeline(loaded, self.settings, RunOptions(**options))

    def copy(self, dest: Path) -> Workspace:
        shutil.copytree(self.home, dest / "home")
        shutil.copytree(self.project, dest / "project")
        return Workspace(dest / "home", dest / "project")


def statuses(summary: RunSummary) -> dict[str, str]:
    return {s.node: s.status for s in summary.steps}


def executed(summary: RunSummary) -> set[str]:
    return {s.node for s in summary.steps if s.status == "succeeded" and not s.resumed}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """An empty home and a fresh copy of the example project."""
    shutil.copytree(EXAMPLE, tmp_path / "project", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SHIPYARD_USER", "tester")
    return Workspace(tmp_path / "home", tmp_path / "project")


def warm_workspace(
    factory: pytest.TempPathFactory, name: str, run: Callable[[Workspace], RunSummary]
) -> tuple[Workspace, RunSummary]:
    """The example project run once with ``run``: a home with every step cached."""
    root = factory.mktemp(name)
    shutil.copytree(EXAMPLE, root / "project", ignore=shutil.ignore_patterns("__pycache__"))
    space = Workspace(root / "home", root / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHIPYARD_HOME", str(space.home))
        patch.setenv("SHIPYARD_USER", "tester")
        summary = run(space)
    return space, summary


@pytest.fixture
def fresh_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Workspace], Workspace]:
    """Copy a warm workspace for one test, with SHIPYARD_HOME pointing at the copy."""

    def copy(space: Workspace) -> Workspace:
        copied = space.copy(tmp_path)
        monkeypatch.setenv("SHIPYARD_HOME", str(copied.home))
        monkeypatch.setenv("SHIPYARD_USER", "tester")
        return copied

    return copy
