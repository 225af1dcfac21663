"""``shipyard server``'s guards, on one real server (SQLite) with access keys, a 1 MiB upload
limit and an extra allowed Host; the real mlflow client calls it with a token and basic auth."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow.exceptions import MlflowException
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.tracking.server.config import ServerConfig
from shipyard.tracking.server.keys import KeyFile
from shipyard.tracking.server.server import exposure_problem
from tests.tracking.conftest import RunningServer, running_server

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
API = "/api/2.0/mlflow"


@dataclass(frozen=True)
class Guarded:
    server: RunningServer
    home: Path
    writer: str
    reader: str

    @property
    def url(self) -> str:
        return self.server.url

    def headers(self, token: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.writer}", **extra}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    home = tmp_path_factory.mktemp("guarded-home")
    keys = KeyFile(home / "server-keys.json")
    writer, reader = keys.add("writer")[1], keys.add("reader", read_only=True)[1]
    env = {"SHIPYARD_HOME": str(home), "SHIPYARD_USER": "tester"}
    log = tmp_path_factory.mktemp("guarded-log") / "server.log"
    options = ("--max-upload-mb", "1", "--allowed-host", "tracking.example")
    options += ("--artifact-scheme", "file")
    with running_server(env, log, *options) as server:
        yield Guarded(server, home, writer, reader)


@pytest.fixture
def client_env(guarded: Guarded, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", guarded.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(guarded.url)
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _log_a_run(tmp_path: Path) -> str:
    """A run with a metric and an artifact, through the mlflow client; its id."""
    (tmp_path / "notes.txt").write_text("hello")
    mlflow.set_experiment(f"auth-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run() as run:
        mlflow.log_metric("auc", 0.9)
        mlflow.log_artifact(str(tmp_path / "notes.txt"))
    return str(run.info.run_id)


def test_mlflow_client_with_a_token_logs_runs_and_artifacts(
    guarded: Guarded, client_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", guarded.writer)
    run_id = _log_a_run(tmp_path)
    client = mlflow.MlflowClient(guarded.url)
    assert client.get_run(run_id).data.metrics == {"auc": 0.9}
    assert [f.path for f in client.list_artifacts(run_id)] == ["notes.txt"]


def test_mlflow_client_with_basic_auth_logs_runs(
    guarded: Guarded, client_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "writer")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", guarded.writer)
    run_id = _log_a_run(tmp_path)
    assert mlflow.MlflowClient(guarded.url).get_run(run_id).info.status == "FINISHED"


def test_a_listed_scheme_keeps_mlflows_file_location_example_working(
    guarded: Guarded, client_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", guarded.writer)
    location = (tmp_path / "mlruns").as_uri()
    experiment_id = mlflow.create_experiment(f"local-{uuid.uuid4().hex[:8]}", location)
    (tmp_path / "notes.txt").write_text("here")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_artifact(str(tmp_path / "notes.txt"))
    stored = tmp_path / "mlruns" / run.info.run_id / "artifacts" / "notes.txt"
    assert stored.read_text() == "here"


def test_a_read_only_key_reads_and_searches_but_cannot_write(
    guarded: Guarded, client_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", guarded.reader)
    client = mlflow.MlflowClient(guarded.url)
    assert client.search_experiments()  # a POST that only reads
    client.search_runs(["0"])
    with pytest.raises(MlflowException) as refused:
        client.create_experiment("read-only-write")
    assert refused.value.error_code == "PERMISSION_DENIED"
    deleted = httpx.delete(
        f"{guarded.url}{ARTIFACTS}/0/{'0' * 32}/artifacts/x",
        headers=guarded.headers(guarded.reader),
    )
    assert deleted.status_code == 403


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer sy_000000000000_" + "A" * 43, "Bearer nonsense", "Basic !!!", "Digest x"],
)
def test_missing_or_wrong_credentials_are_401(guarded: Guarded, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{guarded.url}{API}/experiments/get?experiment_id=0", headers=headers)
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Basic")
    assert httpx.get(f"{guarded.url}/health").status_code == 200  # probes stay open


def test_basic_auth_needs_the_keys_own_name(guarded: Guarded) -> None:
    wrong = httpx.get(f"{guarded.url}{API}/experiments/search", auth=("reader", guarded.writer))
    assert wrong.status_code == 401
    right = httpx.get(f"{guarded.url}{API}/experiments/search", auth=("writer", guarded.writer))
    assert right.status_code == 200


def test_a_cross_origin_browser_post_is_refused(guarded: Guarded) -> None:
    url = f"{guarded.url}{API}/experiments/create"
    body = json.dumps({"name": f"csrf-{uuid.uuid4().hex[:8]}"})
    for origin in ("http://attacker.example", "null", f"{guarded.url}.attacker.example"):
        headers = guarded.headers(Origin=origin, **{"Content-Type": "application/json"})
        refused = httpx.post(url, content=body, headers=headers)
        assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
    simple = guarded.headers(**{"Content-Type": "text/plain"})
    assert httpx.post(url, content=body, headers=simple).status_code == 415
    form = guarded.headers(**{"Content-Type": "application/x-www-form-urlencoded"})
    assert httpx.post(url, content=body, headers=form).status_code == 415
    same = guarded.headers(Origin=guarded.url, **{"Content-Type": "application/json"})
    assert httpx.post(url, content=body, headers=same).status_code == 200


@pytest.mark.parametrize("host", ["attacker.example", "127.0.0.1.nip.io:5000"])
def test_a_rebound_host_name_is_421(guarded: Guarded, host: str) -> None:
    headers = guarded.headers(Host=host)
    response = httpx.get(f"{guarded.url}{API}/experiments/search", headers=headers)
    assert response.status_code == 421 and "--allowed-host" in response.json()["message"]


@pytest.mark.parametrize("host", ["localhost:5000", "tracking.example", "[::1]:80", "10.0.0.7"])
def test_loopback_ip_and_allowed_host_names_are_served(guarded: Guarded, host: str) -> None:
    response = httpx.get(
        f"{guarded.url}{API}/experiments/search", headers=guarded.headers(Host=host)
    )
    assert response.status_code == 200


def _eventually(url: str, headers: dict[str, str], status: int) -> None:
    deadline = time.monotonic() + 10
    while httpx.get(url, headers=headers).status_code != status:
        assert time.monotonic() < deadline, f"never {status}"
        time.sleep(0.2)


def test_keys_added_or_removed_apply_without_a_restart(guarded: Guarded) -> None:
    keys = KeyFile(guarded.home / "server-keys.json")
    token = keys.add("temporary")[1]
    url = f"{guarded.url}{API}/experiments/search"
    _eventually(url, guarded.headers(token), 200)
    keys.remove("temporary")
    _eventually(url, guarded.headers(token), 401)


def test_keys_are_stored_hashed_and_managed_from_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"SHIPYARD_HOME": str(tmp_path)}
    added = runner.invoke(app, ["server", "keys", "add", "ci", "--read-only", "--json"], env=env)
    assert added.exit_code == 0, added.output
    token = json.loads(added.stdout)["token"]
    stored = (tmp_path / "server-keys.json").read_text()
    assert token not in stored and token.split("_")[2] not in stored
    assert (tmp_path / "server-keys.json").stat().st_mode & 0o077 == 0
    listed = runner.invoke(app, ["server", "keys", "list", "--json"], env=env)
    assert [(k["name"], k["scope"]) for k in json.loads(listed.stdout)["keys"]] == [("ci", "read")]
    again = runner.invoke(app, ["server", "keys", "add", "ci"], env=env)
    assert again.exit_code != 0 and "exists" in again.output
    assert runner.invoke(app, ["server", "keys", "rm", "ci"], env=env).exit_code == 0
    assert KeyFile(tmp_path / "server-keys.json").load() == ()


def test_a_non_loopback_host_without_keys_refuses_to_start(tmp_path: Path) -> None:
    every = "0.0.0.0"  # noqa: S104
    result = CliRunner().invoke(
        app, ["server", "--host", every], env={"SHIPYARD_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2 and "--insecure" in result.output
    assert exposure_problem(ServerConfig(host=every, insecure=True), has_keys=False) is None
    assert exposure_problem(ServerConfig(host=every), has_keys=True) is None
    assert exposure_problem(ServerConfig(host="::1"), has_keys=False) is None


# -- the upload limit ----------------------------------------------------------------------------


def _artifact_url(guarded: Guarded) -> str:
    """Where a new run's ``blob.bin`` artifact goes."""
    created = httpx.post(
        f"{guarded.url}{API}/runs/create", json={"experiment_id": "0"}, headers=guarded.headers()
    )
    run_id = created.json()["run"]["info"]["run_id"]
    return f"{guarded.url}{ARTIFACTS}/0/{run_id}/artifacts/blob-{uuid.uuid4().hex[:6]}.bin"


