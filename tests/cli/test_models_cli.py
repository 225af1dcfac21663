"""``shipyard models ...`` against a real embedded registry: tables, --json and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from typer.testing import CliRunner, Result

import shipyard
from shipyard.cli.main import app
from shipyard.config import Settings


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(app, ["models", *args])


def run_json(runner: CliRunner, *args: str) -> Any:
    result = run(runner, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_prints_a_table_and_json(runner: CliRunner, iris: Settings) -> None:
    table = run(runner, "list")
    assert table.exit_code == 0
    assert "iris" in table.stdout and "production→2" in table.stdout

    [summary] = run_json(runner, "list")
    assert summary["name"] == "iris"
    assert summary["latest_version"] == 3
    assert summary["aliases"] == {"production": 2}


def test_show_and_versions(runner: CliRunner, iris: Settings) -> None:
    shown = run_json(runner, "show", "iris@production")
    assert (shown["name"], shown["version"], shown["aliases"]) == ("iris", 2, ["production"])
    assert {f["path"] for f in shown["files"]} == {"model.bin", "shipyard.json"}

    table = run(runner, "show", "iris:1")
    assert table.exit_code == 0 and "sha256:" in table.stdout

    listed = run_json(runner, "versions", "iris")
    assert [v["version"] for v in listed] == [1, 2, 3]


def test_alias_set_rollback_rm_and_history(runner: CliRunner, iris: Settings) -> None:
    moved = run_json(runner, "alias", "set", "iris", "production", "3")
    assert moved["changed"] is True
    assert (moved["event"]["from_version"], moved["event"]["to_version"]) == (2, 3)
    unchanged = run(runner, "alias", "set", "iris", "production", "3")
    assert "already points at version 3" in unchanged.stdout

    rolled = run_json(runner, "rollback", "iris", "production")
    assert rolled["changed"] is True
    assert (rolled["event"]["from_version"], rolled["event"]["to_version"]) == (3, 2)

    removed = run(runner, "alias", "rm", "iris", "production")
    assert removed.exit_code == 0 and "was version 2" in removed.stdout

    history = run_json(runner, "history", "iris")
    assert [e["action"] for e in history] == ["set", "set", "rollback", "remove"]
    assert {e["actor"] for e in history} == {"tester"}
    assert "rollback" in run(runner, "history", "iris").stdout


def test_delete_is_refused_behind_alias_and_forced(runner: CliRunner, iris: Settings) -> None:
    refused = run(runner, "delete", "iris:2", "--json")
    assert refused.exit_code == 4
    assert json.loads(refused.stdout)["error"]["type"] == "ConflictError"

    forced = run_json(runner, "delete", "iris:2", "--force")
    assert [(v["name"], v["version"]) for v in forced["deleted"]] == [("iris", 2)]
    assert [v["version"] for v in run_json(runner, "versions", "iris")] == [1, 3]


def test_export_then_import_into_another_home(
    runner: CliRunner, iris: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "iris-2.tar.gz"
    exported = run_json(runner, "export", "iris@production", "-o", str(archive))
    assert exported["path"] == str(archive)
    assert (exported["model"]["name"], exported["model"]["version"]) == ("iris", 2)

    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "air-gapped"))
    imported = run_json(runner, "import", str(archive))
    assert (imported["name"], imported["version"]) == ("iris", 2)
    assert [s["name"] for s in run_json(runner, "list")] == ["iris"]


def test_import_of_a_damaged_archive_exits_5(
    runner: CliRunner, iris: Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(b"not an archive")

    result = run(runner, "import", str(archive))

    assert result.exit_code == 5
    assert "not a readable Shipyard export archive" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "iris:9"), 3, "no version 9: model 'iris' has versions 1-3"),
        (("show", "wine"), 3, "no model named 'wine'"),
        (("show", "../etc"), 2, "invalid model name"),
        (("alias", "set", "iris", "latest", "1"), 2, "reserved"),
        (("rollback", "iris", "production"), 4, "no previous target"),
        (("alias", "rm", "iris", "staging"), 3, "no alias 'staging'"),
    ],
)
def test_errors_exit_non_zero_with_a_message(
    runner: CliRunner, iris: Settings, args: tuple[str, ...], code: int, message: str
) -> None:
    result = run(runner, *args)

    assert result.exit_code == code
    assert message in " ".join(result.stderr.split())


def test_show_prints_the_signature_of_a_saved_model(runner: CliRunner, settings: Settings) -> None:
    features = np.arange(8, dtype=np.float64).reshape(-1, 1)
    model = DummyClassifier(strategy="most_frequent").fit(features, np.arange(8) % 2)
    shipyard.save_model(model, "dummy", sample_input=features[:2], settings=settings)

    result = run(runner, "show", "dummy")

    assert result.exit_code == 0
    assert "Signature" in result.stdout and "FP64" in result.stdout


def test_console_command_exits_with_the_error_code(shipyard_env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "shipyard", "models", "show", "missing", "--json"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert completed.returncode == 3
    assert json.loads(completed.stdout) == {
        "error": {
            "type": "NotFoundError",
            "message": "no model named 'missing': the registry is empty (save one first)",
            "exit_code": 3,
        }
    }


def test_error_messages_keep_their_square_brackets(
    runner: CliRunner, iris: Settings, tmp_path: Path
) -> None:
    result = run(runner, "export", "iris:1", "-o", str(tmp_path / "missing" / "[x].tar.gz"))

    assert result.exit_code == 10
    assert "[x].tar.gz" in result.stderr and "[Errno 2]" in result.stderr


def test_show_prints_brackets_in_requirements_and_tags_verbatim(
    runner: CliRunner, settings: Settings
) -> None:
    features = np.arange(8, dtype=np.float64).reshape(-1, 1)
    model = DummyClassifier(strategy="most_frequent").fit(features, np.arange(8) % 2)
    shipyard.save_model(
        model,
        "dummy",
        requirements=["uvicorn[standard]==0.30.0"],
        tags={"note": "[bold]raw[/bold]"},
        settings=settings,
    )

    result = run(runner, "show", "dummy")

    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "uvicorn[standard]==0.30.0" in text and "note │ [bold]raw[/bold]" in text


def test_show_prints_the_whole_digest_in_a_narrow_terminal(
    runner: CliRunner, iris: Settings
) -> None:
    digest = run_json(runner, "show", "iris:1")["digest"]

    result = run(runner, "show", "iris:1")

    assert result.exit_code == 0
    assert digest in "".join(line.strip("│ ") for line in result.stdout.splitlines())


def test_unusable_home_exits_2_saying_how_to_fix_it(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "a-file" / "home"))
    monkeypatch.delenv("SHIPYARD_DB_URL", raising=False)

    result = run(runner, "list")

    assert result.exit_code == 2
    assert "set SHIPYARD_HOME" in " ".join(result.stderr.split())


def test_show_lists_lineage_requirements_metadata_and_tags(
    runner: CliRunner, settings: Settings
) -> None:
    features = np.arange(8, dtype=np.float64).reshape(-1, 1)
    model = DummyClassifier(strategy="most_frequent").fit(features, np.arange(8) % 2)
    shipyard.save_model(
        model,
        "dummy",
        sample_input=features[:2],
        metadata={"metrics": {"accuracy": 0.5}, "owner": "ml"},
        tags={"team": "fraud"},
        run_id="run-42",
        dataset_digest="sha256:abc",
        settings=settings,
    )
    shown = run_json(runner, "show", "dummy")

    text = " ".join(run(runner, "show", "dummy").stdout.split())

    for expected in (
        "Lineage",
        "run id │ run-42",
        "dataset digest │ sha256:abc",
        f"sha256:{shown['digest']}",
        "Requirements",
        "inferred at save time",
        f"python │ {shown['manifest']['requirements']['python_version']}",
        *shown["manifest"]["requirements"]["packages"],
        'metadata │ metrics │ {"accuracy": 0.5}',
        "tag │ team │ fraud",
        "by tester",
        "Signature (tensor)",
    ):
        assert expected in text, expected
