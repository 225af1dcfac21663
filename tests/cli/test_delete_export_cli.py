"""``models delete`` never guesses a version, ``--all`` asks first, ``export`` never overwrites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from shipyard.cli.main import app
from shipyard.config import Settings


def run(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["models", *args], input=stdin)


def versions(runner: CliRunner) -> list[int]:
    result = run(runner, "versions", "iris", "--json")
    assert result.exit_code == 0, result.output
    return [v["version"] for v in json.loads(result.stdout)]


@pytest.mark.parametrize("ref", ["iris", "iris:latest"])
def test_delete_of_a_bare_name_refuses_and_deletes_nothing(
    runner: CliRunner, iris: Settings, ref: str
) -> None:
    result = run(runner, "delete", ref)

    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "nothing was deleted" in message and "iris:VERSION" in message and "--all" in message
    assert versions(runner) == [1, 2, 3]


def test_delete_all_without_a_terminal_needs_yes(runner: CliRunner, iris: Settings) -> None:
    result = run(runner, "delete", "iris", "--all", "--force", stdin="y\n")

    assert result.exit_code == 2
    assert "pass --yes" in " ".join(result.stderr.split())
    assert versions(runner) == [1, 2, 3]


def test_delete_all_with_yes_refuses_behind_an_alias_then_forced_deletes_all(
    runner: CliRunner, iris: Settings
) -> None:
    refused = run(runner, "delete", "iris", "--all", "--yes", "--json")
    assert refused.exit_code == 4
    assert "production→2" in json.loads(refused.stdout)["error"]["message"]
    assert versions(runner) == [1, 2, 3]

    deleted = run(runner, "delete", "iris", "--all", "--yes", "--force", "--json")
    assert deleted.exit_code == 0, deleted.output
    assert [v["version"] for v in json.loads(deleted.stdout)["deleted"]] == [1, 2, 3]
    assert json.loads(run(runner, "list", "--json").stdout) == []


def test_delete_all_takes_a_name_not_a_version(runner: CliRunner, iris: Settings) -> None:
    result = run(runner, "delete", "iris:1", "--all", "--yes")

    assert result.exit_code == 2
    assert "give iris" in result.stderr
    assert versions(runner) == [1, 2, 3]


def _delete_all_at_a_terminal(
    env: dict[str, str], answer: bytes
) -> subprocess.CompletedProcess[str]:
    """Run ``models delete iris --all --force`` with a pseudo-terminal as stdin."""
    controller, terminal = os.openpty()
    try:
        os.write(controller, answer)
        return subprocess.run(
            [sys.executable, "-m", "shipyard", "models", "delete", "iris", "--all", "--force"],
            stdin=terminal,
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=120,
            check=False,
        )
    finally:
        os.close(controller)
        os.close(terminal)


@pytest.mark.parametrize(("answer", "code", "kept"), [(b"n\n", 2, True), (b"y\n", 0, False)])
def test_delete_all_at_a_terminal_asks_first(
    runner: CliRunner,
    iris: Settings,
    shipyard_env: dict[str, str],
    answer: bytes,
    code: int,
    kept: bool,
) -> None:
    completed = _delete_all_at_a_terminal(shipyard_env, answer)

    assert completed.returncode == code, completed.stderr
    assert "Delete every version of iris?" in completed.stderr
    listed = json.loads(run(runner, "list", "--json").stdout)
    assert [m["latest_version"] for m in listed] == ([3] if kept else [])


def test_export_refuses_to_overwrite_unless_forced(
    runner: CliRunner, iris: Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "iris.tar.gz"
    archive.write_text("my notes, not an archive")

    refused = run(runner, "export", "iris:1", "-o", str(archive), "--json")
    assert refused.exit_code == 4
    assert json.loads(refused.stdout)["error"]["type"] == "ConflictError"
    assert archive.read_text() == "my notes, not an archive"

    forced = run(runner, "export", "iris:1", "-o", str(archive), "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["model"] == {
        "name": "iris",
        "version": 1,
        "digest": json.loads(run(runner, "show", "iris:1", "--json").stdout)["digest"],
    }
