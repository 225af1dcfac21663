"""The root command: ``--version`` and ``--help``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import shipyard

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


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
