"""``--json`` follows one convention on every command (docs/guide/cli.md).

One document on stdout; snake_case keys; listings are arrays of objects, everything else one
object; versions inside other results are ``{"name", "version", "digest"}``; alias moves are
``{"changed", "event"}``; errors are ``{"error": {"type", "message", "exit_code"}}``.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from shipyard.cli.lazy_group import DeferredCommand
from shipyard.cli.main import app
from shipyard.config import Settings

# Commands that run a server or a job in the foreground print logs, not a result; ``verify-self``
# runs inside an image and always prints JSON; ``monitor rules`` prints Prometheus's YAML.
NO_JSON = {"serve", "server", "monitor run", "verify-self", "monitor rules"}
# Maps of the user's own data (or Docker's), whose keys are not ours to name.
USER_MAPS = {"tags", "metadata", "aliases", "labels", "pushed", "flavor_options"}
SNAKE = re.compile(r"[a-z][a-z0-9_]*")
VERSION_KEYS = {"name", "version", "digest", "flavor", "aliases", "tags", "created_at"}


def _loaded(command: Any) -> Any:
    """The command itself (the root lists each stage's commands unloaded)."""
    return command.loaded if isinstance(command, DeferredCommand) else command


def _leaf_commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, listed in group.commands.items():
        command = _loaded(listed)
        if hasattr(command, "commands"):  # a group (Typer builds them on its own click)
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def _command(path: tuple[str, ...]) -> Any:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = _loaded(command.commands[name])
    return command


COMMANDS = sorted(_leaf_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_but_a_foreground_server_has_json(path: tuple[str, ...]) -> None:
    options = {opt for p in _command(path).params for opt in getattr(p, "opts", [])}
    assert ("--json" in options) == (" ".join(path) not in NO_JSON)


def check_convention(value: Any, key: str = "") -> None:
    """Keys are snake_case outside user maps; ``*_at`` are ISO times with a UTC offset."""
    if isinstance(value, list):
        for item in value:
            check_convention(item, key)
    elif isinstance(value, dict) and key not in USER_MAPS:
        for name, item in value.items():
            assert SNAKE.fullmatch(name), f"key {name!r} is not snake_case"
            if name.endswith("_at") or name == "at":
                assert datetime.fromisoformat(item).utcoffset() is not None, (name, item)
            if name == "version" and item is not None:
                assert isinstance(item, int), (name, item)
            check_convention(item, name)


def run_json(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # exactly one document, nothing else on stdout
    check_convention(document)
    return document


def _is_version_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"name", "version", "digest"}


def _is_alias_move(value: Any) -> bool:
    return set(value) == {"changed", "event"} and isinstance(value["changed"], bool)


def test_model_commands_follow_the_convention(
    runner: CliRunner, iris: Settings, tmp_path: Path
) -> None:
    for listing in (
        ("models", "list"),
        ("models", "versions", "iris"),
        ("models", "history", "iris"),
    ):
        found = run_json(runner, *listing)
        assert isinstance(found, list) and found and all(isinstance(i, dict) for i in found)

    shown = run_json(runner, "models", "show", "iris:1")
    assert VERSION_KEYS <= set(shown)

    assert _is_alias_move(run_json(runner, "models", "alias", "set", "iris", "staging", "1"))
    unchanged = run_json(runner, "models", "alias", "set", "iris", "staging", "1")
    assert unchanged == {"changed": False, "event": None}
    assert _is_alias_move(run_json(runner, "models", "alias", "set", "iris", "production", "3"))
    assert _is_alias_move(run_json(runner, "models", "rollback", "iris", "production"))
    assert _is_alias_move(run_json(runner, "models", "alias", "rm", "iris", "staging"))

    archive = tmp_path / "iris-3.tar.gz"
    exported = run_json(runner, "models", "export", "iris:3", "-o", str(archive))
    assert set(exported) == {"model", "path"} and _is_version_ref(exported["model"])

    deleted = run_json(runner, "models", "delete", "iris:3")
    assert set(deleted) == {"deleted"} and all(_is_version_ref(v) for v in deleted["deleted"])

    imported = run_json(runner, "models", "import", str(archive))
    assert VERSION_KEYS <= set(imported)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


ERRORS: list[tuple[tuple[str, ...], str, int]] = [
    (("models", "show", "wine"), "NotFoundError", 3),
    (("models", "versions", "wine"), "NotFoundError", 3),
    (("models", "history", "wine"), "NotFoundError", 3),
    (("models", "alias", "set", "iris", "production", "9"), "NotFoundError", 3),
    (("models", "alias", "rm", "iris", "staging"), "NotFoundError", 3),
    (("models", "rollback", "wine", "production"), "NotFoundError", 3),
    (("models", "delete", "iris:2"), "ConflictError", 4),
    (("models", "delete", "iris"), "InvalidInputError", 2),
    (("models", "export", "wine:1", "-o", "wine.tar.gz"), "NotFoundError", 3),
    (("models", "import", "missing.tar.gz"), "StoreError", 10),
    (("demo", "--no-serve", "--name", "Not A Name"), "InvalidNameError", 2),
    (("build", "wine:1"), "NotFoundError", 3),
    (("dockerfile", "wine:1", "-o", "ctx"), "NotFoundError", 3),
    (("push", "127.0.0.1:1/none:1"), "DockerUnavailableError", 6),
    (("models", "tag", "set", "wine", "1", "team=risk"), "NotFoundError", 3),
    (("models", "tag", "rm", "wine", "1", "team"), "NotFoundError", 3),
    (("models", "keygen", "/dev/null/team.key"), "ConfigError", 2),
    (("models", "sign", "wine:1", "--key", "missing.key"), "NotFoundError", 3),
    (("models", "signatures", "wine:1"), "NotFoundError", 3),
    (("verify", "wine:1"), "DockerUnavailableError", 6),
    (("stop", "nope"), "DockerUnavailableError", 6),
    (("predict", "wine:1", "in.parquet", "-o", "out.parquet"), "NotFoundError", 3),
    (("deploy", "wine:1"), "DockerUnavailableError", 6),
    *(
        (("deployments", command, "nope", *extra), "NotFoundError", 3)
        for command, extra in (
            ("status", ()),
            ("history", ()),
            ("scale", ("2",)),
            ("update", ("wine:1",)),
            ("rollback", ()),
            ("rm", ()),
            ("canary", ("wine:1",)),
            ("promote", ()),
            ("abort", ()),
            ("watch", ("--once",)),
            ("follow", ("wine@production",)),
        )
    ),
    (("runs", "show", "nope"), "NotFoundError", 3),
    (("runs", "compare", "nope", "nope2"), "NotFoundError", 3),
    (("runs", "rm", "nope"), "NotFoundError", 3),
    (("runs", "list", "--experiment", "nope"), "NotFoundError", 3),
    (("experiments", "create", "Default"), "ConflictError", 4),
    (("experiments", "rm", "nope"), "NotFoundError", 3),
    (("server", "keys", "add", "no spaces"), "InvalidNameError", 2),
    (("server", "keys", "rm", "nope"), "NotFoundError", 3),
    (("monitor", "show", "wine:1"), "NotFoundError", 3),
    (("monitor", "report", "wine:1", "-o", "report.html"), "NotFoundError", 3),
    (("monitor", "feedback", "missing.csv", "--model", "wine"), "InvalidInputError", 2),
    (("pipeline", "show", "missing.py"), "NotFoundError", 3),
    (("pipeline", "run", "missing.py"), "NotFoundError", 3),
    (("pipeline", "export", "missing.py", "--to", "kubernetes", "-o", "out"), "NotFoundError", 3),
    (("pipeline", "runs", "show", "nope"), "NotFoundError", 3),
]


@pytest.mark.parametrize(("args", "kind", "code"), ERRORS, ids=[" ".join(a) for a, _, _ in ERRORS])
def test_errors_are_one_json_document_with_type_message_and_exit_code(
    runner: CliRunner,
    iris: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    kind: str,
    code: int,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")

    result = runner.invoke(app, [*args, "--json"])

    assert result.exit_code == code, result.output
    error = json.loads(result.stdout)["error"]
    assert set(error) == {"type", "message", "exit_code"}
    assert (error["type"], error["exit_code"]) == (kind, code)
    assert error["message"]


def test_run_error_is_json_too(runner: CliRunner, iris: Settings, busy_port: int) -> None:
    result = runner.invoke(app, ["run", "shipyard/iris:1", "--port", str(busy_port), "--json"])

    assert result.exit_code == 7
    assert json.loads(result.stdout)["error"]["type"] == "AddressInUseError"


LISTINGS = [
    ("models", "list"),
    ("deployments", "list"),
    ("experiments", "list"),
    ("pipeline", "runs", "list"),
    ("server", "keys", "list"),
]


@pytest.mark.parametrize("listing", LISTINGS, ids=" ".join)
def test_list_error_is_json_too(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listing: tuple[str, ...]
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "a-file" / "home"))
    monkeypatch.delenv("SHIPYARD_DB_URL", raising=False)

    result = runner.invoke(app, [*listing, "--json"])

    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["type"] == "ConfigError"


def test_the_error_cases_cover_every_json_command() -> None:
    tried = {path for path in COMMANDS for args, _, _ in ERRORS if args[: len(path)] == path}
    wanted = {path for path in COMMANDS if " ".join(path) not in NO_JSON}
    # the others have a test of their own just above
    assert wanted - tried == {("run",), *LISTINGS}
