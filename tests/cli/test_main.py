"""The root command: ``--version`` and ``--help``."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import COMMANDS, app
from shipyard.config import Settings

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"
VISIBLE = [lazy.name for lazy in COMMANDS if not lazy.hidden]


def test_version_prints_the_package_version() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "shipyard", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"shipyard {shipyard.__version__}\n"
    assert shipyard.__version__ == tomllib.loads(PYPROJECT.read_text())["project"]["version"]


def test_help_lists_the_commands_and_the_version_option() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "shipyard", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    for word in ("--version", "models", "serve", "build", "run", "demo"):
        assert word in completed.stdout


def test_each_listed_command_loads_and_its_help_line_is_its_own() -> None:
    """The root lists each sub-command unloaded (``cli/main.py``'s ``COMMANDS``); the line it
    shows must be the first paragraph of the loaded command's own help."""
    for lazy in COMMANDS:
        loaded = lazy.load()
        own = inspect.cleandoc(loaded.help or "").split("\n\n")[0].replace("\n", " ")
        assert lazy.help == own, lazy.name
        assert loaded.hidden == lazy.hidden, lazy.name


def test_help_lists_every_visible_command_once_in_the_table_order() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})

    assert result.exit_code == 0, result.output
    listed = [line.split()[1] for line in result.output.splitlines() if line.startswith("│ ")]
    assert listed[-len(VISIBLE) :] == VISIBLE
    assert "verify-self" not in result.output


def test_a_lazily_listed_group_runs_its_sub_command(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["models", "list", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []


def test_an_unknown_command_suggests_the_listed_one() -> None:
    result = CliRunner().invoke(app, ["modles"])

    assert result.exit_code == 2
    assert "Did you mean 'models'" in result.output
