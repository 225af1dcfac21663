"""``shipyard models tag set|rm`` against a real embedded registry."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.registry import Registry

from ..registry.handmade import write_model_folder


def _publish(settings: Settings, tmp_path: Path) -> None:
    with Registry.from_settings(settings) as registry:
        registry.publish("iris", tmp_path / "m", write_model_folder(tmp_path / "m", b"w"))


def test_tag_set_and_rm_print_tables_and_json(settings: Settings, tmp_path: Path) -> None:
    _publish(settings, tmp_path)
    runner = CliRunner()
    shown = runner.invoke(app, ["models", "tag", "set", "iris", "1", "team=risk", "note=a=b"])
    assert shown.exit_code == 0, shown.output
    assert "team=risk" in shown.stdout and "note=a=b" in shown.stdout

    removed = runner.invoke(app, ["models", "tag", "rm", "iris", "1", "team", "--json"])
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout) == {"name": "iris", "version": 1, "tags": {"note": "a=b"}}
    with Registry.from_settings(settings) as registry:
        assert registry.get("iris:1").tags == {"note": "a=b"}


def test_tag_errors_exit_with_distinct_codes(settings: Settings, tmp_path: Path) -> None:
    _publish(settings, tmp_path)
    runner = CliRunner()
    malformed = runner.invoke(app, ["models", "tag", "set", "iris", "1", "team"])
    assert malformed.exit_code == 2
    assert "is not KEY=VALUE" in malformed.stderr
    unknown = runner.invoke(app, ["models", "tag", "rm", "iris", "1", "nope", "--json"])
    assert unknown.exit_code == 3
    assert "no tag 'nope'" in json.loads(unknown.stdout)["error"]["message"]
