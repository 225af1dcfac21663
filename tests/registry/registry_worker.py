"""Publish one hand-made version from its own process, started by ``multiprocessing``.

Workers run in a ``forkserver`` context whose server preloads Shipyard, so eight of them start in
milliseconds instead of each importing numpy, SQLAlchemy and friends; each still opens its own
registry, database connections and artifact-store client.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from multiprocessing.context import ForkServerContext
from pathlib import Path

from shipyard.config import Settings
from shipyard.registry import Registry

from .handmade import write_model_folder

PRELOAD = (
    "shipyard.registry",
    "sqlalchemy.dialects.postgresql.psycopg",
    "s3fs",
    "aiobotocore.session",
)


def worker_context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, __name__])
    return context


def publish_one(
    env: dict[str, str], name: str, payload: str, workdir: Path, start: Path | None
) -> None:
    """Open the registry, signal ready, wait for ``start``, publish, record the version."""
    os.environ.update(env)
    folder = workdir / f"folder-{payload}"
    manifest = write_model_folder(folder, payload.encode())
    with Registry.from_settings(Settings.from_env(env)) as registry:
        (workdir / f"ready-{payload}").touch()
        deadline = time.monotonic() + 60
        while start is not None and not start.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("no start signal")
            time.sleep(0.005)
        version = registry.publish(name, folder, manifest)
    result = {"version": version.version, "payload": payload}
    (workdir / f"result-{payload}.json").write_text(json.dumps(result))
