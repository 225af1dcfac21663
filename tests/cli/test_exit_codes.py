"""Different causes exit with different codes, as the table in ``cli/output.py`` says."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard import errors
from shipyard.cli import exitcodes, output
from shipyard.cli.main import app
from shipyard.config import Settings

GUIDE = Path(__file__).parents[2] / "docs" / "guide" / "cli.md"


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another process (this test) listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _documented_codes(text: str, pattern: str) -> dict[int, str]:
    return {int(code): cause.strip() for code, cause in re.findall(pattern, text, re.MULTILINE)}


def test_the_docstring_and_the_guide_document_every_exit_code() -> None:
    docstring = _documented_codes(exitcodes.__doc__ or "", r"^\s+exit (\d+)\s+(.+)$")
    guide = _documented_codes(GUIDE.read_text(), r"^\| (\d+) \| (.+?) \|")
    mapped = {code for _, code in output.EXIT_CODES} | {0, 1}

    assert set(docstring) == mapped
    assert set(guide) == mapped


def test_each_kind_of_failure_has_its_own_code() -> None:
    kinds = [
        errors.NotFoundError,
        errors.ConflictError,
        errors.IntegrityError,
        errors.DockerUnavailableError,
        errors.AddressInUseError,
        errors.ModelLoadError,
        errors.BuildError,
        errors.StoreError,
        errors.SmokeTestError,
        errors.PipelineRunError,
        errors.DeployError,
        errors.RolloutError,
        errors.ClusterUnavailableError,
        errors.LimitExceededError,
        errors.TrustError,
        errors.UnsafeArtifactError,
    ]
    codes = [output.exit_code_for(kind("x")) for kind in kinds]
    assert len(set(codes)) == len(codes)
    assert 1 not in codes and 2 not in codes
    usage = [errors.InvalidNameError, errors.InvalidInputError, errors.ConfigError]
    assert {output.exit_code_for(kind("x")) for kind in usage} == {2}
    assert output.exit_code_for(errors.PredictionError("x")) == 1


def _serve(target: str, port: int, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "shipyard", "serve", target, "--port", str(port)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_serve_on_a_busy_port_and_serve_of_a_missing_model_exit_differently(
    iris: Settings, shipyard_env: dict[str, str], busy_port: int
) -> None:
    env = {**os.environ, **shipyard_env}

    busy = _serve("iris:1", busy_port, env)
    missing = _serve("wine:1", busy_port, env)

    assert busy.returncode == 7, busy.stderr
    assert f"127.0.0.1:{busy_port} is already in use" in busy.stderr
    assert "--port" in busy.stderr
    assert missing.returncode == 3, missing.stderr
    assert "no model named 'wine'" in missing.stderr


def test_demo_on_a_busy_port_exits_7_before_training(
    runner: CliRunner, settings: Settings, busy_port: int
) -> None:
    result = runner.invoke(app, ["demo", "--port", str(busy_port), "--json"])

    assert result.exit_code == 7, result.output
    assert json.loads(result.stdout)["error"]["type"] == "AddressInUseError"
    assert not (settings.home / "demo-request.json").exists()


def test_run_on_a_busy_port_exits_7_before_docker(
    runner: CliRunner, settings: Settings, busy_port: int
) -> None:
    result = runner.invoke(app, ["run", "shipyard/iris:1", "--port", str(busy_port), "--json"])

    assert result.exit_code == 7, result.output
    assert json.loads(result.stdout)["error"]["exit_code"] == 7
