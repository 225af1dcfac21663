"""Separate processes publishing at once get consecutive unique numbers; a save killed with
SIGKILL half way leaves no visible half version and the next save works."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from shipyard.config import Settings
from shipyard.database.engine import WRITE_OPTION
from shipyard.models.manifest import MANIFEST_FILE
from shipyard.registry import Registry
from shipyard.registry.digest import hash_tree

from .conftest import MakeFolder
from .handmade import write_model_folder
from .registry_worker import publish_one, worker_context

pytestmark = pytest.mark.slow


def _start_worker(
    env: dict[str, str], payload: str, workdir: Path, start: Path | None = None
) -> BaseProcess:
    process = worker_context().Process(
        target=publish_one, args=(env, "iris", payload, workdir, start), daemon=True
    )
    process.start()
    return process


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.01)


def test_eight_processes_publishing_at_once_get_versions_one_to_eight(
    registry_env: dict[str, str], tmp_path: Path
) -> None:
    start = tmp_path / "start"
    payloads = [f"payload-{i}" for i in range(8)]
    workers = [_start_worker(dict(os.environ), p, tmp_path, start) for p in payloads]
    try:
        _wait_for(lambda: all((tmp_path / f"ready-{p}").exists() for p in payloads), "workers")
        start.touch()
        for worker in workers:
            worker.join(timeout=120)
    finally:
        for worker in workers:
            worker.kill()
            worker.join()

    assert [w.exitcode for w in workers] == [0] * 8
    results = [json.loads((tmp_path / f"result-{p}.json").read_text()) for p in payloads]
    reported = {r["version"]: r["payload"] for r in results}
    assert sorted(reported) == list(range(1, 9))
    with Registry.from_settings(Settings.from_env(registry_env)) as registry:
        assert [v.version for v in registry.list_versions("iris")] == list(range(1, 9))
        for number, payload in reported.items():
            fetched = registry.fetch(f"iris:{number}")
            assert (fetched / "model.bin").read_bytes() == payload.encode()


@contextmanager
def _writers_blocked(registry: Registry, backend: str) -> Iterator[Callable[[], bool]]:
    """Hold a lock that stops a publisher inside (PostgreSQL) or at (SQLite) its transaction.

    Yields a predicate telling whether a publisher is now waiting on that lock.
    """
    if backend == "sqlite":
        with registry.metadata.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin() as transaction:  # BEGIN IMMEDIATE: the write lock
                yield lambda: True
                transaction.rollback()
        return
    pg_url = registry.metadata.engine.url.set(drivername="postgresql")
    dsn = pg_url.render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, psycopg.connect(dsn, autocommit=True) as probe:
        conn.execute("LOCK TABLE registry_version_files IN SHARE MODE")

        def is_waiting() -> bool:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE 'INSERT INTO registry_version_files%'"
            ).fetchone()
            return bool(row and row[0] == 1)

        yield is_waiting
        conn.rollback()


def test_save_killed_half_way_leaves_no_half_version(
    registry: Registry, backend: str, make_folder: MakeFolder, tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"version one"))
    payload = "killed-payload"

    with _writers_blocked(registry, backend) as publisher_is_waiting:
        worker = _start_worker(dict(os.environ), payload, tmp_path)
        try:
            _wait_for(lambda: _all_blobs_stored(registry, tmp_path / f"folder-{payload}"), "upload")
            _wait_for(publisher_is_waiting, "the publisher to block on the lock")
            time.sleep(0.2)
            worker.kill()  # SIGKILL: no cleanup, no rollback from the worker's side
            worker.join(timeout=30)
        finally:
            worker.kill()
            worker.join()
    assert worker.exitcode == -signal.SIGKILL

    _wait_for(lambda: _no_other_sessions(registry, backend), "the killed session to end")
    assert [v.version for v in registry.list_versions("iris")] == [1]
    assert registry.list_models()[0].latest_version == 1
    if backend == "sqlite":
        with registry.metadata.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    folder = tmp_path / "again"
    manifest = write_model_folder(folder, payload.encode())
    again = registry.publish("iris", folder, manifest)
    assert again.version == 2
    assert (registry.fetch("iris:2") / "model.bin").read_bytes() == payload.encode()


def _all_blobs_stored(registry: Registry, folder: Path) -> bool:
    """True once every file of the worker's folder is in the artifact store."""
    if not (folder / MANIFEST_FILE).is_file():
        return False
    return all(registry.artifacts.exists(f.sha256) for f in hash_tree(folder))


def _no_other_sessions(registry: Registry, backend: str) -> bool:
    if backend == "sqlite":
        return True
    with registry.metadata.engine.connect() as conn:
        others = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
        ).scalar()
    return others == 0
