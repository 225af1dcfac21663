from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shipyard.models.lineage import (
    calling_source,
    capture_lineage,
    git_remote,
    git_state,
    repository_url,
)
from shipyard.models.packaging import package_model


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q")
    (path / "train.py").write_text("print('train')\n")
    _git(path, "add", "train.py")
    _git(path, "commit", "-q", "-m", "first")
    return path


def test_git_state_reports_commit_and_clean_tree(repo: Path) -> None:
    assert git_state(repo) == (_git(repo, "rev-parse", "HEAD"), False)


def test_git_state_reports_dirty_tree_after_an_edit(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    commit, dirty = git_state(repo)
    assert commit == _git(repo, "rev-parse", "HEAD")
    assert dirty is True


def test_git_state_outside_a_repository_is_empty(tmp_path: Path) -> None:
    assert git_state(tmp_path) == (None, None)


def test_lineage_of_a_script_in_a_repo_records_its_commit(repo: Path) -> None:
    lineage = capture_lineage(
        created_by="ana", run_id="run-7", dataset_digest="sha256:ab", source=repo / "train.py"
    )
    assert lineage.git_commit == _git(repo, "rev-parse", "HEAD")
    assert lineage.git_dirty is False
    assert lineage.source == str(repo / "train.py")
    assert (lineage.created_by, lineage.run_id, lineage.dataset_digest) == (
        "ana",
        "run-7",
        "sha256:ab",
    )


def test_calling_source_is_the_first_frame_outside_shipyard() -> None:
    assert calling_source() == Path(__file__).resolve()


def test_package_model_records_lineage_of_its_caller(
    tmp_path: Path, sklearn_pipeline: object
) -> None:
    manifest = package_model(
        sklearn_pipeline,
        tmp_path / "model",
        created_by="tester",
        run_id="run-1",
        dataset_digest="sha256:00",
    )
    lineage = manifest.lineage
    assert lineage.created_by == "tester"
    assert lineage.run_id == "run-1"
    assert lineage.dataset_digest == "sha256:00"
    assert lineage.source == str(Path(__file__).resolve())
    assert lineage.created_at.tzinfo is UTC
    assert datetime.now(UTC) - lineage.created_at < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:org/repo.git", "https://github.com/org/repo"),
        (
            "https://ci:s3cret@gitlab.example.com/ml/churn.git",
            "https://gitlab.example.com/ml/churn",
        ),
        ("ssh://git@host.example:2222/org/repo.git", "https://host.example/org/repo"),
        ("http://10.0.0.1:3000/a/b", "http://10.0.0.1:3000/a/b"),
        ("/srv/git/repo.git", None),
        ("../repo", None),
        ("file:///srv/git/repo", None),
        ("C:/work/repo", None),
    ],
)
def test_remote_becomes_a_url_without_credentials_or_none(remote: str, url: str | None) -> None:
    assert repository_url(remote) == url


def test_lineage_records_the_origin_remote_as_a_url(repo: Path) -> None:
    _git(repo, "remote", "add", "backup", "/srv/backup.git")
    _git(repo, "remote", "add", "origin", "https://tok:x@github.com/org/churn.git")
    assert git_remote(repo) == "https://github.com/org/churn"
    lineage = capture_lineage(created_by="ana", source=repo / "train.py")
    assert lineage.repository == "https://github.com/org/churn"


def test_lineage_of_a_repo_with_only_a_local_remote_has_no_repository(repo: Path) -> None:
    _git(repo, "remote", "add", "origin", str(repo.parent / "elsewhere.git"))
    assert capture_lineage(created_by="ana", source=repo / "train.py").repository is None