def test_upload_within_the_limit_is_stored(guarded: Guarded) -> None:
    url = _artifact_url(guarded)
    assert httpx.put(url, content=b"x" * 1024, headers=guarded.headers()).status_code == 200
    assert httpx.get(url, headers=guarded.headers()).content == b"x" * 1024


def test_upload_declared_over_the_limit_is_413_before_it_is_sent(guarded: Guarded) -> None:
    host, port = guarded.url.removeprefix("http://").split(":")
    path = _artifact_url(guarded).removeprefix(guarded.url)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + f"Authorization: Bearer {guarded.writer}\r\n".encode()
            + f"Content-Length: {2**20 + 1}\r\n\r\n".encode()
        )
        reply = b""
        while b"1 MiB" not in reply and (chunk := sock.recv(65536)):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413")
    assert not list((guarded.home / "tmp").glob("upload-*"))


def test_chunked_upload_is_refused_once_it_passes_the_limit(guarded: Guarded) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):  # 2.5 MiB
            yield b"y" * 65536

    url = _artifact_url(guarded)
    response = httpx.put(url, content=chunks(), headers=guarded.headers())
    assert response.status_code == 413
    assert response.json()["error_code"] == "REQUEST_TOO_LARGE"
    assert httpx.get(url, headers=guarded.headers()).status_code == 404
    assert not list((guarded.home / "tmp").glob("upload-*"))
